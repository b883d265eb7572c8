package handlers

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// errField logs an error.
func errField(err error) zap.Field { return zap.Error(err) }

// now returns the handler's clock.
func (s *server) now() time.Time { return s.clock() }

// record appends an audit event; failures are logged, never shown.
func (s *server) record(r *http.Request, ev storage.Event) {
	if s.deps.Store == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = s.now().UTC()
	}
	if _, err := s.deps.Store.AppendEvent(ev); err != nil {
		s.logger.Warn("recording an audit event", zap.String("type", ev.Type), zap.Error(err))
	}
}

// updateAdmin changes admin id atomically and returns the result.
func updateAdmin(store *storage.Store, id string, fn func(*storage.Admin) error) (storage.Admin, error) {
	var out storage.Admin
	err := store.Update(func(tx *storage.Tx) error {
		a, err := tx.Admins().Get(id)
		if err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		out = a
		return tx.Admins().Put(a)
	})
	if err != nil {
		return storage.Admin{}, fmt.Errorf("updating admin %s: %w", id, err)
	}
	return out, nil
}

// settingsChanged tells the root that settings it depends on changed.
func (s *server) settingsChanged() {
	if s.deps.SettingsChanged != nil {
		s.deps.SettingsChanged()
	}
}
