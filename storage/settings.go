package storage

import (
	"errors"
	"fmt"
)

// Settings is the repository of named settings (JSON values) of a transaction.
type Settings struct{ tx *Tx }

// Settings returns the settings repository of tx.
func (tx *Tx) Settings() Settings { return Settings{tx} }

// settingKey is the key of setting name.
func settingKey(name string) []byte { return keyOf("setting", name) }

// Get decodes setting name into v; ErrNotFound when unset.
func (r Settings) Get(name string, v any) error {
	if err := checkSegment("setting name", name); err != nil {
		return err
	}
	if err := r.tx.getJSON(settingKey(name), v); err != nil {
		return fmt.Errorf("setting %q: %w", name, err)
	}
	return nil
}

// Put stores v (JSON-encoded) as setting name.
func (r Settings) Put(name string, v any) error {
	if err := checkSegment("setting name", name); err != nil {
		return err
	}
	if err := r.tx.putJSON(settingKey(name), v); err != nil {
		return fmt.Errorf("setting %q: %w", name, err)
	}
	return nil
}

// Delete removes setting name (no error when unset).
func (r Settings) Delete(name string) error {
	if err := checkSegment("setting name", name); err != nil {
		return err
	}
	return r.tx.del(settingKey(name))
}

// GetSetting decodes setting name into v; ErrNotFound when unset.
func (s *Store) GetSetting(name string, v any) error {
	return s.View(func(tx *Tx) error { return tx.Settings().Get(name, v) })
}

// PutSetting stores v as setting name.
func (s *Store) PutSetting(name string, v any) error {
	return s.Update(func(tx *Tx) error { return tx.Settings().Put(name, v) })
}

// DeleteSetting removes setting name.
func (s *Store) DeleteSetting(name string) error {
	return s.Update(func(tx *Tx) error { return tx.Settings().Delete(name) })
}

// clientIDKey holds the Plex client identifier.
func clientIDKey() []byte { return keyOf("meta", "client_id") }

// ClientID returns this installation's Plex client identifier (X-Plex-Client-Identifier): a random
// UUID created on first use and the same forever after (it survives restarts and is in backups), so
// plex.tv sees one device rather than a new one per start.
func (s *Store) ClientID() (string, error) {
	var id string
	// Read first: the identifier exists after the first start, and a read works on a full disk.
	if err := s.View(func(tx *Tx) error { return tx.getJSON(clientIDKey(), &id) }); err == nil && id != "" {
		return id, nil
	}
	err := s.Update(func(tx *Tx) error {
		err := tx.getJSON(clientIDKey(), &id)
		if err == nil && id != "" {
			return nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		id = newUUID()
		return tx.putJSON(clientIDKey(), id)
	})
	if err != nil {
		return "", fmt.Errorf("client identifier: %w", err)
	}
	return id, nil
}
