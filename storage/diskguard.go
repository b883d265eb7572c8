package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// The free-space guard.
//
// Badger writes its memtable log, its value log and every new table through memory-mapped files that it
// first grows sparse (ftruncate) and fills afterwards. On a full file system a store into such a page is
// answered with SIGBUS, and Go turns that into a fatal fault that kills the whole process (only a
// goroutine that asked for debug.SetPanicOnFault gets a panic instead, and these are Badger's own
// goroutines). An error cannot be had from Badger once the disk is full, so the Store refuses earlier:
//
//   - every read-write transaction (and value-log GC) first checks that the file system of the database
//     directory has at least Options.MinFreeBytes available, and answers ErrDiskFull otherwise, before
//     Badger has been asked to change anything;
//   - opening needs openMinFree available (replaying the memtable log may flush tables);
//   - a reserve file of Options.ReserveBytes, allocated at Open, holds space back for the work Badger
//     does that cannot be refused: flushing the memtable on Close (and replaying it on Open). It is
//     kept while the Store runs, even on a full disk (released early, another program would take
//     that space too, as the integration test shows), and released just before Close and at Open
//     when space is short; the next Open that has room allocates it again.
const (
	// defaultMinFree is the free space below which writes are refused: room for the current memtable
	// log to fill (its file is mapped at twice memTableSize), the next one, its flush to a level-0
	// table and a compaction's output.
	defaultMinFree = 64 << 20
	// defaultReserve is the size of the reserve file.
	defaultReserve = 32 << 20
	// openMinFree is the free space Open requires: a new memtable log and the flush of a replayed one.
	openMinFree = 2 * memTableSize
	// reserveFileName is the reserve file, inside the database directory (Badger ignores files
	// without its suffixes).
	reserveFileName = "plex-manager.reserve"
)

// freeSpaceFunc returns the bytes available to this process on the file system holding dir.
type freeSpaceFunc func(dir string) (uint64, error)

// diskGuard refuses writes when the database's file system is nearly full and keeps the reserve file.
type diskGuard struct {
	dir          string
	minFree      uint64
	reserveBytes int64
	free         freeSpaceFunc
	logger       *zap.Logger

	// mu serialises allocating and releasing the reserve file.
	mu sync.Mutex
	// refusing is set while writes are refused, so the change is logged once each way.
	refusing atomic.Bool
	// statFailed is set once a failure to read the free space has been logged.
	statFailed atomic.Bool
}

// newDiskGuard returns the guard for opts, or nil when the store is in memory or the guard is off.
func newDiskGuard(opts Options, logger *zap.Logger) *diskGuard {
	if opts.InMemory || opts.MinFreeBytes < 0 || strings.TrimSpace(opts.Dir) == "" {
		return nil // a blank directory is refused by openDB with ErrInvalid
	}
	g := &diskGuard{
		dir:          opts.Dir,
		minFree:      defaultMinFree,
		reserveBytes: defaultReserve,
		free:         opts.freeSpace,
		logger:       logger,
	}
	if opts.MinFreeBytes > 0 {
		g.minFree = uint64(opts.MinFreeBytes)
	}
	switch {
	case opts.ReserveBytes > 0:
		g.reserveBytes = opts.ReserveBytes
	case opts.ReserveBytes < 0:
		g.reserveBytes = 0
	}
	if g.free == nil {
		g.free = freeSpace
	}
	return g
}

// reservePath is the reserve file's path.
func (g *diskGuard) reservePath() string { return filepath.Join(g.dir, reserveFileName) }

// admit returns nil when a write may go ahead, or an error wrapping ErrDiskFull. When the free space
// cannot be read the write goes ahead (a failing statfs must not stop the service) and the failure is
// logged once.
func (g *diskGuard) admit() error {
	if g == nil {
		return nil
	}
	avail, err := g.free(g.dir)
	if err != nil {
		if g.statFailed.CompareAndSwap(false, true) {
			g.logger.Warn("storage: cannot read the free space of the data directory; writes are not guarded",
				zap.String("dir", g.dir), zap.Error(err))
		}
		return nil
	}
	if avail >= g.minFree {
		if g.refusing.CompareAndSwap(true, false) {
			g.logger.Info("storage: disk space available again; writes are accepted",
				zap.String("dir", g.dir), zap.Uint64("free_bytes", avail))
		}
		return nil
	}
	if g.refusing.CompareAndSwap(false, true) {
		g.logger.Error("storage: the data disk is nearly full; refusing writes until space is freed",
			zap.String("dir", g.dir), zap.Uint64("free_bytes", avail), zap.Uint64("min_free_bytes", g.minFree))
	}
	return g.fullError(avail, g.minFree)
}

// fullError is the error for avail bytes free when need are required.
func (g *diskGuard) fullError(avail, need uint64) error {
	return fmt.Errorf("%w: %s free on the file system of %q, the store needs %s; nothing was changed, "+
		"free disk space and try again", ErrDiskFull, byteSize(avail), g.dir, byteSize(need))
}

