// Package plexmanager is a Caddy plugin that manages who may use a Plex Media Server: public invite
// links, libraries and access windows per person, removal of expired or inactive users, live streams and
// an audit trail. It registers the `plex_manager` app (state, Plex client, background workers), the
// `http.handlers.plex_manager` handler (admin UI and REST API, or the public invite pages), the
// `admin.api.plex_manager` admin endpoints and the `caddy plex-manager` command.
//
// Only this package imports Caddy; the domain (access), the Plex client (plex), the store (storage) and
// the HTTP layer (handlers) are plain Go packages wired together here.
package plexmanager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/invites"
	"github.com/plex-manager/caddy-plex-manager/handlers/users"
	"github.com/plex-manager/caddy-plex-manager/metrics"
	"github.com/plex-manager/caddy-plex-manager/notify"
	"github.com/plex-manager/caddy-plex-manager/notify/discordbot"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func init() {
	caddy.RegisterModule(new(App))
	caddy.RegisterModule(new(Handler))
}

// Version is the plugin's version, reported by the health route and the REST API.
const Version = "0.1.0-dev"

// EventConfigLoaded is the audit event recorded each time a config with the app starts.
const EventConfigLoaded = "system.config_loaded"

// Default intervals of the background workers.
const (
	DefaultSyncEvery    = 15 * time.Minute
	DefaultEnforceEvery = time.Minute
	DefaultSessionPoll  = 30 * time.Second
	// stopTimeout bounds how long Stop waits for workers to finish their current step.
	stopTimeout = 30 * time.Second
)

// App is the `plex_manager` Caddy app. One exists per loaded config; it owns the store handle (shared
// with the previous config during a reload), the Plex connection settings and the background workers.
// Handlers of the same config find it with ctx.App("plex_manager").
type App struct {
	// PublicURL is the absolute external URL of the site, used in invite links and sign-in redirects.
	PublicURL string `json:"public_url,omitempty"`
	// DataDir holds the database and the secret key. Default: <caddy data dir>/plex_manager
	// (<caddy data dir>/plex_manager/demo in demo mode).
	DataDir string `json:"data_dir,omitempty"`
	// Plex configures the connection to plex.tv and the media servers.
	Plex *PlexConfig `json:"plex,omitempty"`
	// Discord configures Discord sign-in on invites.
	Discord *DiscordConfig `json:"discord,omitempty"`
	// APIKey is an optional bootstrap REST API key with the admin role. Use a {env.*} or {file.*}
	// placeholder; it is resolved at provision time.
	APIKey string `json:"api_key,omitempty"`
	// SyncEvery is how often users and shares are read from Plex. Default: 15m.
	SyncEvery caddy.Duration `json:"sync_every,omitempty"`
	// EnforceEvery is how often due starts, expiries and purges are applied. Default: 1m.
	EnforceEvery caddy.Duration `json:"enforce_every,omitempty"`
	// SessionPoll is how often live streams are read from the servers. Default: 30s.
	SessionPoll caddy.Duration `json:"session_poll,omitempty"`
	// Demo runs an embedded simulated Plex (plex.tv and several servers with sample data) on a loopback
	// port and points the app at it.
	Demo bool `json:"demo,omitempty"`

	ctx    caddy.Context
	logger *zap.Logger

	// resolved holds the configuration with placeholders expanded and defaults applied.
	resolved resolvedConfig

	storeKey string
	store    *storeHandle
	plex     *plex.Client
	access   *access.Service
	// inviteSvc and inviteFeature are the invite links' domain service and web pages.
	inviteSvc     *invite.Service
	inviteFeature *invites.Feature
	usersFeature  *users.Feature
	// setupCodes issues the one-time code that authorises creating the first admin.
	setupCodes *auth.SetupCodes
	poller     *streams.Poller
	metricsSet *metrics.Metrics
	notifier   *notify.Notifier
	// discordBot sends warnings as Discord DMs (nil without a bot_token).
	discordBot *discordbot.Client
	// unsubscribe stops feeding audit events to this config's notifier and metrics.
	unsubscribe func()
	ownerID     ownerIDCache
	// refresh asks the servers_refresh worker to re-read the servers from Plex.
	refresh chan struct{}
	// inviteBasePath is the base path of the invite handler (for links in user warnings).
	inviteBaseMu   sync.Mutex
	inviteBasePath string
	// metrics receives one call per Plex HTTP attempt (nil until metrics are wired).
	metrics func(plex.CallInfo)
	demoKey string
	demo    *demoHandle

	workersMu sync.Mutex
	workers   sync.WaitGroup
	running   int
	cancel    context.CancelFunc
	// extraWorkers lets tests add a worker to observe Stop's waiting.
	extraWorkers []worker
}

