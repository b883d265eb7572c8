package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4/options"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"in memory with a directory", Options{InMemory: true, Dir: t.TempDir()}},
		{"disk without a directory", Options{}},
		{"disk with a blank directory", Options{Dir: "  "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			wantErr(t, err, ErrInvalid, "Open")
		})
	}
}

func TestBadgerOptionsProfile(t *testing.T) {
	bo, err := DefaultOptions("/tmp/x", nil).badgerOptions()
	mustNil(t, err, "badgerOptions")
	checks := []struct {
		name      string
		got, want int64
	}{
		{"MemTableSize", bo.MemTableSize, 8 << 20},
		{"NumMemtables", int64(bo.NumMemtables), 2},
		{"NumLevelZeroTables", int64(bo.NumLevelZeroTables), 2},
		{"NumLevelZeroTablesStall", int64(bo.NumLevelZeroTablesStall), 4},
		{"BlockCacheSize", bo.BlockCacheSize, 8 << 20},
		{"IndexCacheSize", bo.IndexCacheSize, 4 << 20},
		{"ValueLogFileSize", bo.ValueLogFileSize, 64 << 20},
		{"NumCompactors", int64(bo.NumCompactors), 2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if bo.Compression != options.Snappy || bo.BlockCacheSize == 0 {
		t.Errorf("compression %v with block cache %d, want Snappy with a block cache", bo.Compression, bo.BlockCacheSize)
	}
	if !bo.SyncWrites {
		t.Error("DefaultOptions: SyncWrites off, want on")
	}
	mem, err := Options{InMemory: true, SyncWrites: true}.badgerOptions()
	mustNil(t, err, "badgerOptions in memory")
	if mem.SyncWrites {
		t.Error("in memory: SyncWrites on, want off")
	}
}

func TestOpenTwiceNamesDirectoryAndLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s := newDiskStore(t, dir)
	defer s.Close()
	s2, err := Open(DefaultOptions(dir, nil))
	if err == nil {
		s2.Close()
		t.Fatal("second Open of the same directory succeeded")
	}
	wantErr(t, err, ErrDirLocked, "second Open")
	for _, want := range []string{dir, "another Caddy config or process"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	mustNil(t, os.WriteFile(file, []byte("x"), 0o600), "write")
	_, err := Open(DefaultOptions(filepath.Join(file, "db"), nil))
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open below a file: got %v, want an error naming the path", err)
	}
}

func TestBadgerLoggerAtWarning(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	l := badgerLogger{zap.New(core).Sugar()}
	l.Debugf("debug %d", 1)
	l.Infof("info %d\n", 2)
	l.Warningf("warn %d\n", 3)
	l.Errorf("error %d", 4)
	got := logs.All()
	if len(got) != 2 || got[0].Message != "warn 3" || got[1].Message != "error 4" {
		t.Fatalf("logged %+v, want only the warning and the error, trimmed", got)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	mustNil(t, err, "Open")
	mustNil(t, s.Close(), "Close")
	mustNil(t, s.Close(), "second Close")
	wantErr(t, s.View(func(*Tx) error { return nil }), ErrClosed, "View after Close")
	wantErr(t, s.Update(func(*Tx) error { return nil }), ErrClosed, "Update after Close")
	_, err = s.ListUsers(UserQuery{})
	wantErr(t, err, ErrClosed, "ListUsers after Close")
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	s := newMemStore(t)
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.Settings().Put("x", 1); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom, "Update")
	var v int
	wantErr(t, s.GetSetting("x", &v), ErrNotFound, "GetSetting after aborted Update")
}

func TestViewIsReadOnly(t *testing.T) {
	s := newMemStore(t)
	err := s.View(func(tx *Tx) error { return tx.Settings().Put("x", 1) })
	if err == nil {
		t.Fatal("write in View succeeded")
	}
}

func TestRetryDelayBounds(t *testing.T) {
	for n := 1; n < 40; n++ {
		d := retryDelay(n)
		if d < retryBaseDelay/2 || d > retryMaxDelay*3/2 {
			t.Fatalf("retryDelay(%d) = %v out of bounds", n, d)
		}
	}
}
