package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// APIKeyPrefix starts every key this package makes, so leaked keys are recognisable (secret
// scanners) and other bearer strings are refused without a lookup.
const APIKeyPrefix = "pmk_"

// apiKeyBytes is the randomness of a key.
const apiKeyBytes = 32

// apiKeyShownPrefix is how many characters of a key are kept to tell keys apart ("pmk_ABCDEFGH").
const apiKeyShownPrefix = len(APIKeyPrefix) + 8

// BootstrapKeyID is the id of the principal of the Caddyfile's api_key.
const BootstrapKeyID = "config"

// MaxKeyNameLength bounds an API key's name.
const MaxKeyNameLength = 64

// ErrInvalidKey means a presented key is unknown, revoked or malformed.
var ErrInvalidKey = errors.New("invalid API key")

// keyEncoding is base32 without padding (A–Z, 2–7).
var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewAPIKey returns a fresh key: "pmk_" + 32 random bytes in base32 (56 characters).
func NewAPIKey() string {
	b := make([]byte, apiKeyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return APIKeyPrefix + keyEncoding.EncodeToString(b)
}

// HashAPIKey returns the hex SHA-256 of a key, the form it is stored and looked up in. Keys carry
// 256 random bits, so a fast hash is enough (no password stretching needed).
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// wellFormedKey reports whether key has NewAPIKey's shape.
func wellFormedKey(key string) bool {
	if !strings.HasPrefix(key, APIKeyPrefix) {
		return false
	}
	body := key[len(APIKeyPrefix):]
	b, err := keyEncoding.DecodeString(body)
	// The decoder ignores the unused low bits of the last character; only the one spelling
	// NewAPIKey writes is well formed.
	return err == nil && len(b) == apiKeyBytes && keyEncoding.EncodeToString(b) == body
}

// APIKeyOptions configures APIKeys.
type APIKeyOptions struct {
	// Store holds the keys (required).
	Store *storage.Store
	// Bootstrap is the Caddyfile's api_key ("" for none): it authenticates as an admin key.
	Bootstrap string
	// Now is the clock (time.Now).
	Now func() time.Time
}

// APIKeys creates, checks and revokes REST API keys. Only hashes are stored; a key is shown once,
// when it is created.
type APIKeys struct {
	opts          APIKeyOptions
	bootstrapHash [sha256.Size]byte
}

// NewAPIKeys returns APIKeys over opts.Store.
func NewAPIKeys(opts APIKeyOptions) (*APIKeys, error) {
	if opts.Store == nil {
		return nil, errors.New("api keys: no store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	k := &APIKeys{opts: opts}
	if opts.Bootstrap != "" {
		k.bootstrapHash = sha256.Sum256([]byte(opts.Bootstrap))
	}
	return k, nil
}

// CheckKeyName validates a key's name: 1–64 printable characters. The error is an
// *InvalidError for the field "name".
func CheckKeyName(name string) error {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return &InvalidError{Field: "name", Reason: "Give the key a name."}
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }):
		return &InvalidError{Field: "name", Reason: "Use printable characters only."}
	case utf8.RuneCountInString(name) > MaxKeyNameLength:
		return &InvalidError{Field: "name", Reason: fmt.Sprintf("Use at most %d characters.", MaxKeyNameLength)}
	}
	return nil
}

// Create makes a key named name with role, recorded as created by createdBy, and returns the key
// itself (to show once) with its stored record.
func (k *APIKeys) Create(name, role, createdBy string) (string, storage.APIKey, error) {
	if err := CheckKeyName(name); err != nil {
		return "", storage.APIKey{}, err
	}
	switch role {
	case storage.RoleAdmin, storage.RoleModerator, storage.RoleAuditor:
	default:
		return "", storage.APIKey{}, &InvalidError{Field: "role", Reason: "Choose admin, moderator or auditor."}
	}
	key := NewAPIKey()
	rec := storage.APIKey{
		ID:        storage.NewID(),
		Name:      strings.TrimSpace(name),
		Prefix:    key[:apiKeyShownPrefix],
		Hash:      HashAPIKey(key),
		Role:      role,
		CreatedBy: createdBy,
		CreatedAt: k.opts.Now().UTC(),
	}
	if err := k.opts.Store.PutAPIKey(rec); err != nil {
		return "", storage.APIKey{}, fmt.Errorf("storing the API key: %w", err)
	}
	return key, rec, nil
}

// Authenticate returns the record of key, recording its use. Unknown, malformed and revoked keys
// fail with ErrInvalidKey. The bootstrap key yields a record with ID BootstrapKeyID and the admin
// role.
func (k *APIKeys) Authenticate(key string) (storage.APIKey, error) {
	if k.opts.Bootstrap != "" {
		sum := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(sum[:], k.bootstrapHash[:]) == 1 {
			return storage.APIKey{ID: BootstrapKeyID, Name: "Caddyfile api_key", Role: storage.RoleAdmin}, nil
		}
	}
	if !wellFormedKey(key) {
		return storage.APIKey{}, ErrInvalidKey
	}
	rec, err := k.opts.Store.APIKeyByHash(HashAPIKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.APIKey{}, ErrInvalidKey
	}
	if err != nil {
		return storage.APIKey{}, fmt.Errorf("looking up an API key: %w", err)
	}
	if rec.RevokedAt != nil {
		return storage.APIKey{}, ErrInvalidKey
	}
	// A full data disk refuses the last-used stamp; the key still works (reads go on while the
	// administrator frees space).
	if err := k.opts.Store.TouchAPIKey(rec.ID, k.opts.Now().UTC()); err != nil && !errors.Is(err, storage.ErrDiskFull) {
		return storage.APIKey{}, fmt.Errorf("recording an API key's use: %w", err)
	}
	return rec, nil
}

// Revoke revokes key id (idempotent).
func (k *APIKeys) Revoke(id string) (storage.APIKey, error) {
	rec, err := k.opts.Store.RevokeAPIKey(id, k.opts.Now().UTC())
	if err != nil {
		return storage.APIKey{}, fmt.Errorf("revoking an API key: %w", err)
	}
	return rec, nil
}

// List returns every key, oldest first.
func (k *APIKeys) List() ([]storage.APIKey, error) {
	keys, err := k.opts.Store.ListAPIKeys()
	if err != nil {
		return nil, fmt.Errorf("listing API keys: %w", err)
	}
	return keys, nil
}
