package storage

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// SchemaVersion is the schema version this build writes: the version of the last migration.
const SchemaVersion = 1

// migration upgrades the schema from version-1 to version. up runs inside an Update transaction
// together with the version bump, so it commits entirely or not at all; like every Update closure it
// must be pure because it may be retried. A migration that rewrites many keys must chunk its work to
// stay under Badger's transaction size limit.
type migration struct {
	version int
	name    string
	up      func(*Tx) error
}

// migrations lists every migration in order; the last one's version is SchemaVersion.
func migrations() []migration {
	return []migration{
		{version: 1, name: "initial layout: v1/ keys", up: func(*Tx) error { return nil }},
	}
}

// schemaRecord is the value at schemaKey.
type schemaRecord struct {
	Version   int       `json:"version"`
	Name      string    `json:"name,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SchemaVersion returns the schema version recorded in the database (0 for an empty database).
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.View(func(tx *Tx) error {
		var err error
		v, err = tx.schemaVersion()
		return err
	})
	return v, err
}

// schemaVersion reads the recorded schema version (0 when none).
func (tx *Tx) schemaVersion() (int, error) {
	var rec schemaRecord
	err := tx.getJSON([]byte(schemaKey), &rec)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return rec.Version, nil
}

// migrate refuses a database newer than list and runs, in order, each migration newer than the
// recorded version, each in its own transaction together with its version bump. Running it again
// does nothing.
func (s *Store) migrate(list []migration) error {
	latest := 0
	for i, m := range list {
		if m.version != i+1 || m.up == nil {
			return fmt.Errorf("migration list is malformed at position %d (version %d)", i, m.version)
		}
		latest = m.version
	}
	current, err := s.SchemaVersion()
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("schema version %d, this build knows up to %d; run a newer build or restore "+
			"a backup taken by this one: %w", current, latest, ErrSchemaTooNew)
	}
	for _, m := range list {
		if m.version <= current {
			continue
		}
		err := s.Update(func(tx *Tx) error {
			v, err := tx.schemaVersion()
			if err != nil {
				return err
			}
			if v >= m.version {
				return nil // already applied
			}
			if err := m.up(tx); err != nil {
				return err
			}
			return tx.putJSON([]byte(schemaKey), schemaRecord{Version: m.version, Name: m.name, UpdatedAt: time.Now().UTC()})
		})
		if err != nil {
			return fmt.Errorf("migrating schema to version %d (%s): %w", m.version, m.name, err)
		}
		s.logger.Info("storage schema migrated", zap.Int("version", m.version), zap.String("name", m.name))
	}
	return nil
}