// checkOpen makes sure Open has room: it releases the reserve file if that is what it takes, and
// returns an error wrapping ErrDiskFull when even then less than openMinFree is available.
func (g *diskGuard) checkOpen() error {
	if g == nil {
		return nil
	}
	avail, err := g.free(g.dir)
	if err != nil {
		return nil // not knowable here; Open goes ahead unguarded (admit logs it)
	}
	if avail >= openMinFree {
		return nil
	}
	if g.releaseReserve("opening the database needs the space") {
		if avail, err = g.free(g.dir); err != nil || avail >= openMinFree {
			return nil
		}
	}
	return fmt.Errorf("opening the database: %w", g.fullError(avail, openMinFree))
}

// ensureReserve allocates the reserve file when it is missing and there is room for it on top of the
// write threshold; it only logs when it cannot.
func (g *diskGuard) ensureReserve() {
	if g == nil || g.reserveBytes <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	path := g.reservePath()
	if fi, err := os.Stat(path); err == nil && fi.Size() >= g.reserveBytes {
		return
	}
	avail, err := g.free(g.dir)
	if err != nil {
		return
	}
	if avail < g.minFree+uint64(g.reserveBytes) {
		g.logger.Warn("storage: not enough free disk space to keep the reserve file; a full disk could then "+
			"stop Caddy at shutdown", zap.String("dir", g.dir), zap.Uint64("free_bytes", avail))
		return
	}
	if err := allocateFile(path, g.reserveBytes); err != nil {
		_ = os.Remove(path)
		g.logger.Warn("storage: cannot allocate the reserve file", zap.String("path", path), zap.Error(err))
	}
}

// releaseReserve deletes the reserve file, logging why, and reports whether there was one.
func (g *diskGuard) releaseReserve(why string) bool {
	if g == nil || g.reserveBytes <= 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	err := os.Remove(g.reservePath())
	switch {
	case err == nil:
		g.logger.Warn("storage: released the reserve file so the database can finish its work",
			zap.String("dir", g.dir), zap.String("reason", why), zap.Int64("bytes", g.reserveBytes))
		return true
	case errors.Is(err, fs.ErrNotExist):
		return false
	default:
		g.logger.Error("storage: cannot release the reserve file", zap.String("dir", g.dir), zap.Error(err))
		return false
	}
}

// beforeClose releases the reserve file when less than the write threshold is free, so that Badger's
// flush of the memtable on Close has room.
func (g *diskGuard) beforeClose() {
	if g == nil {
		return
	}
	if avail, err := g.free(g.dir); err == nil && avail < g.minFree {
		g.releaseReserve("closing the database on a nearly full disk")
	}
}

// byteSize formats n bytes for messages: "12.0 MiB".
func byteSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// DiskSpace is the free space of the database's file system as the free-space guard sees it.
type DiskSpace struct {
	// Guarded is false in memory or with the guard off; the other fields are then zero.
	Guarded bool `json:"guarded"`
	// FreeBytes is the space available to this process now.
	FreeBytes uint64 `json:"free_bytes"`
	// MinFreeBytes is the free space below which writes are refused with ErrDiskFull.
	MinFreeBytes uint64 `json:"min_free_bytes"`
	// ReserveBytes is the size of the reserve file in place (0: none, e.g. released on a full disk).
	ReserveBytes int64 `json:"reserve_bytes"`
}

// RefusingWrites reports whether writes are refused now.
func (d DiskSpace) RefusingWrites() bool { return d.Guarded && d.FreeBytes < d.MinFreeBytes }

// Low reports whether the free space is under twice the write threshold: time to free space before
// changes are refused.
func (d DiskSpace) Low() bool { return d.Guarded && d.FreeBytes < 2*d.MinFreeBytes }

// Describe is a sentence for admins about a low or exhausted disk ("" when there is room).
func (d DiskSpace) Describe() string {
	switch {
	case d.RefusingWrites():
		return fmt.Sprintf("The data disk is full (%s free): changes are refused until %s are free.",
			byteSize(d.FreeBytes), byteSize(d.MinFreeBytes))
	case d.Low():
		return fmt.Sprintf("The data disk is nearly full (%s free): below %s, changes will be refused.",
			byteSize(d.FreeBytes), byteSize(d.MinFreeBytes))
	}
	return ""
}

// DiskSpace reads the free space of the database's file system now.
func (s *Store) DiskSpace() (DiskSpace, error) {
	g := s.guard
	if g == nil {
		return DiskSpace{}, nil
	}
	avail, err := g.free(g.dir)
	if err != nil {
		return DiskSpace{}, fmt.Errorf("reading the free space of %q: %w", g.dir, err)
	}
	d := DiskSpace{Guarded: true, FreeBytes: avail, MinFreeBytes: g.minFree}
	if fi, err := os.Stat(g.reservePath()); err == nil {
		d.ReserveBytes = fi.Size()
	}
	return d, nil
}