// PlexConfig is the `plex` block of the app.
type PlexConfig struct {
	// Token is the server owner's plex.tv token. Optional: the setup wizard asks for it otherwise.
	Token string `json:"token,omitempty"`
	// Servers are the base URLs of the Plex Media Servers to manage.
	Servers []string `json:"servers,omitempty"`
	// TVURL overrides https://plex.tv (tests, demo).
	TVURL string `json:"tv_url,omitempty"`
	// AuthURL overrides https://app.plex.tv/auth (tests, demo).
	AuthURL string `json:"auth_url,omitempty"`
}

// DiscordConfig is the `discord` block of the app.
type DiscordConfig struct {
	// ClientID is the Discord application's client id.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is the Discord application's secret; use a placeholder.
	ClientSecret string `json:"client_secret,omitempty"`
	// GuildID, when set, is the guild invitees must be members of when an invite asks for it.
	GuildID string `json:"guild_id,omitempty"`
	// BotToken, when set, is a Discord bot's token: user warnings (access ending, purge coming) are
	// then also sent as direct messages to users who linked Discord. Use a placeholder.
	BotToken string `json:"bot_token,omitempty"`
}

// resolvedConfig is the effective configuration after Provision.
type resolvedConfig struct {
	publicURL      string
	dataDir        string
	plexToken      string
	plexServers    []string
	tvURL          string
	authURL        string
	discordID      string
	discordSecret  string
	discordGuildID string
	discordBot     string
	apiKey         string
	syncEvery      time.Duration
	enforceEvery   time.Duration
	sessionPoll    time.Duration
	// fromCaddyfile names the settings fixed by the config (shown read-only in the UI).
	fromConfig map[string]bool
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "plex_manager",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision resolves secrets and defaults, opens (or reuses) the store and, in demo mode, the embedded
// Plex fake. It does no network I/O towards Plex and starts no goroutine of its own.
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger()
	a.refresh = make(chan struct{}, 1)

	if err := a.resolve(); err != nil {
		return err
	}
	if a.Demo {
		if err := a.provisionDemo(); err != nil {
			return err
		}
	}
	if err := a.provisionStore(); err != nil {
		return err
	}
	// The log viewer keeps the plugin's own lines, across reloads, in the shared handle.
	a.logger = teeLogs(a.logger, a.store.logs)
	if err := a.provisionPlex(); err != nil {
		return err
	}
	if err := a.provisionAccess(); err != nil {
		return err
	}
	if err := a.provisionInvites(); err != nil {
		return err
	}
	if err := a.provisionObservability(); err != nil {
		return err
	}
	return a.provisionUsers()
}

// resolve expands {env.*} and {file.*} placeholders and applies defaults.
func (a *App) resolve() error {
	repl := caddy.NewReplacer()
	expand := func(s string) string { return strings.TrimSpace(repl.ReplaceAll(s, "")) }

	r := resolvedConfig{fromConfig: map[string]bool{}}
	r.publicURL = strings.TrimRight(expand(a.PublicURL), "/")
	if r.publicURL != "" {
		r.fromConfig["public_url"] = true
	}
	r.dataDir = expand(a.DataDir)
	if r.dataDir == "" {
		r.dataDir = filepath.Join(caddy.AppDataDir(), "plex_manager")
		if a.Demo {
			r.dataDir = filepath.Join(r.dataDir, "demo")
		}
	}
	abs, err := filepath.Abs(r.dataDir)
	if err != nil {
		return fmt.Errorf("plex_manager: data_dir %q: %w", r.dataDir, err)
	}
	r.dataDir = abs

	if a.Plex != nil {
		r.plexToken = expand(a.Plex.Token)
		for _, s := range a.Plex.Servers {
			r.plexServers = append(r.plexServers, strings.TrimRight(expand(s), "/"))
		}
		r.tvURL = strings.TrimRight(expand(a.Plex.TVURL), "/")
		r.authURL = expand(a.Plex.AuthURL)
		if r.plexToken != "" {
			r.fromConfig["plex_token"] = true
		}
		if len(r.plexServers) > 0 {
			r.fromConfig["plex_servers"] = true
		}
	}
	if r.tvURL == "" {
		r.tvURL = "https://plex.tv"
	}
	if r.authURL == "" {
		r.authURL = "https://app.plex.tv/auth"
	}
	if a.Discord != nil {
		r.discordID = expand(a.Discord.ClientID)
		r.discordSecret = expand(a.Discord.ClientSecret)
		r.discordGuildID = expand(a.Discord.GuildID)
		r.discordBot = expand(a.Discord.BotToken)
		r.fromConfig["discord"] = true
	}
	r.apiKey = expand(a.APIKey)

	r.syncEvery = durationOr(a.SyncEvery, DefaultSyncEvery)
	r.enforceEvery = durationOr(a.EnforceEvery, DefaultEnforceEvery)
	r.sessionPoll = durationOr(a.SessionPoll, DefaultSessionPoll)
	for name, set := range map[string]bool{
		"sync_every": a.SyncEvery != 0, "enforce_every": a.EnforceEvery != 0, "session_poll": a.SessionPoll != 0,
	} {
		if set {
			r.fromConfig[name] = true
		}
	}
	a.resolved = r
	return nil
}

