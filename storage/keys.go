package storage

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"
)

// layoutPrefix starts every record and index key; a new key layout gets a new prefix and a migration.
const layoutPrefix = "v1/"

// schemaKey holds the schema version, outside the versioned prefix so any layout can find it.
const schemaKey = "meta/schema"

// keyOf builds "v1/part/part/…".
func keyOf(parts ...string) []byte {
	n := len(layoutPrefix)
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, layoutPrefix...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, '/')
		}
		b = append(b, p...)
	}
	return b
}

// prefixOf is keyOf with a trailing slash, for scans of everything below.
func prefixOf(parts ...string) []byte {
	return append(keyOf(parts...), '/')
}

// intKey encodes v as 16 hex digits of its big-endian bytes with the sign bit flipped, so lexical order
// of the ASCII key is numeric order (negative numbers first).
func intKey(v int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v)^(1<<63))
	return hex.EncodeToString(b[:])
}

// parseIntKey reverses intKey.
func parseIntKey(s string) (int64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("integer key %q: want 16 hex digits: %w", s, ErrInvalid)
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return 0, fmt.Errorf("integer key %q: %w", s, ErrInvalid)
	}
	return int64(binary.BigEndian.Uint64(b[:]) ^ (1 << 63)), nil
}

// timeKey encodes t as intKey of its Unix nanoseconds, clamped to the int64 range (years 1678–2262),
// so lexical order is time order.
func timeKey(t time.Time) string {
	return intKey(unixNanoClamped(t))
}

// unixNanoClamped is t.UnixNano for times it can represent and the nearest bound otherwise.
func unixNanoClamped(t time.Time) int64 {
	if t.Before(time.Unix(0, math.MinInt64)) {
		return math.MinInt64
	}
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

// lastSegment returns what follows the last '/' of key.
func lastSegment(key []byte) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' {
			return string(key[i+1:])
		}
	}
	return string(key)
}
