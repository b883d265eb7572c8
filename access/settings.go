package access

import (
	"errors"
	"fmt"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// SettingsKey is the storage setting under which the admin's engine settings live (JSON of Settings).
const SettingsKey = "access.settings"

// Settings are the engine's admin-editable settings. A zero field means "the default" (Options.Defaults,
// then the package default), so an older stored value keeps working when fields are added.
type Settings struct {
	// RemovalCap is the most shares one automatic pass may remove (default 10). Above it nothing is
	// removed, an enforce.capped event is recorded and the report says so.
	RemovalCap int `json:"removal_cap,omitempty"`
	// ShrinkPercent and ShrinkMinUsers: a sync that would mark more than ShrinkPercent % of the
	// active users, and at least ShrinkMinUsers of them, as removed is held (defaults 20 and 3).
	ShrinkPercent  int `json:"shrink_percent,omitempty"`
	ShrinkMinUsers int `json:"shrink_min_users,omitempty"` // see ShrinkPercent
	// InactiveDays is the purge threshold (default 30).
	InactiveDays int `json:"inactive_days,omitempty"`
	// PurgeNeverWatched includes users who never watched anything regardless of their age.
	PurgeNeverWatched bool `json:"purge_never_watched,omitempty"`
	// AutoPurge lets the purge loop remove inactive users without an admin (opt-in).
	AutoPurge bool `json:"auto_purge,omitempty"`
}

// withDefaults fills zero fields with the package defaults.
func (st Settings) withDefaults() Settings {
	if st.RemovalCap == 0 {
		st.RemovalCap = DefaultRemovalCap
	}
	if st.ShrinkPercent == 0 {
		st.ShrinkPercent = DefaultShrinkPercent
	}
	if st.ShrinkMinUsers == 0 {
		st.ShrinkMinUsers = DefaultShrinkMinUsers
	}
	if st.InactiveDays == 0 {
		st.InactiveDays = DefaultInactiveDays
	}
	return st
}

// over fills st's zero fields from d.
func (st Settings) over(d Settings) Settings {
	if st.RemovalCap == 0 {
		st.RemovalCap = d.RemovalCap
	}
	if st.ShrinkPercent == 0 {
		st.ShrinkPercent = d.ShrinkPercent
	}
	if st.ShrinkMinUsers == 0 {
		st.ShrinkMinUsers = d.ShrinkMinUsers
	}
	if st.InactiveDays == 0 {
		st.InactiveDays = d.InactiveDays
	}
	return st
}

// Validate checks the ranges; the error is an *Error naming the field.
func (st Settings) Validate() error {
	switch {
	case st.RemovalCap < 0 || st.RemovalCap > 10000:
		return fieldError("removal_cap", "must be between 1 and 10000")
	case st.ShrinkPercent < 0 || st.ShrinkPercent > 100:
		return fieldError("shrink_percent", "must be between 1 and 100")
	case st.ShrinkMinUsers < 0 || st.ShrinkMinUsers > 100000:
		return fieldError("shrink_min_users", "must be between 1 and 100000")
	case st.InactiveDays < 0 || st.InactiveDays > 3650:
		return fieldError("inactive_days", "must be between 1 and 3650")
	}
	return nil
}

// Settings returns the effective settings: the stored ones over Options.Defaults over the package
// defaults.
func (s *Service) Settings() (Settings, error) {
	var st Settings
	err := s.store.GetSetting(SettingsKey, &st)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Settings{}, fmt.Errorf("reading engine settings: %w", err)
	}
	return st.over(s.defaults), nil
}

// PutSettings validates and stores st (zero fields: defaults) and records a settings.changed event.
func (s *Service) PutSettings(actor string, st Settings) (Settings, error) {
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	now := s.clock()
	err := s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Settings().Put(SettingsKey, st); err != nil {
			return err
		}
		_, err := tx.Events().Append(newEvent(now, EventSettingsChanged, actor, 0, "", "Engine settings changed",
			map[string]any{"settings": st}))
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("storing engine settings: %w", err)
	}
	return st.over(s.defaults), nil
}
