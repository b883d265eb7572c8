package storetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

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

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine, as the
// real one does, so that a helper's failure can be checked.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestFullDiskFailsTheTestWhenTheStoreCannotOpen(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		FullDisk(rec, notADir)
	}()
	<-done
	if !strings.Contains(rec.msg, "opening the store on a full disk") {
		t.Errorf("FullDisk on a file: Fatalf(%q), want it to fail the test saying what it was opening", rec.msg)
	}
}
