package auth

import (
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// newStore opens an in-memory store closed at the end of the test.
func newStore(t testing.TB) *storage.Store {
	t.Helper()
	s, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newClock returns a settable clock that starts at the present time.
func newClock() *testclock.Clock { return testclock.New(time.Now()) }

// cheapParams keep test hashing fast (the format and code paths are the same).
var cheapParams = Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
