package handlers

import (
	"errors"
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Setting names in the store.
const (
	// appSettingsKey holds AppSettings (JSON).
	appSettingsKey = "app"
	// plexTokenKey holds the Plex owner token, sealed with the Sealer.
	plexTokenKey = "plex.owner_token"
)

// AppSettings are the application settings the admin edits in the UI (setup wizard and settings
// page). Zero fields mean the default.
type AppSettings struct {
	// AppName is shown in titles ("" = the handler's configured name).
	AppName string `json:"app_name,omitempty"`
	// PublicURL is the instance's public address (unless the Caddyfile fixes it).
	PublicURL string `json:"public_url,omitempty"`
	// SessionIdleMinutes ends a session after this long without a visit (default 12h).
	SessionIdleMinutes int `json:"session_idle_minutes,omitempty"`
	// SessionAbsoluteMinutes ends a session this long after sign-in whatever happens (default 7d).
	SessionAbsoluteMinutes int `json:"session_absolute_minutes,omitempty"`
	// SetupDone is set when the wizard's last step is finished; the wizard is closed after it.
	SetupDone bool `json:"setup_done,omitempty"`
	// SetupDoneAt is when it was finished.
	SetupDoneAt time.Time `json:"setup_done_at,omitzero"`
}

// Bounds of the session lifetimes (minutes).
const (
	minSessionMinutes         = 5
	maxSessionIdleMinutes     = 30 * 24 * 60
	maxSessionAbsoluteMinutes = 365 * 24 * 60
)

// Lifetimes returns the effective session timeouts.
func (a AppSettings) Lifetimes() (idle, absolute time.Duration) {
	idle, absolute = auth.DefaultIdleTimeout, auth.DefaultAbsoluteTimeout
	if a.SessionIdleMinutes > 0 {
		idle = time.Duration(a.SessionIdleMinutes) * time.Minute
	}
	if a.SessionAbsoluteMinutes > 0 {
		absolute = time.Duration(a.SessionAbsoluteMinutes) * time.Minute
	}
	return idle, absolute
}

// LoadAppSettings reads the application settings (zero value when never saved).
func LoadAppSettings(store *storage.Store) (AppSettings, error) {
	var a AppSettings
	if store == nil {
		return a, nil
	}
	if err := store.GetSetting(appSettingsKey, &a); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return AppSettings{}, fmt.Errorf("reading the app settings: %w", err)
	}
	return a, nil
}

// updateAppSettings changes the stored settings atomically.
func updateAppSettings(store *storage.Store, fn func(*AppSettings) error) (AppSettings, error) {
	var out AppSettings
	err := store.Update(func(tx *storage.Tx) error {
		var a AppSettings
		if err := tx.Settings().Get(appSettingsKey, &a); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		out = a
		return tx.Settings().Put(appSettingsKey, a)
	})
	if err != nil {
		return AppSettings{}, fmt.Errorf("saving the app settings: %w", err)
	}
	return out, nil
}

// PlexOwnerToken returns the Plex owner token stored by the setup wizard or the settings page,
// unsealed ("" when none is stored). The root reads it when the Caddyfile sets no token, and
// again after Deps.SettingsChanged.
func PlexOwnerToken(store *storage.Store, sealer *storage.Sealer) (string, error) {
	if store == nil {
		return "", nil
	}
	var sealed string
	err := store.GetSetting(plexTokenKey, &sealed)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && sealed == "") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the Plex token: %w", err)
	}
	if sealer == nil {
		return "", errors.New("reading the Plex token: no sealing key")
	}
	token, err := sealer.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("reading the Plex token: %w", err)
	}
	return token, nil
}

// storePlexOwnerToken seals and stores token ("" removes it).
func storePlexOwnerToken(store *storage.Store, sealer *storage.Sealer, token string) error {
	if token == "" {
		if err := store.DeleteSetting(plexTokenKey); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("removing the Plex token: %w", err)
		}
		return nil
	}
	if sealer == nil {
		return errors.New("storing the Plex token: no sealing key is configured")
	}
	sealed, err := sealer.Seal(token)
	if err != nil {
		return fmt.Errorf("storing the Plex token: %w", err)
	}
	if err := store.PutSetting(plexTokenKey, sealed); err != nil {
		return fmt.Errorf("storing the Plex token: %w", err)
	}
	return nil
}
