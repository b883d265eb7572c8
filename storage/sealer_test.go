package storage

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func newTestSealer(t *testing.T) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{7}, KeySize))
	mustNil(t, err, "NewSealer")
	return s
}

func TestSealRoundTrip(t *testing.T) {
	s := newTestSealer(t)
	for _, plain := range []string{"x", "plex-token-abc123", strings.Repeat("ü", 1000)} {
		sealed, err := s.Seal(plain)
		mustNil(t, err, "Seal")
		if !IsSealed(sealed) || (len(plain) > 4 && strings.Contains(sealed, plain)) {
			t.Fatalf("Seal(%q) = %q", plain, sealed)
		}
		again, _ := s.Seal(plain)
		if again == sealed {
			t.Fatal("two seals of the same value are equal (nonce reuse)")
		}
		opened, err := s.Open(sealed)
		mustNil(t, err, "Open")
		if opened != plain {
			t.Fatalf("Open = %q, want %q", opened, plain)
		}
	}
	empty, err := s.Seal("")
	mustNil(t, err, "Seal empty")
	if empty != "" {
		t.Fatalf("Seal(\"\") = %q", empty)
	}
	opened, err := s.Open("")
	mustNil(t, err, "Open empty")
	if opened != "" {
		t.Fatalf("Open(\"\") = %q", opened)
	}
}

func TestSealOpenRejectsTamperingAndWrongKey(t *testing.T) {
	s := newTestSealer(t)
	sealed, err := s.Seal("secret-token")
	mustNil(t, err, "Seal")
	raw, _ := base64.RawURLEncoding.DecodeString(sealed[len(sealPrefix):])
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return sealPrefix + base64.RawURLEncoding.EncodeToString(b)
	}
	other, err := NewSealer(bytes.Repeat([]byte{8}, KeySize))
	mustNil(t, err, "NewSealer other")
	tests := []struct {
		name   string
		sealer *Sealer
		in     string
	}{
		{"flipped nonce bit", s, flip(0)},
		{"flipped ciphertext bit", s, flip(len(raw) / 2)},
		{"flipped tag bit", s, flip(len(raw) - 1)},
		{"truncated", s, sealed[:len(sealed)-4]},
		{"too short", s, sealPrefix + "AAAA"},
		{"not base64", s, sealPrefix + "!!!"},
		{"no prefix (plaintext)", s, "secret-token"},
		{"other version", s, "sealed:v2:" + sealed[len(sealPrefix):]},
		{"wrong key", other, sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.in)
			wantErr(t, err, ErrUnseal, "Open")
			if got != "" || strings.Contains(err.Error(), "secret-token") {
				t.Fatalf("Open leaked: %q, %v", got, err)
			}
		})
	}
	for _, n := range []int{0, 16, 31, 33} {
		_, err := NewSealer(make([]byte, n))
		wantErr(t, err, ErrInvalid, "NewSealer with a short key")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dataDir, "secret.key")
	s1, err := LoadOrCreateKey(path)
	mustNil(t, err, "LoadOrCreateKey create")
	info, err := os.Stat(path)
	mustNil(t, err, "stat key")
	if info.Size() != KeySize {
		t.Fatalf("key file has %d bytes", info.Size())
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	sealed, err := s1.Seal("token")
	mustNil(t, err, "Seal")
	s2, err := LoadOrCreateKey(path)
	mustNil(t, err, "LoadOrCreateKey load")
	opened, err := s2.Open(sealed)
	mustNil(t, err, "Open with the reloaded key")
	if opened != "token" {
		t.Fatalf("Open = %q", opened)
	}
	entries, _ := os.ReadDir(dataDir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left next to the key: %v", entries)
	}
}

func TestLoadOrCreateKeyRefusals(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	mustNil(t, os.WriteFile(short, []byte("too short"), 0o600), "write short")
	_, err := LoadOrCreateKey(short)
	wantErr(t, err, ErrInvalid, "short key file")

	if runtime.GOOS != "windows" {
		open := filepath.Join(dir, "open.key")
		mustNil(t, os.WriteFile(open, make([]byte, KeySize), 0o600), "write open")
		mustNil(t, os.Chmod(open, 0o644), "chmod")
		_, err = LoadOrCreateKey(open)
		wantErr(t, err, ErrInvalid, "world-readable key file")
	}

	_, err = LoadOrCreateKey(dir) // a directory
	wantErr(t, err, ErrInvalid, "directory as key")

	_, err = LoadOrCreateKey("")
	wantErr(t, err, ErrInvalid, "empty path")

	// Inside a Badger directory.
	dbDir := filepath.Join(dir, "db")
	st := newDiskStore(t, dbDir)
	mustNil(t, st.Close(), "Close")
	_, err = LoadOrCreateKey(filepath.Join(dbDir, "secret.key"))
	wantErr(t, err, ErrInvalid, "key inside the Badger directory")
}
