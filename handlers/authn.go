package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// authCore holds the admin handler's authentication state over the store.
type authCore struct {
	store    *storage.Store
	sealer   *storage.Sealer
	sessions *auth.Sessions
	keys     *auth.APIKeys
	codes    *auth.SetupCodes
	hasher   *auth.Hasher
	throttle *auth.Throttle
	common   auth.CommonPasswords
	now      func() time.Time
	// adminsExist caches a positive answer: once an admin exists the UI never lets the last
	// one go, so the setup wizard cannot come back.
	adminsExist atomic.Bool
}

// newAuthCore builds the authentication state of an admin handler.
func newAuthCore(deps Deps, now func() time.Time) (*authCore, error) {
	params := auth.DefaultParams
	if deps.PasswordParams != nil {
		params = *deps.PasswordParams
	}
	hasher, err := auth.NewHasher(params, auth.DefaultMaxConcurrentHashes)
	if err != nil {
		return nil, err
	}
	c := &authCore{store: deps.Store, sealer: deps.Sealer, hasher: hasher, throttle: deps.Throttle,
		common: auth.LoadCommonPasswords(), now: now}
	if c.throttle == nil {
		c.throttle = auth.NewThrottle(auth.ThrottleOptions{Now: now})
	}
	c.sessions, err = auth.NewSessions(auth.SessionOptions{Store: deps.Store, Now: now, Lifetimes: c.lifetimes})
	if err != nil {
		return nil, err
	}
	c.keys, err = auth.NewAPIKeys(auth.APIKeyOptions{Store: deps.Store, Bootstrap: deps.BootstrapAPIKey, Now: now})
	if err != nil {
		return nil, err
	}
	c.codes, err = auth.NewSetupCodes(deps.Store, now)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// lifetimes reads the session timeouts from the settings (defaults if unreadable).
func (c *authCore) lifetimes() (time.Duration, time.Duration) {
	a, err := LoadAppSettings(c.store)
	if err != nil {
		return auth.DefaultIdleTimeout, auth.DefaultAbsoluteTimeout
	}
	return a.Lifetimes()
}

// Session implements web.Authenticator: the admin of the session cookie, if the session is live
// and the admin exists and is enabled.
func (c *authCore) Session(r *http.Request) (web.Principal, error) {
	token := web.ReadCookie(r, web.SessionCookieName)
	if token == "" {
		return web.Principal{}, web.ErrUnauthenticated
	}
	info, err := c.sessions.Lookup(token)
	if errors.Is(err, auth.ErrNoSession) {
		return web.Principal{}, web.ErrUnauthenticated
	}
	if err != nil {
		return web.Principal{}, err
	}
	a, err := c.store.GetAdmin(info.AdminID)
	if errors.Is(err, storage.ErrNotFound) {
		_ = c.sessions.Delete(token)
		return web.Principal{}, web.ErrUnauthenticated
	}
	if err != nil {
		return web.Principal{}, fmt.Errorf("reading the signed-in admin: %w", err)
	}
	role, ok := web.ParseRole(a.Role)
	if a.Disabled || !ok {
		return web.Principal{}, web.ErrUnauthenticated
	}
	return web.Principal{AdminID: a.ID, Name: a.Username, Role: role, Via: web.ViaSession}, nil
}

// Bearer implements web.Authenticator for API keys.
func (c *authCore) Bearer(_ *http.Request, key string) (web.Principal, error) {
	rec, err := c.keys.Authenticate(key)
	if errors.Is(err, auth.ErrInvalidKey) {
		return web.Principal{}, web.ErrUnauthenticated
	}
	if err != nil {
		return web.Principal{}, err
	}
	role, ok := web.ParseRole(rec.Role)
	if !ok {
		return web.Principal{}, web.ErrUnauthenticated
	}
	return web.Principal{KeyID: rec.ID, Name: rec.Name, Role: role, Via: web.ViaAPIKey}, nil
}

// SetupPending implements web.Authenticator: true while no admin exists.
func (c *authCore) SetupPending(*http.Request) (bool, error) {
	if c.adminsExist.Load() {
		return false, nil
	}
	n, err := c.store.CountAdmins()
	if err != nil {
		return false, fmt.Errorf("counting admins: %w", err)
	}
	if n > 0 {
		c.adminsExist.Store(true)
	}
	return n == 0, nil
}

// signIn starts a session for admin a, replacing the browser's previous session (fixation
// defence), sets the cookie and records the sign-in.
func (s *server) signIn(w http.ResponseWriter, r *http.Request, a storage.Admin, method string) error {
	c := s.core
	previous := web.ReadCookie(r, web.SessionCookieName)
	token, _, err := c.sessions.Create(a.ID, previous, web.ClientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	_, absolute := c.lifetimes()
	http.SetCookie(w, web.NewCookie(r, web.SessionCookieName, token, absolute))
	now := c.now().UTC()
	if _, err := updateAdmin(c.store, a.ID, func(ad *storage.Admin) error { ad.LastLoginAt = &now; return nil }); err != nil {
		s.logger.Warn("recording the sign-in time", errField(err))
	}
	c.throttle.Succeed(a.Username)
	s.record(r, storage.Event{Type: "admin.signed_in", Actor: "admin:" + a.Username,
		Message: fmt.Sprintf("%s signed in (%s)", a.Username, method), Data: map[string]any{"method": method, "ip": web.ClientIP(r)}})
	return nil
}
