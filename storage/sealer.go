package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the size of a sealing key: AES-256.
const KeySize = 32

// sealPrefix starts every sealed value, so sealed values are recognisable and the format can change
// later (v2:…) without guessing. It is also the AEAD's additional data.
const sealPrefix = "sealed:v1:"

// ErrUnseal means a sealed value could not be opened: it is malformed, was tampered with, or was
// sealed with another key. The error never contains the value.
var ErrUnseal = errors.New("cannot open sealed value")

// Sealer encrypts secrets at rest (the Plex token, Discord secrets) with AES-256-GCM. It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealing key must be %d bytes, got %d: %w", KeySize, len(key), ErrInvalid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// IsSealed reports whether s looks like a value produced by Seal.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealPrefix) }

// Seal encrypts plaintext with a fresh random nonce and returns "sealed:v1:" followed by the base64url
// nonce and ciphertext. The empty string seals to the empty string (nothing to hide, and "no secret"
// stays recognisable).
func (s *Sealer) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealing: reading random nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(sealPrefix))
	return sealPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value produced by Seal with the same key. It fails with ErrUnseal when the value is
// not sealed, malformed, tampered with or sealed with another key. The empty string opens to itself.
func (s *Sealer) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !IsSealed(sealed) {
		return "", fmt.Errorf("value has no %q prefix: %w", sealPrefix, ErrUnseal)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(sealPrefix):])
	if err != nil {
		return "", fmt.Errorf("value is not base64url: %w", ErrUnseal)
	}
	ns := s.aead.NonceSize()
	if len(raw) < ns+s.aead.Overhead() {
		return "", fmt.Errorf("value is too short: %w", ErrUnseal)
	}
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(sealPrefix))
	if err != nil {
		return "", fmt.Errorf("wrong key or tampered value: %w", ErrUnseal)
	}
	return string(plain), nil
}

// LoadOrCreateKey returns a Sealer for the key file at path, creating the file with 32 random bytes
// (mode 0600, parent directory 0700) if it does not exist. Keep the key out of the Badger directory,
// e.g. <data_dir>/secret.key next to <data_dir>/db, so a copy of the database alone does not carry its
// key; LoadOrCreateKey refuses a directory that holds a Badger database. An existing key file that
// others can read (on Unix) or that is not 32 bytes is refused.
func LoadOrCreateKey(path string) (*Sealer, error) {
	key, err := loadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	return NewSealer(key)
}

// loadOrCreateKey reads or creates the key file.
func loadOrCreateKey(path string) ([]byte, error) {
	if strings.TrimSpace(path) == "" {
		return nil, fmt.Errorf("secret key path is empty: %w", ErrInvalid)
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil {
		return nil, fmt.Errorf("secret key %q must not live inside the Badger directory %q: %w", path, dir, ErrInvalid)
	}
	key, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating directory of secret key %q: %w", path, err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating secret key: %w", err)
	}
	if err := writeKeyFile(path, key); err != nil {
		if errors.Is(err, fs.ErrExist) { // created meanwhile by someone else: use theirs
			return readKeyFile(path)
		}
		return nil, err
	}
	return key, nil
}

// readKeyFile reads and checks an existing key file.
func readKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret key %q: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key %q is not a regular file: %w", path, ErrInvalid)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key %q is accessible to other users (mode %04o); run chmod 600 on it: %w",
			path, info.Mode().Perm(), ErrInvalid)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret key %q: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key %q holds %d bytes, want %d: %w", path, len(key), KeySize, ErrInvalid)
	}
	return key, nil
}

// writeKeyFile writes key to a temporary file in path's directory and links it into place, so no
// reader ever sees a partial key and an existing file is never overwritten (fs.ErrExist).
func writeKeyFile(path string, key []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*")
	if err != nil {
		return fmt.Errorf("creating secret key %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("creating secret key %q: %w", path, err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return fmt.Errorf("writing secret key %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing secret key %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing secret key %q: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// Some file systems have no hard links: fall back to an exclusive create.
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr != nil {
			return ferr
		}
		if _, werr := f.Write(key); werr != nil {
			f.Close()
			os.Remove(path)
			return fmt.Errorf("writing secret key %q: %w", path, werr)
		}
		if cerr := f.Close(); cerr != nil {
			os.Remove(path)
			return fmt.Errorf("writing secret key %q: %w", path, cerr)
		}
	}
	return nil
}
