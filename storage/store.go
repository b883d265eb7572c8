package storage

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// Store is an open Badger database with typed access to every record. It is safe for concurrent use.
// Only one Store may have a given directory open at a time (Badger holds a directory lock).
type Store struct {
	db     *badger.DB
	opts   Options
	logger *zap.Logger

	// userMu serialises "commit, then update the read model" for transactions that wrote users, so
	// the read model applies commits in commit order.
	userMu sync.Mutex
	users  atomic.Pointer[userSnapshot]

	// touchMu guards touched: when each API key's last use was last written, to rate-limit
	// TouchAPIKey.
	touchMu sync.Mutex
	touched map[string]time.Time

	// gen counts committed read-write transactions (Generation).
	gen atomic.Uint64

	// subs are told about committed events (Subscribe).
	subs subscribers

	// guard refuses writes when the disk is nearly full (nil in memory).
	guard *diskGuard

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database described by opts, runs pending schema migrations and
// loads the in-memory user read model. A directory held by another Store or process fails with an
// error wrapping ErrDirLocked; a database written by a newer schema fails with ErrSchemaTooNew.
func Open(opts Options) (*Store, error) {
	return openWithMigrations(opts, migrations())
}

// openWithMigrations is Open with an explicit migration list (tests use their own).
func openWithMigrations(opts Options, list []migration) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	db, guard, err := openGuarded(opts, logger)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, opts: opts, logger: logger, touched: make(map[string]time.Time), guard: guard}
	if err := s.migrate(list); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%s: %w", describeDir(opts), err)
	}
	if err := s.loadUsers(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%s: loading users: %w", describeDir(opts), err)
	}
	guard.ensureReserve()
	return s, nil
}

// openGuarded opens the database after checking that its file system has room to, and returns the
// free-space guard for its writes (nil in memory).
func openGuarded(opts Options, logger *zap.Logger) (*badger.DB, *diskGuard, error) {
	guard := newDiskGuard(opts, logger)
	if guard != nil {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("creating database directory %q: %w", opts.Dir, err)
		}
		if err := guard.checkOpen(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", describeDir(opts), err)
		}
	}
	db, err := openDB(opts)
	if err != nil {
		return nil, nil, err
	}
	return db, guard, nil
}

// openDB opens the Badger database with the small-memory profile and turns Badger's errors (and its
// panics on bad options) into errors naming the directory.
func openDB(opts Options) (db *badger.DB, err error) {
	bo, err := opts.badgerOptions()
	if err != nil {
		return nil, err
	}
	if !opts.InMemory {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating database directory %q: %w", opts.Dir, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("opening %s: badger panicked: %v", describeDir(opts), r)
		}
	}()
	db, err = badger.Open(bo)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("opening database in %q: %w: another Caddy config or process holds it "+
				"(one process per data directory; `caddy validate` against a live data directory fails "+
				"this way): %v", opts.Dir, ErrDirLocked, err)
		}
		return nil, fmt.Errorf("opening %s: %w", describeDir(opts), err)
	}
	return db, nil
}

// describeDir names the database for error messages.
func describeDir(opts Options) string {
	if opts.InMemory {
		return "in-memory database"
	}
	return fmt.Sprintf("database in %q", opts.Dir)
}

// Generation returns the store's change counter: it moves after every committed write, once the write
// is visible to new reads, and never otherwise. A reader that read the counter, then data, may keep that
// data for as long as the counter still has the value it read first (caches of rarely changing pages).
func (s *Store) Generation() uint64 { return s.gen.Load() }

// Close closes the database. Further calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.guard.beforeClose()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("closing %s: %w", describeDir(s.opts), err)
		}
	})
	return s.closeErr
}

// Dir returns the Badger directory ("" in memory).
func (s *Store) Dir() string { return s.opts.Dir }

// InMemory reports whether the store keeps everything in memory.
func (s *Store) InMemory() bool { return s.opts.InMemory }

// checkOpen returns ErrClosed once Close has been called.
func (s *Store) checkOpen() error {
	if s.closed.Load() || s.db.IsClosed() {
		return ErrClosed
	}
	return nil
}

// isClosedErr reports whether err is Badger's closed-database error.
func isClosedErr(err error) bool {
	return errors.Is(err, badger.ErrDBClosed)
}
