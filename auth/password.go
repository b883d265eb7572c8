package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters, written into every hash so they can change later without
// invalidating stored hashes.
type Params struct {
	// Time is the number of passes over memory.
	Time uint32
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
}

// DefaultParams are the parameters of new hashes: the same as `caddy hash-password --algorithm
// argon2id` (t=1, m=46 MiB, p=1, 32-byte key, 16-byte salt; OWASP's second recommended set),
// about 50 ms per hash on a small machine.
var DefaultParams = Params{Time: 1, MemoryKiB: 46 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

// Limits on parameters read from a stored hash: a hash pasted into the config must not be able to
// make one verification take gigabytes or minutes.
const (
	maxTime      = 16
	maxMemoryKiB = 256 * 1024
	maxThreads   = 16
	minKeyLen    = 16
	maxKeyLen    = 64
	minSaltLen   = 8
	maxSaltLen   = 64
)

// MaxPasswordBytes bounds the input of hashing (longer passwords are refused before hashing).
const MaxPasswordBytes = 1024

// ErrMalformedHash means a stored hash is not an argon2id PHC string this package accepts.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// DefaultMaxConcurrentHashes is how many hashes may run at once by default: each takes MemoryKiB
// of memory, so the limit bounds memory use under a flood of sign-in attempts.
const DefaultMaxConcurrentHashes = 2

// Hasher hashes and verifies passwords with argon2id. At most a fixed number of hashes run at
// once; callers beyond that wait (or give up when their context ends). It is safe for concurrent
// use.
type Hasher struct {
	params Params
	sem    chan struct{}

	fakeOnce sync.Once
	fake     string
}

// NewHasher returns a Hasher for params allowing maxConcurrent simultaneous hashes
// (DefaultMaxConcurrentHashes if ≤ 0).
func NewHasher(params Params, maxConcurrent int) (*Hasher, error) {
	if err := params.check(); err != nil {
		return nil, err
	}
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrentHashes
	}
	return &Hasher{params: params, sem: make(chan struct{}, maxConcurrent)}, nil
}

// check refuses parameters outside the accepted bounds.
func (p Params) check() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id: time %d out of range 1–%d", p.Time, maxTime)
	case p.MemoryKiB < 8*uint32(max(p.Threads, 1)) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id: memory %d KiB out of range", p.MemoryKiB)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("argon2id: threads %d out of range 1–%d", p.Threads, maxThreads)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id: key length %d out of range %d–%d", p.KeyLen, minKeyLen, maxKeyLen)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id: salt length %d out of range %d–%d", p.SaltLen, minSaltLen, maxSaltLen)
	}
	return nil
}

// acquire waits for a hashing slot.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting to hash a password: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=<KiB>,t=<time>,p=<threads>$<salt>$<key> (unpadded standard base64), the format
// Caddy's hash-password prints and its basic_auth accepts.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("password longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return encodeHash(h.params, salt, argon2.IDKey([]byte(password), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)), nil
}

// encodeHash writes the PHC string.
func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decodeHash parses a PHC string, refusing other algorithms, versions and out-of-range costs.
func decodeHash(encoded string) (Params, []byte, []byte, error) {
	// The base64 decoder skips line breaks even in strict mode; a hash has none.
	if strings.ContainsAny(encoded, "\r\n") {
		return Params{}, nil, nil, ErrMalformedHash
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: unsupported version", ErrMalformedHash)
	}
	var p Params
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			// Each cost is given once: with a repeat, which one counts would be a guess.
			return Params{}, nil, nil, ErrMalformedHash
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, nil, nil, ErrMalformedHash
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Params{}, nil, nil, ErrMalformedHash
			}
			p.Threads = uint8(n)
		default:
			return Params{}, nil, nil, ErrMalformedHash
		}
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	p.KeyLen, p.SaltLen = uint32(len(key)), uint32(len(salt))
	if err := p.check(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// CheckHash reports whether encoded is an argon2id hash Verify accepts (for hashes pasted into
// the config).
func CheckHash(encoded string) error {
	_, _, _, err := decodeHash(encoded)
	return err
}

// Verify reports whether password matches encoded, comparing in constant time. A malformed hash
// is an error (and never matches).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordBytes {
		// Still spend the time, so length does not show.
		_, _ = h.VerifyUnknown(ctx, "")
		return false, nil
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// VerifyUnknown spends the same work as Verify against a fake hash, for sign-ins with an unknown
// name or an account without a password, so response times do not reveal which names exist. It
// always reports false.
func (h *Hasher) VerifyUnknown(ctx context.Context, password string) (bool, error) {
	h.fakeOnce.Do(func() {
		salt := make([]byte, h.params.SaltLen)
		_, _ = rand.Read(salt)
		key := make([]byte, h.params.KeyLen)
		_, _ = rand.Read(key)
		h.fake = encodeHash(h.params, salt, key)
	})
	if len(password) > MaxPasswordBytes {
		password = password[:MaxPasswordBytes]
	}
	_, err := h.Verify(ctx, h.fake, password)
	return false, err
}

// NeedsRehash reports whether encoded was made with other parameters than the Hasher's, so a
// successful sign-in can store a fresh hash.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decodeHash(encoded)
	return err != nil || p != h.params
}
