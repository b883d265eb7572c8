package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
)

// loadMaxPending bounds the write batches (each up to 15 % of a memtable, ~1.2 MiB) in flight while
// Restore loads a backup. It is small so that reading the backup cannot run far ahead of the disk
// writes: the free-space check runs as the backup is read (with 256 a whole 17 MiB backup was read
// before the disk had seen most of it, and the check never tripped).
const loadMaxPending = 2

// maxBackupFrame bounds one frame of a backup stream. Badger writes frames of at most ~100 MiB (its
// stream batches); Load allocates whatever length a frame header claims, so a wrong or corrupt file
// would otherwise ask for gigabytes.
const maxBackupFrame = 256 << 20

// recordKinds lists the record prefixes counted by Stats and Verify.
func recordKinds() []string {
	return []string{"server", "user", "invite", "redemption", "admin", "apikey", "session", "event",
		"setting", "intent", "state"}
}

// Stats describes a database's content: its schema version and the number of records per kind.
type Stats struct {
	SchemaVersion int            `json:"schema_version"`
	Records       map[string]int `json:"records"`
}

// Backup writes a consistent full backup of the live database to w (Badger's backup stream) while
// transactions continue. It returns the version up to which the backup is complete.
func (s *Store) Backup(w io.Writer) (since uint64, err error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backup panicked: %v", r)
		}
	}()
	since, err = s.db.Backup(w, 0)
	if err != nil {
		return 0, fmt.Errorf("backing up %s: %w", describeDir(s.opts), err)
	}
	return since, nil
}

// Stats counts the records of the open store.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := s.View(func(tx *Tx) error {
		var err error
		st, err = tx.stats()
		return err
	})
	return st, err
}

// stats counts records per kind and reads the schema version.
func (tx *Tx) stats() (Stats, error) {
	v, err := tx.schemaVersion()
	if err != nil {
		return Stats{}, err
	}
	kinds := recordKinds()
	st := Stats{SchemaVersion: v, Records: make(map[string]int, len(kinds))}
	for _, kind := range kinds {
		n, err := tx.countKeys(prefixOf(kind))
		if err != nil {
			return Stats{}, err
		}
		st.Records[kind] = n
	}
	return st, nil
}

// Restore loads a backup made by Backup into dir, OFFLINE: dir must not exist or be empty (Badger's
// Load must not race other transactions, and merging into live data is never what a restore means),
// and no Store may be using it. On failure everything Restore wrote to dir is removed again. A backup
// with no records, or written by a newer schema than this build knows, is refused.
func Restore(dir string, r io.Reader) (err error) {
	if strings.TrimSpace(dir) == "" {
		return fmt.Errorf("restore: no directory given: %w", ErrInvalid)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("restore: %q is not empty; restore into a new directory (with Caddy stopped, "+
			"move the old database aside first): %w", dir, ErrExists)
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("restore: creating %q: %w", dir, err)
		}
	default:
		return fmt.Errorf("restore: reading %q: %w", dir, err)
	}
	defer func() {
		if err != nil {
			if cerr := emptyDir(dir); cerr != nil {
				err = errors.Join(err, fmt.Errorf("restore: cleaning up %q: %w", dir, cerr))
			}
		}
	}()

	opts := Options{Dir: dir, SyncWrites: true, Logger: zap.NewNop()}
	db, guard, err := openGuarded(opts, opts.Logger)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	loadErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("load panicked: %v", r)
			}
		}()
		return db.Load(&frameReader{r: r, check: guard.admit}, loadMaxPending)
	}()
	s := &Store{db: db, opts: opts, logger: zap.NewNop()}
	var st Stats
	if loadErr == nil {
		st, loadErr = s.Stats()
	}
	if cerr := db.Close(); cerr != nil && loadErr == nil {
		loadErr = cerr
	}
	if loadErr != nil {
		return fmt.Errorf("restore into %q: loading the backup: %w", dir, loadErr)
	}
	if st.SchemaVersion == 0 {
		return fmt.Errorf("restore into %q: the backup holds no plex_manager database (no schema version): %w", dir, ErrInvalid)
	}
	if st.SchemaVersion > SchemaVersion {
		return fmt.Errorf("restore into %q: backup schema version %d, this build knows up to %d: %w",
			dir, st.SchemaVersion, SchemaVersion, ErrSchemaTooNew)
	}
	return nil
}

// emptyDir removes everything inside dir (not dir itself).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

// Verify opens the database in dir (which no Store may be using), without migrating it, and returns
// its schema version and record counts, e.g. to check a restore before starting Caddy on it.
func Verify(dir string) (Stats, error) {
	opts := Options{Dir: dir, Logger: zap.NewNop()}
	if _, err := os.Stat(dir); err != nil {
		return Stats{}, fmt.Errorf("verify: %w", err)
	}
	db, _, err := openGuarded(opts, opts.Logger)
	if err != nil {
		return Stats{}, fmt.Errorf("verify: %w", err)
	}
	s := &Store{db: db, opts: opts, logger: zap.NewNop()}
	st, err := s.Stats()
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return Stats{}, fmt.Errorf("verify %q: %w", dir, err)
	}
	if st.SchemaVersion == 0 {
		return st, fmt.Errorf("verify %q: no schema version: not a plex_manager database: %w", dir, ErrInvalid)
	}
	return st, nil
}

// frameReader passes a Badger backup stream through unchanged while checking its framing: each frame
// is a little-endian uint64 length followed by that many bytes, and no length may exceed
// maxBackupFrame.
type frameReader struct {
	r io.Reader
	// check, when set, is asked every checkEvery bytes whether the load may go on (the free-space
	// guard: a restore must stop before the disk is full, not take SIGBUS in Badger).
	check func() error
	read  int64 // bytes passed since the last check
	hdr   [8]byte
	hdrN  int    // header bytes of the next frame read so far
	left  uint64 // payload bytes of the current frame still to pass
}

// checkEvery is how many bytes of a backup Restore loads between two free-space checks.
const checkEvery = 1 << 20

// Read implements io.Reader.
func (f *frameReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if f.check != nil && f.read >= checkEvery {
		f.read = 0
		if err := f.check(); err != nil {
			return 0, err
		}
	}
	n, err := f.readFrame(p)
	f.read += int64(n)
	return n, err
}

// readFrame is Read without the free-space check.
func (f *frameReader) readFrame(p []byte) (int, error) {
	if f.left > 0 {
		if uint64(len(p)) > f.left {
			p = p[:f.left]
		}
		n, err := f.r.Read(p)
		f.left -= uint64(n)
		return n, err
	}
	want := 8 - f.hdrN
	if len(p) > want {
		p = p[:want]
	}
	n, err := f.r.Read(p)
	copy(f.hdr[f.hdrN:], p[:n])
	f.hdrN += n
	if f.hdrN == 8 {
		f.hdrN = 0
		f.left = binary.LittleEndian.Uint64(f.hdr[:])
		if f.left > maxBackupFrame {
			return 0, fmt.Errorf("not a backup: a frame claims %d bytes (limit %d)", f.left, maxBackupFrame)
		}
	}
	return n, err
}