func durationOr(d caddy.Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// Validate checks the resolved configuration.
func (a *App) Validate() error {
	r := a.resolved
	if r.publicURL != "" {
		if err := checkAbsoluteURL(r.publicURL); err != nil {
			return fmt.Errorf("plex_manager: public_url: %w", err)
		}
	}
	for _, s := range r.plexServers {
		if err := checkAbsoluteURL(s); err != nil {
			return fmt.Errorf("plex_manager: plex server %q: %w", s, err)
		}
	}
	if err := checkAbsoluteURL(r.tvURL); err != nil {
		return fmt.Errorf("plex_manager: plex tv_url: %w", err)
	}
	if err := checkAbsoluteURL(r.authURL); err != nil {
		return fmt.Errorf("plex_manager: plex auth_url: %w", err)
	}
	if a.Discord != nil && (r.discordID == "" || r.discordSecret == "") {
		return errors.New("plex_manager: discord needs both client_id and client_secret (an unset {env.*} placeholder resolves to empty)")
	}
	if r.apiKey != "" && len(r.apiKey) < 24 {
		return errors.New("plex_manager: api_key must be at least 24 characters")
	}
	for name, d := range map[string]time.Duration{
		"sync_every": r.syncEvery, "enforce_every": r.enforceEvery, "session_poll": r.sessionPoll,
	} {
		if d < time.Second {
			return fmt.Errorf("plex_manager: %s must be at least 1s, got %s", name, d)
		}
	}
	return nil
}

// checkAbsoluteURL accepts http and https URLs with a host.
func checkAbsoluteURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// Start launches the background workers with a context that Stop cancels.
func (a *App) Start() error {
	if _, err := a.store.store.AppendEvent(storage.Event{
		At:      time.Now().UTC(),
		Type:    EventConfigLoaded,
		Actor:   "system",
		Message: "Configuration loaded",
		Data:    map[string]any{"demo": a.Demo, "version": Version},
	}); errors.Is(err, storage.ErrDiskFull) {
		// Start anyway: reads and Plex work go on, and the refusal says what to do.
		a.logger.Error("plex_manager: starting with the data disk full; changes are refused until space is freed", zap.Error(err))
	} else if err != nil {
		return fmt.Errorf("plex_manager: recording start: %w", err)
	}
	if _, err := a.issueSetupCode(); errors.Is(err, storage.ErrDiskFull) {
		a.logger.Error("plex_manager: no setup code issued: the data disk is full", zap.Error(err))
	} else if err != nil {
		return fmt.Errorf("plex_manager: setup code: %w", err)
	}
	a.subscribeEvents()
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	for _, w := range a.workerList() {
		a.startWorker(ctx, w)
	}
	a.logger.Info("plex_manager started",
		zap.String("data_dir", a.resolved.dataDir),
		zap.Bool("demo", a.Demo),
		zap.Int("workers", a.runningWorkers()))
	return nil
}

// Stop cancels the workers and waits (bounded) for them to finish their current step. The store stays
// open: it belongs to the pool and is closed by the last Cleanup.
func (a *App) Stop() error {
	if a.unsubscribe != nil {
		a.unsubscribe()
	}
	if a.cancel != nil {
		a.cancel()
	}
	done := make(chan struct{})
	go func() { a.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		a.logger.Error("plex_manager workers did not stop in time", zap.Duration("waited", stopTimeout))
		return errors.New("plex_manager: workers did not stop in time")
	}
	a.logger.Info("plex_manager stopped")
	return nil
}

// Cleanup releases what Provision acquired.
func (a *App) Cleanup() error {
	var errs []error
	if a.storeKey != "" {
		if err := releaseStore(a.storeKey, a.logger); err != nil {
			errs = append(errs, err)
		}
		a.storeKey, a.store = "", nil
	}
	if a.demoKey != "" {
		if err := releaseDemo(a.demoKey); err != nil {
			errs = append(errs, err)
		}
		a.demoKey, a.demo = "", nil
	}
	return errors.Join(errs...)
}

// health reports whether the app can serve.
func (a *App) health(context.Context) handlers.HealthReport {
	checks := map[string]string{}
	status := "ok"
	if err := a.store.ping(); err != nil {
		checks["store"] = "unavailable"
		status = "degraded"
	} else {
		checks["store"] = "ok"
	}
	if a.Demo {
		checks["plex"] = "demo"
	} else if a.ownerToken() == "" {
		checks["plex"] = "not configured"
	} else {
		checks["plex"] = "configured"
	}
	return handlers.HealthReport{Status: status, Checks: checks}
}

// Handler is the `http.handlers.plex_manager` HTTP handler. In `admin` mode it serves the admin UI and the
// REST API; in `invite` mode it serves the public invite pages. Requests outside BasePath are passed to
// the next handler.
type Handler struct {
	// Mode is "admin" or "invite".
	Mode string `json:"mode"`
	// BasePath is the path prefix the handler is mounted under (e.g. "/manage"); every link it emits
	// carries it. Use it with `handle /manage/*` (not `handle_path`). Default: "" (the site root).
	BasePath string `json:"base_path,omitempty"`

	app    *App
	inner  http.Handler
	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (*Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.plex_manager",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision finds this config's plex_manager app and builds the inner HTTP handler.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.BasePath = normalizeBasePath(h.BasePath)
	appIface, err := ctx.App("plex_manager")
	if err != nil {
		return fmt.Errorf("plex_manager handler: loading the plex_manager app: %w", err)
	}
	app, ok := appIface.(*App)
	if !ok {
		return fmt.Errorf("plex_manager handler: app has unexpected type %T", appIface)
	}
	h.app = app
	if app.store == nil {
		// ctx.App provisions an unconfigured app with defaults; that still opens the default store.
		return errors.New("plex_manager handler: the plex_manager app has no store")
	}
	h.logger = teeLogs(ctx.Logger(), app.store.logs)
	if h.Mode == handlers.ModeInvite {
		app.inviteBaseMu.Lock()
		app.inviteBasePath = h.BasePath
		app.inviteBaseMu.Unlock()
	}
	inner, err := handlers.New(handlers.Config{
		Mode:        h.Mode,
		BasePath:    h.BasePath,
		AppName:     "Plex Manager",
		PublicURL:   app.resolved.publicURL,
		AuthOrigins: authOrigins(app.resolved),
	}, app.handlerDeps(h.logger))
	if err != nil {
		return fmt.Errorf("plex_manager handler: %w", err)
	}
	h.inner = inner
	return nil
}

// authOrigins lists the origins the browser may be redirected to after a form POST.
func authOrigins(r resolvedConfig) []string {
	var out []string
	// The handler wants bare origins (scheme://host[:port]), not the auth page's URL.
	if u, err := url.Parse(r.authURL); err == nil && u.Host != "" {
		out = append(out, u.Scheme+"://"+u.Host)
	}
	out = append(out, "https://discord.com")
	return out
}

// handlerDeps builds what the HTTP layer needs from the app.
func (a *App) handlerDeps(logger *zap.Logger) handlers.Deps {
	r := a.resolved
	fixed := handlers.FixedSettings{PlexToken: r.plexToken != "", PlexServers: r.plexServers}
	if r.fromConfig["public_url"] {
		fixed.PublicURL = r.publicURL
	}
	return handlers.Deps{
		Logger:          logger,
		Health:          a.health,
		Version:         Version,
		Store:           a.store.store,
		Sealer:          a.store.sealer,
		Throttle:        a.store.throttle,
		Plex:            a.plex,
		PlexToken:       a.ownerToken,
		BootstrapAPIKey: r.apiKey,
		Fixed:           fixed,
		Features:        a.features(),
		StreamCount:     a.streamCount,
		SettingsChanged: a.settingsChanged,
		StoreGeneration: a.store.store.Generation,
	}
}

// normalizeBasePath turns "", "/" and "/manage/" into "" and "/manage".
func normalizeBasePath(p string) string {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// Validate checks the mode and base path.
func (h *Handler) Validate() error {
	switch h.Mode {
	case handlers.ModeAdmin, handlers.ModeInvite:
	default:
		return fmt.Errorf("plex_manager handler: mode must be %q or %q, got %q", handlers.ModeAdmin, handlers.ModeInvite, h.Mode)
	}
	if strings.ContainsAny(h.BasePath, "*?#{} ") {
		return fmt.Errorf("plex_manager handler: base_path %q must be a plain path", h.BasePath)
	}
	return nil
}

// ServeHTTP serves requests under BasePath and passes the others on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !underBasePath(r.URL.Path, h.BasePath) {
		return next.ServeHTTP(w, r)
	}
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		r = r.WithContext(handlers.WithClientIP(r.Context(), ip))
	}
	h.inner.ServeHTTP(w, r)
	return nil
}

// underBasePath reports whether path is the base path itself or below it.
func underBasePath(path, base string) bool {
	if base == "" {
		return true
	}
	return path == base || strings.HasPrefix(path, base+"/")
}

// Interface guards.
var (
	_ caddy.App                   = (*App)(nil)
	_ caddy.Provisioner           = (*App)(nil)
	_ caddy.Validator             = (*App)(nil)
	_ caddy.CleanerUpper          = (*App)(nil)
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
