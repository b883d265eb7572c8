package plexmanager

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/logbuf"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// stores shares one open store per data directory across config reloads: Caddy provisions the new config
// before it stops and cleans up the old one, and Badger locks its directory, so both configs must use the
// same handle. The pool is the only package-level state, as Caddy's lifecycle requires.
var stores = caddy.NewUsagePool()

// storeHandle is the process-wide state of one data directory. Anything that must be shared by the old
// and the new config during a reload lives here, not in the App.
type storeHandle struct {
	store  *storage.Store
	sealer *storage.Sealer
	// passMu serialises background passes (sync, enforcement) across overlapping configs.
	passMu sync.Mutex
	// throttle counts failed sign-ins per account and client address; a reload must not reset it.
	throttle *auth.Throttle
	// logs is the log viewer's ring buffer: one per process in practice, kept across reloads.
	logs *logbuf.Buffer
}

// Destruct closes the store when the last config using it is cleaned up.
func (h *storeHandle) Destruct() error {
	return h.store.Close()
}

// ping reports whether the store answers.
func (h *storeHandle) ping() error {
	if h == nil || h.store == nil {
		return errors.New("store not open")
	}
	return h.store.View(func(*storage.Tx) error { return nil })
}

// provisionStore acquires the shared store of the data directory.
func (a *App) provisionStore() error {
	dir := a.resolved.dataDir
	key := "store:" + dir
	val, loaded, err := stores.LoadOrNew(key, func() (caddy.Destructor, error) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data_dir: %w", err)
		}
		sealer, err := storage.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
		if err != nil {
			return nil, fmt.Errorf("loading the secret key: %w", err)
		}
		st, err := storage.Open(storage.Options{
			Dir:        filepath.Join(dir, "db"),
			Logger:     a.logger.Named("badger"),
			SyncWrites: true,
		})
		if err != nil {
			return nil, err
		}
		return &storeHandle{store: st, sealer: sealer, throttle: auth.NewThrottle(auth.ThrottleOptions{}), logs: logbuf.New(logbuf.DefaultCapacity)}, nil
	})
	if err != nil {
		return fmt.Errorf("plex_manager: opening the store in %s: %w", dir, err)
	}
	a.storeKey = key
	a.store = val.(*storeHandle)
	a.logger.Debug("store acquired", zap.String("data_dir", dir), zap.Bool("reused", loaded))
	return nil
}

// releaseStore gives back one reference; the last one closes the store.
func releaseStore(key string, logger *zap.Logger) error {
	deleted, err := stores.Delete(key)
	if err != nil {
		return fmt.Errorf("plex_manager: closing the store: %w", err)
	}
	if deleted {
		logger.Debug("store closed", zap.String("key", key))
	}
	return nil
}
