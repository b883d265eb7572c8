package storage

import (
	"errors"
	"testing"
	"time"
)

// newMemStore opens an in-memory store closed at the end of the test.
func newMemStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatalf("Open in memory: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newDiskStore opens a store in dir (not closed automatically).
func newDiskStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(DefaultOptions(dir, nil))
	if err != nil {
		t.Fatalf("Open %s: %v", dir, err)
	}
	return s
}

// mustNil fails the test on a non-nil error.
func mustNil(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// tp returns a pointer to a UTC time.
func tp(t time.Time) *time.Time {
	t = t.UTC()
	return &t
}

// base is a fixed reference time for tests.
var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// keysUnder lists every key under prefix (without the "v1/" layout prefix stripped).
func keysUnder(t testing.TB, s *Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.View(func(tx *Tx) error {
		ks, err := tx.scanKeys([]byte(prefix), 0)
		for _, k := range ks {
			keys = append(keys, string(k))
		}
		return err
	})
	mustNil(t, err, "scanning "+prefix)
	return keys
}

// sampleUser returns a valid active friend.
func sampleUser(id int64, username string) User {
	return User{
		ID: id, Username: username, Email: username + "@example.com", Title: username,
		Kind: KindFriend, Status: StatusActive, CreatedAt: base,
		Shares: map[string]Share{"srv1": {Libraries: []string{"1", "2"}}},
	}
}

// errorsIsNotFound reports whether err wraps ErrNotFound.
func errorsIsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
