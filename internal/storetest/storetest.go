// Package storetest opens stores for tests: an in-memory one, and one on a data disk that is
// full (every write refused with storage.ErrDiskFull). Each is closed when the test ends.
package storetest

import (
	"errors"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Memory opens an in-memory store, closed at the end of the test.
func Memory(t testing.TB) *storage.Store {
	t.Helper()
	st, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatalf("opening an in-memory store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// FullDisk opens the store in dir (closed first by the caller) with a free-space guard no disk can
// satisfy: reads work and every write is refused with storage.ErrDiskFull, as on a full data disk.
// It fails the test unless a write is refused that way. The store is closed at the end of the
// test.
func FullDisk(t testing.TB, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(storage.Options{Dir: dir, MinFreeBytes: 1 << 62, ReserveBytes: -1})
	if err != nil {
		t.Fatalf("opening the store on a full disk: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.PutSetting("probe", 1); !errors.Is(err, storage.ErrDiskFull) {
		t.Fatalf("a write on the full-disk store: %v, want ErrDiskFull", err)
	}
	return st
}
