package storetest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/internal/fataltest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestMemoryStoreWritesAndReads(t *testing.T) {
	st := Memory(t)
	if err := st.PutSetting("k", 7); err != nil {
		t.Fatalf("write: %v", err)
	}
	var got int
	if err := st.GetSetting("k", &got); err != nil || got != 7 {
		t.Fatalf("read back %d, %v; want 7", got, err)
	}
}

func TestMemoryStoreIsClosedAtTheEnd(t *testing.T) {
	var st *storage.Store
	t.Run("inner", func(t *testing.T) { st = Memory(t) })
	if err := st.PutSetting("k", 1); err == nil {
		t.Error("a write after the test ended succeeded; want the store closed")
	}
}

func TestFullDiskRefusesWritesKeepsReads(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(storage.Options{Dir: dir, ReserveBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSetting("kept", 3); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	full := FullDisk(t, dir)
	var got int
	if err := full.GetSetting("kept", &got); err != nil || got != 3 {
		t.Fatalf("read on the full disk: %d, %v; want 3", got, err)
	}
	if err := full.PutSetting("new", 1); !errors.Is(err, storage.ErrDiskFull) {
		t.Fatalf("write on the full disk: %v, want ErrDiskFull", err)
	}
}

func TestFullDiskFailsTheTestWhenTheStoreCannotOpen(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, fatal := fataltest.Run(t, func(tb testing.TB) { FullDisk(tb, notADir) })
	if !fatal || !strings.Contains(msg, "opening the store on a full disk") {
		t.Errorf("FullDisk on a file: Fatal %v %q, want it to fail the test saying what it was opening", fatal, msg)
	}
}
