package handlers

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Handler modes: what one mounted handler serves.
const (
	// ModeAdmin serves the admin UI and the REST API.
	ModeAdmin = web.ModeAdmin
	// ModeInvite serves the public invite pages.
	ModeInvite = web.ModeInvite
)

// DefaultAppName is shown in titles when Config.AppName is empty.
const DefaultAppName = "Plex Manager"

// Config says how one mounted handler behaves.
type Config struct {
	// Mode is ModeAdmin or ModeInvite.
	Mode string
	// BasePath is "" or a path such as "/manage" (no trailing slash). The handler sees full
	// request paths and every URL the UI emits is prefixed with it.
	BasePath string
	// AppName is shown in titles; DefaultAppName when empty.
	AppName string
	// PublicURL is an absolute http(s) URL or "". Cookies get Secure when it is https.
	PublicURL string
	// AuthOrigins are extra origins allowed as form-action targets (the Plex auth app, Discord),
	// e.g. "https://app.plex.tv": the invite join POST answers with a redirect there, and browsers
	// enforce form-action on redirects.
	AuthOrigins []string
}

// HealthReport is what Deps.Health returns: Status "ok" means healthy; Checks names each
// component's state ("store": "ok", "plex": "unreachable").
type HealthReport struct {
	// Status is HealthOK or a word for what is wrong ("degraded").
	Status string `json:"status"`
	// Checks maps each component to its state (shown by the admin handler only).
	Checks map[string]string `json:"checks,omitempty"`
}

// HealthOK is the HealthReport.Status of a healthy instance.
const HealthOK = "ok"

// Deps carries what the handler needs from the rest of the program. Fields are small interfaces
// or functions declared in this package, never concrete Caddy types.
type Deps struct {
	// Logger receives the handler's logs; nil means no logging.
	Logger *zap.Logger
	// Health reports the instance's health for GET {base}/healthz; nil reports "ok" for the
	// handler itself.
	Health func(ctx context.Context) HealthReport
	// Version is shown in the admin UI footer.
	Version string
	// Features are the feature packages (invites, streams, events, users…) whose routes New
	// mounts: Page and API routes on the admin handler, Public routes on the invite handler.
	Features []web.Feature
	// Authenticator overrides who a request is (tests of feature packages). Nil means the
	// store-backed sessions and API keys of the auth package.
	Authenticator web.Authenticator

	// Store is the database: admins, sessions, API keys, settings. In admin mode without a Store
	// (and without an Authenticator) every page and API route answers as to an anonymous visitor
	// and the sign-in page says sign-in is unavailable.
	Store *storage.Store
	// StoreGeneration, when set, returns Store's change counter: a value that differs from every
	// earlier one once a write has committed (changing only after the write is visible to new
	// reads). Pages then read the app settings once per value instead of on every request. Nil:
	// every page reads them.
	StoreGeneration func() uint64
	// Sealer seals secrets kept in settings (the Plex owner token). Without it the UI refuses to
	// store a token.
	Sealer *storage.Sealer
	// Throttle limits sign-in and setup-code attempts. The root keeps one across config reloads;
	// nil gives each handler its own.
	Throttle *auth.Throttle
	// PasswordParams overrides the argon2id parameters of new password hashes (tests use cheap
	// ones); nil means auth.DefaultParams.
	PasswordParams *auth.Params
	// Plex is the plex.tv client used for "Sign in with Plex", for checking an owner token and for
	// discovering the owner's servers. Nil hides Plex sign-in.
	Plex *plex.Client
	// PlexToken returns the effective Plex owner token (the Caddyfile's, else the one stored by
	// the UI); it is used to list the owner's servers. Nil reads the stored one (PlexOwnerToken).
	PlexToken func() string
	// BootstrapAPIKey is the Caddyfile's api_key: it authenticates as an admin API key.
	BootstrapAPIKey string
	// Fixed names the settings the Caddyfile sets; the UI shows them read-only.
	Fixed FixedSettings
	// StreamCount returns the number of live streams for the default status report (nil: 0).
	StreamCount func() int
	// Status fills GET {base}/api/v1/status; nil reports what the store knows.
	Status func(ctx context.Context) (StatusReport, error)
	// SettingsChanged is called after the UI changed a setting the root depends on (the Plex
	// owner token, the servers, the public URL), so it can rebuild its clients. It must return
	// quickly.
	SettingsChanged func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FixedSettings are the settings given in the Caddyfile, which the UI shows but cannot change.
type FixedSettings struct {
	// PublicURL is the Caddyfile's public_url ("" when not set there).
	PublicURL string
	// PlexToken reports that the Caddyfile sets the Plex owner token.
	PlexToken bool
	// PlexServers are the Caddyfile's plex server URLs (none: chosen in the UI).
	PlexServers []string
}

// basePathPattern allows plain path segments only: no empty or dot segments, and none of the
// characters ServeMux patterns or URLs treat specially ("{", "}", "%", "?", "#", spaces).
var basePathPattern = regexp.MustCompile(`^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$`)

// validate checks cfg and fills defaults, returning the normalised copy.
func (cfg Config) validate() (Config, error) {
	switch cfg.Mode {
	case ModeAdmin, ModeInvite:
	default:
		return cfg, fmt.Errorf("mode %q: want %q or %q", cfg.Mode, ModeAdmin, ModeInvite)
	}
	if !basePathPattern.MatchString(cfg.BasePath) {
		return cfg, fmt.Errorf("base path %q: want \"\" or /segment[/segment…] without a trailing slash", cfg.BasePath)
	}
	cfg.AppName = strings.TrimSpace(cfg.AppName)
	if cfg.AppName == "" {
		cfg.AppName = DefaultAppName
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return cfg, fmt.Errorf("public URL %q: want an absolute http or https URL", cfg.PublicURL)
		}
	}
	origins := make([]string, 0, len(cfg.AuthOrigins))
	for _, o := range cfg.AuthOrigins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return cfg, fmt.Errorf("auth origin %q: %w", o, err)
		}
		origins = append(origins, norm)
	}
	cfg.AuthOrigins = origins
	return cfg, nil
}

// normalizeOrigin accepts scheme://host[:port] with an http(s) scheme and nothing else, so an
// origin can never smuggle another directive into the Content-Security-Policy.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("parsing: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("want an http or https origin")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("want scheme://host[:port] only")
	}
	if strings.ContainsAny(u.Host, " ;,'\"*\\") {
		return "", fmt.Errorf("host contains characters not allowed in an origin")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// secureCookies reports whether cookies must carry the Secure attribute.
func (cfg Config) secureCookies() bool {
	return strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")
}
