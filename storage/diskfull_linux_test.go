//go:build linux

package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDiskFullOnRealTmpfs drives the guard on a real, small file system: a 128 MiB tmpfs (mounting
// needs root; elsewhere the test is skipped and says so). Without the guard, Badger takes SIGBUS in its
// memory-mapped memtable log once the file system is full, and this test binary dies.
func TestDiskFullOnRealTmpfs(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=128m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): this test needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "db")
	s, err := Open(DefaultOptions(dir, nil))
	mustNil(t, err, "open")
	closed := false
	defer func() {
		if !closed {
			_ = s.Close()
		}
	}()
	if !reserveExists(dir) {
		t.Fatal("no reserve file on a 128 MiB file system")
	}

	// Leave 20 MiB above the write threshold, then write incompressible 4 KiB settings until refused.
	filler := filepath.Join(mnt, "filler")
	avail, err := freeSpace(dir)
	mustNil(t, err, "statfs")
	mustNil(t, fill(filler, int64(avail)-(defaultMinFree+20<<20)), "filling")
	var acked []string
	value := make([]byte, 2048)
	for i := 0; ; i++ {
		_, _ = rand.Read(value)
		name := fmt.Sprintf("s%05d", i)
		err := s.PutSetting(name, fmt.Sprintf("%x", value))
		if errors.Is(err, ErrDiskFull) {
			break
		}
		mustNil(t, err, "write with room")
		acked = append(acked, name)
		if i > 50_000 {
			t.Fatal("writes never refused")
		}
	}
	avail, _ = freeSpace(dir)
	t.Logf("%d writes accepted, then refused with %s free", len(acked), byteSize(avail))

	// Something else fills the disk completely: writes stay refused, reads work, nothing dies. It
	// fills it once Badger's compactions have settled: a compaction that is writing its output table
	// when another program takes the last byte still takes SIGBUS (a limit of Badger's mmapped tables
	// that no guard outside Badger can remove; the README says so).
	waitCompactionsSettled(t, s)
	mustNil(t, fill(filler+"2", 1<<40), "filling up")
	for range 20 {
		wantErr(t, s.PutSetting("after-full", "x"), ErrDiskFull, "write on a full disk")
	}
	var v string
	mustNil(t, s.GetSetting(acked[len(acked)-1], &v), "read on a full disk")
	wantErr(t, s.GC(), ErrDiskFull, "GC on a full disk")

	// Closing on the full disk: the reserve goes so the memtable flush has room.
	mustNil(t, s.Close(), "close on a full disk")
	closed = true
	if reserveExists(dir) {
		t.Error("the reserve survived a close on a full disk")
	}

	// Space freed: the store opens, everything acknowledged is there, writes work, the reserve is back.
	mustNil(t, os.Remove(filler), "freeing")
	mustNil(t, os.Remove(filler+"2"), "freeing")
	s, err = Open(DefaultOptions(dir, nil))
	mustNil(t, err, "reopen")
	closed = false
	for _, name := range acked {
		if err := s.GetSetting(name, &v); err != nil {
			t.Fatalf("acknowledged setting %s lost: %v", name, err)
		}
	}
	mustNil(t, s.PutSetting("after-restart", "x"), "write after freeing space")
	if !reserveExists(dir) {
		t.Error("no reserve file after reopening with room")
	}

	// A restore stops when the disk runs short, cleans up, and says why.
	var backup bytes.Buffer
	_, err = s.Backup(&backup)
	mustNil(t, err, "backup")
	mustNil(t, s.Close(), "close")
	closed = true
	avail, err = freeSpace(mnt)
	mustNil(t, err, "statfs")
	mustNil(t, fill(filler, int64(avail)-(defaultMinFree+2<<20)), "filling")
	avail, _ = freeSpace(mnt)
	size := backup.Len()
	target := filepath.Join(mnt, "restored")
	err = Restore(target, &backup)
	wantErr(t, err, ErrDiskFull, fmt.Sprintf("restoring %s with %s free", byteSize(uint64(size)), byteSize(avail)))
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("a refused restore left %d files behind", len(entries))
	}
}

// fill writes zeros to a new file at path until it holds n bytes or the file system is full.
func fill(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
		n -= k
	}
	return nil
}

// waitCompactionsSettled waits (up to 30 s) until no level of s needs compacting and the table
// layout has not changed for a second.
func waitCompactionsSettled(t *testing.T, s *Store) {
	t.Helper()
	var last string
	stableSince := time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		busy := false
		layout := ""
		for _, l := range s.db.Levels() {
			busy = busy || l.Score >= 1 || (l.Level == 0 && l.NumTables >= numLevelZeroTables)
			layout += fmt.Sprintf("%d:%d:%d ", l.Level, l.NumTables, l.Size)
		}
		if busy || layout != last {
			last, stableSince = layout, time.Now()
			continue
		}
		if time.Since(stableSince) >= time.Second {
			return
		}
	}
	t.Fatalf("Badger's compactions did not settle within 30 s: %s", last)
}
