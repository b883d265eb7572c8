package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// NewID returns a random identifier: 128 bits from crypto/rand as 32 lower-case hex digits.
func NewID() string {
	return randomHex(16)
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return hex.EncodeToString(b)
}

// eventIDLen is the length of an event id: 16 hex digits of time, 16 of randomness.
const eventIDLen = 32

// NewEventID returns an event id that sorts by time: intKey of now's Unix nanoseconds followed by 64
// random bits, 32 hex digits in all. Ids of events at the same nanosecond order randomly.
func NewEventID(now time.Time) string {
	return timeKey(now) + randomHex(8)
}

// validEventID reports whether id has NewEventID's shape.
func validEventID(id string) bool {
	if len(id) != eventIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// PendingUserID returns the synthetic negative user id of an invitee known only by email: the
// SHA-256 of the trimmed, lower-cased address, 63 bits of it, negated. plex.tv account ids are
// positive, so the two never collide; the same address always yields the same id.
func PendingUserID(email string) int64 {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	v := int64(binary.BigEndian.Uint64(sum[:8]) &^ (1 << 63))
	if v == 0 {
		return -1
	}
	return -v
}

// newUUID returns a random (version 4) UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
