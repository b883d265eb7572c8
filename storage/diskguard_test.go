package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeDisk is a file system whose free space the test sets. The reserve file in dir counts as used
// space, as on a real disk: deleting it gives its size back.
type fakeDisk struct {
	free    atomic.Int64 // bytes free, not counting a missing reserve file
	reserve int64
	calls   atomic.Int64
	fail    atomic.Bool
}

func (d *fakeDisk) freeSpace(dir string) (uint64, error) {
	d.calls.Add(1)
	if d.fail.Load() {
		return 0, errors.New("statfs: input/output error")
	}
	n := d.free.Load()
	if _, err := os.Stat(filepath.Join(dir, reserveFileName)); errors.Is(err, os.ErrNotExist) {
		n += d.reserve
	}
	return uint64(max(n, 0)), nil
}

// openFakeDisk opens a store in a temporary directory on d with a 1 MiB reserve file.
func openFakeDisk(t *testing.T, dir string, d *fakeDisk) (*Store, error) {
	t.Helper()
	d.reserve = 1 << 20
	opts := DefaultOptions(dir, nil)
	opts.ReserveBytes = d.reserve
	opts.freeSpace = d.freeSpace
	return Open(opts)
}

// openRoomyDisk opens a store in a new temporary directory on a fake disk with 1 GiB free; the
// caller closes it.
func openRoomyDisk(t *testing.T) (*Store, *fakeDisk, string) {
	t.Helper()
	dir := t.TempDir()
	d := &fakeDisk{}
	d.free.Store(1 << 30)
	s, err := openFakeDisk(t, dir, d)
	mustNil(t, err, "open")
	return s, d, dir
}

func reserveExists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, reserveFileName))
	return err == nil
}

func TestDiskGuardRefusesWritesBelowMinFree(t *testing.T) {
	s, d, dir := openRoomyDisk(t)
	defer s.Close()
	mustNil(t, s.PutSetting("color", "blue"), "write with room")
	if !reserveExists(dir) {
		t.Fatal("no reserve file after Open with room for it")
	}

	cases := []struct {
		name    string
		free    int64
		refused bool
	}{
		{"plenty", 1 << 30, false},
		{"exactly the threshold", defaultMinFree, false},
		{"one byte short", defaultMinFree - 1, true},
		{"nearly empty", 4 << 10, true},
		{"room again", 200 << 20, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d.free.Store(tc.free)
			gen := s.Generation()
			want := fmt.Sprintf("value-%d", i)
			err := s.PutSetting("color", want)
			var got string
			mustNil(t, s.GetSetting("color", &got), "read")
			if !tc.refused {
				mustNil(t, err, "write")
				if got != want {
					t.Errorf("setting = %q after an accepted write, want %q", got, want)
				}
				return
			}
			wantErr(t, err, ErrDiskFull, "write on a full disk")
			if !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not say what happened and where", err)
			}
			if got == want || s.Generation() != gen {
				t.Errorf("a refused write changed the store: setting %q, generation %d→%d", got, gen, s.Generation())
			}
		})
	}
}

func TestDiskGuardReserveFile(t *testing.T) {
	s, d, dir := openRoomyDisk(t)
	fi, err := os.Stat(filepath.Join(dir, reserveFileName))
	mustNil(t, err, "stat reserve")
	if fi.Size() != d.reserve {
		t.Errorf("reserve file has %d bytes, want %d", fi.Size(), d.reserve)
	}
	if n, ok := allocatedBytes(fi); ok && n < d.reserve {
		t.Errorf("reserve file has %d bytes allocated, want %d (a sparse file gives nothing back)", n, d.reserve)
	}

	// Refused writes keep the reserve, however full the disk: released while running, another
	// program would take that space too, and Close would have none for Badger's flush.
	for _, free := range []int64{defaultMinFree - 1, 1 << 20, 0} {
		d.free.Store(free)
		wantErr(t, s.PutSetting("k", 1), ErrDiskFull, "write on a full disk")
		if !reserveExists(dir) {
			t.Fatalf("reserve released by a refused write with %d bytes free", free)
		}
	}
	mustNil(t, s.Close(), "close")

	// The next Open with room allocates it again.
	d.free.Store(1 << 30)
	s, err = openFakeDisk(t, dir, d)
	mustNil(t, err, "reopen")
	if !reserveExists(dir) {
		t.Fatal("reserve not allocated again by the next Open")
	}
	// Close on a nearly full disk releases it so Badger's flush has room.
	d.free.Store(defaultMinFree - 1)
	mustNil(t, s.Close(), "close when nearly full")
	if reserveExists(dir) {
		t.Fatal("Close on a nearly full disk kept the reserve")
	}

	// Too little room for the reserve on top of the threshold: Open works, without one.
	d.free.Store(defaultMinFree - d.reserve/2) // reported: this plus the missing reserve's size
	s, err = openFakeDisk(t, dir, d)
	mustNil(t, err, "open without room for the reserve")
	if reserveExists(dir) {
		t.Error("reserve allocated without room for it")
	}
	mustNil(t, s.Close(), "close")
}

