package storage

import (
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"go.uber.org/zap"
)

// Options configure Open.
type Options struct {
	// Dir is the Badger directory. It must be empty when InMemory is set. Keep the sealing key
	// (see LoadOrCreateKey) outside this directory.
	Dir string
	// InMemory keeps everything in memory (tests, demo mode); nothing touches the disk.
	InMemory bool
	// Logger receives Badger's warnings and errors, and the Store's own. Nil discards them.
	Logger *zap.Logger
	// SyncWrites fsyncs every commit before it returns. The zero value is off; DefaultOptions turns
	// it on, which is the recommended setting for disk (the write rate is tiny and the data is
	// people's access).
	SyncWrites bool
	// MinFreeBytes is the free space on the database's file system below which writes are refused
	// with ErrDiskFull (see diskguard.go for why Badger must not meet a full disk). Zero means 64 MiB;
	// a negative value turns the guard off (tests of other things only).
	MinFreeBytes int64
	// ReserveBytes is the size of the reserve file kept in the database directory and released when
	// the disk is found nearly full, so Badger's own flushes still have room. Zero means 32 MiB; a
	// negative value keeps no reserve file.
	ReserveBytes int64

	// freeSpace replaces the statfs reading in tests (nil: the real one).
	freeSpace freeSpaceFunc
}

// DefaultOptions returns the recommended options for a database in dir: on disk, SyncWrites on.
func DefaultOptions(dir string, logger *zap.Logger) Options {
	return Options{Dir: dir, Logger: logger, SyncWrites: true}
}

// Small-memory profile. Badger's defaults (64 MiB memtables ×5, 256 MiB block cache, 1 GiB value-log
// files mmapped at twice their size) cost ~86 MiB of Go heap even for a tiny database; these numbers
// keep Badger near 12 MiB at rest with 20,000 records.
//
// Compression is Snappy, not ZSTD: Badger compresses with one process-wide klauspost zstd encoder
// whose pooled block encoders keep referring to the last table builder's buffers, so with ZSTD about
// 17 MiB of builder memory stays reachable after every memtable flush (measured: 20,000 user records,
// heap in use at rest 29.5 MiB with ZSTD, 12.4 MiB with Snappy, same options otherwise). Either
// codec needs a non-zero block cache (Open panics otherwise).
const (
	memTableSize            = 8 << 20
	numMemtables            = 2
	numLevelZeroTables      = 2
	numLevelZeroTablesStall = 4
	blockCacheSize          = 8 << 20 // must be non-zero with compression enabled (Open panics otherwise)
	indexCacheSize          = 4 << 20
	valueLogFileSize        = 64 << 20
	numCompactors           = 2 // Badger rejects 1
)

// badgerOptions maps Options onto Badger's options with the small-memory profile.
func (o Options) badgerOptions() (badger.Options, error) {
	dir := o.Dir
	if o.InMemory {
		if dir != "" {
			return badger.Options{}, fmt.Errorf("in-memory store must not name a directory (got %q): %w", dir, ErrInvalid)
		}
	} else if strings.TrimSpace(dir) == "" {
		return badger.Options{}, fmt.Errorf("no database directory given: %w", ErrInvalid)
	}
	logger := o.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	bo := badger.DefaultOptions(dir).
		WithInMemory(o.InMemory).
		WithSyncWrites(o.SyncWrites && !o.InMemory).
		WithLogger(badgerLogger{logger.Sugar()}).
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithNumLevelZeroTables(numLevelZeroTables).
		WithNumLevelZeroTablesStall(numLevelZeroTablesStall).
		WithBlockCacheSize(blockCacheSize).
		WithIndexCacheSize(indexCacheSize).
		WithValueLogFileSize(valueLogFileSize).
		WithNumCompactors(numCompactors).
		WithCompression(options.Snappy).
		WithMetricsEnabled(false)
	return bo, nil
}

// badgerLogger adapts zap to Badger's Logger at WARNING: info and debug lines are dropped.
type badgerLogger struct {
	l *zap.SugaredLogger
}

// Errorf implements badger.Logger.
func (b badgerLogger) Errorf(format string, args ...any) {
	b.l.Error(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Warningf implements badger.Logger.
func (b badgerLogger) Warningf(format string, args ...any) {
	b.l.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Infof implements badger.Logger; below WARNING, so dropped.
func (badgerLogger) Infof(string, ...any) {}

// Debugf implements badger.Logger; below WARNING, so dropped.
func (badgerLogger) Debugf(string, ...any) {}