func TestDiskGuardOpen(t *testing.T) {
	cases := []struct {
		name       string
		free       int64 // free space while the reserve file exists (fakeDisk adds its size when it does not)
		hasReserve bool
		wantErr    bool
		reserveAft bool
	}{
		{"plenty of room", 1 << 30, true, false, true},
		{"room only with the reserve released", openMinFree - (512 << 10), true, false, false},
		{"no room even without the reserve", 1 << 20, true, true, false},
		{"no room and no reserve", openMinFree - (1 << 20) - 1, false, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d := &fakeDisk{}
			d.free.Store(1 << 30)
			s, err := openFakeDisk(t, dir, d)
			mustNil(t, err, "first open")
			mustNil(t, s.PutSetting("kept", "yes"), "write")
			mustNil(t, s.Close(), "close")
			if !tc.hasReserve {
				mustNil(t, os.Remove(filepath.Join(dir, reserveFileName)), "remove reserve")
			}
			d.free.Store(tc.free)
			s, err = openFakeDisk(t, dir, d)
			if tc.wantErr {
				wantErr(t, err, ErrDiskFull, "open on a full disk")
				if !strings.Contains(err.Error(), "opening the database") {
					t.Errorf("error %q does not say Open needs the space", err)
				}
				return
			}
			mustNil(t, err, "open")
			defer s.Close()
			var v string
			mustNil(t, s.GetSetting("kept", &v), "read")
			if got := reserveExists(dir); got != tc.reserveAft {
				t.Errorf("reserve file after Open: %v, want %v", got, tc.reserveAft)
			}
		})
	}
}

func TestDiskGuardStatFailureLetsWritesThrough(t *testing.T) {
	s, d, _ := openRoomyDisk(t)
	defer s.Close()
	d.fail.Store(true)
	mustNil(t, s.PutSetting("k", "v"), "write while statfs fails")
}

func TestDiskGuardOffInMemoryAndWhenDisabled(t *testing.T) {
	if g := newDiskGuard(Options{InMemory: true}, nil); g != nil {
		t.Error("an in-memory store has a disk guard")
	}
	if g := newDiskGuard(Options{Dir: t.TempDir(), MinFreeBytes: -1}, nil); g != nil {
		t.Error("MinFreeBytes < 0 did not turn the guard off")
	}
	g := newDiskGuard(Options{Dir: "/x", MinFreeBytes: 5 << 20, ReserveBytes: -1}, nil)
	if g == nil || g.minFree != 5<<20 || g.reserveBytes != 0 {
		t.Errorf("guard = %+v, want minFree 5 MiB and no reserve", g)
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{64 << 20, "64.0 MiB"},
		{3 << 30, "3.0 GiB"},
		{1<<62 + 1<<61, "6.0 EiB"},
	} {
		if got := byteSize(tc.n); got != tc.want {
			t.Errorf("byteSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestDiskSpace(t *testing.T) {
	s, d, _ := openRoomyDisk(t)
	defer s.Close()
	cases := []struct {
		free            int64
		low, refusing   bool
		wantDescription string
	}{
		{1 << 30, false, false, ""},
		{2 * defaultMinFree, false, false, ""},
		{2*defaultMinFree - 1, true, false, "nearly full"},
		{defaultMinFree - 1, true, true, "changes are refused until 64.0 MiB are free"},
	}
	for _, tc := range cases {
		d.free.Store(tc.free)
		ds, err := s.DiskSpace()
		mustNil(t, err, "DiskSpace")
		if !ds.Guarded || ds.FreeBytes != uint64(tc.free) || ds.MinFreeBytes != defaultMinFree || ds.ReserveBytes != d.reserve {
			t.Errorf("free %d: %+v", tc.free, ds)
		}
		if ds.Low() != tc.low || ds.RefusingWrites() != tc.refusing || !strings.Contains(ds.Describe(), tc.wantDescription) ||
			(tc.wantDescription == "") != (ds.Describe() == "") {
			t.Errorf("free %d: low %v refusing %v %q", tc.free, ds.Low(), ds.RefusingWrites(), ds.Describe())
		}
	}
	mem := newMemStore(t)
	if ds, err := mem.DiskSpace(); err != nil || ds.Guarded || ds.Low() || ds.Describe() != "" {
		t.Errorf("in memory: %+v %v", ds, err)
	}
}
