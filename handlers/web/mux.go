package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/handlers/render"
)

// Handler modes.
const (
	// ModeAdmin serves the admin UI and the REST API (Page, API and Open routes).
	ModeAdmin = "admin"
	// ModeInvite serves the public invite pages (Public and Open routes).
	ModeInvite = "invite"
)

// ErrUnauthenticated is what an Authenticator returns for a request without valid credentials.
var ErrUnauthenticated = errors.New("not authenticated")

// Authenticator resolves who makes a request. handlers implements it over the auth package;
// tests may substitute their own.
type Authenticator interface {
	// Session returns the principal of the request's session cookie, or ErrUnauthenticated.
	Session(r *http.Request) (Principal, error)
	// Bearer returns the principal of an API key, or ErrUnauthenticated.
	Bearer(r *http.Request, key string) (Principal, error)
	// SetupPending reports whether no admin exists yet (pages then lead to the setup wizard).
	SetupPending(r *http.Request) (bool, error)
}

// Options configures a Mux.
type Options struct {
	// Mode is ModeAdmin or ModeInvite.
	Mode string
	// BasePath is "" or "/segment…" without a trailing slash.
	BasePath string
	// Renderer renders pages and the error page (required).
	Renderer *render.Renderer
	// App is shown by the layout and names the OpenAPI document.
	App AppInfo
	// AppName, when set, returns the application name shown by pages (a setting the admin can
	// change); "" falls back to App.Name.
	AppName func() string
	// Auth authenticates Page and API routes; nil refuses them all as anonymous.
	Auth Authenticator
	// Logger receives refusals and errors; nil discards them.
	Logger *zap.Logger
	// MaxBody is the default body limit of state-changing routes (DefaultMaxBodyBytes if 0).
	MaxBody int64
	// SecureCookies sets Secure on cookies (public URL is https); with an empty base path cookies
	// then get the "__Host-" prefix.
	SecureCookies bool
}

// Mux is the router of one mounted handler: it implements Router for features, registers the
// handler's own routes with Open, guards every route by kind, and answers unknown paths and
// methods with the error page. Build it with NewMux, register, call Finish, then serve.
type Mux struct {
	mode     string
	base     string
	renderer *render.Renderer
	app      AppInfo
	auth     Authenticator
	appName  func() string
	logger   *zap.Logger
	maxBody  int64
	secure   bool
	flashKey []byte
	cop      *http.CrossOriginProtection
	mux      *http.ServeMux
	routes   []RouteInfo
	errs     []error
	openapi  []byte
	finished bool
}

// NewMux returns an empty Mux.
func NewMux(opts Options) (*Mux, error) {
	switch opts.Mode {
	case ModeAdmin, ModeInvite:
	default:
		return nil, fmt.Errorf("router: mode %q: want %q or %q", opts.Mode, ModeAdmin, ModeInvite)
	}
	if opts.Renderer == nil {
		return nil, errors.New("router: no renderer")
	}
	m := &Mux{
		mode:     opts.Mode,
		base:     opts.BasePath,
		renderer: opts.Renderer,
		app:      opts.App,
		auth:     opts.Auth,
		appName:  opts.AppName,
		logger:   opts.Logger,
		maxBody:  opts.MaxBody,
		secure:   opts.SecureCookies,
		flashKey: make([]byte, 32),
		mux:      http.NewServeMux(),
	}
	m.app.Mode = opts.Mode
	if m.logger == nil {
		m.logger = zap.NewNop()
	}
	if m.maxBody <= 0 {
		m.maxBody = DefaultMaxBodyBytes
	}
	_, _ = rand.Read(m.flashKey) // crypto/rand.Read never fails
	m.cop = http.NewCrossOriginProtection()
	m.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.logger.Info("refused cross-origin request", zap.String("method", r.Method), zap.String("client_ip", ClientIP(r)))
		m.errorPage(w, r, http.StatusForbidden)
	}))
	return m, nil
}

// Mode returns ModeAdmin or ModeInvite.
func (m *Mux) Mode() string { return m.mode }

// Page implements Router.
func (m *Mux) Page(method, pattern string, min Role, h http.HandlerFunc, opts ...RouteOption) {
	if m.mode != ModeAdmin {
		return
	}
	if !m.checkMin(method, pattern, min) {
		return
	}
	m.handle(RouteInfo{Method: method, Pattern: pattern, Path: m.base + pattern, Kind: KindPage, Min: min}, m.pageGuard(min, h), opts)
}

// API implements Router.
func (m *Mux) API(method, pattern string, min Role, h http.HandlerFunc, doc APIDoc, opts ...RouteOption) {
	if m.mode != ModeAdmin {
		return
	}
	if !m.checkMin(method, APIPrefix+pattern, min) {
		return
	}
	if !strings.HasPrefix(pattern, "/") {
		m.errs = append(m.errs, fmt.Errorf("route %s %q: path must start with /", method, pattern))
		return
	}
	doc, err := doc.normalize(method, pattern)
	if err != nil {
		m.errs = append(m.errs, fmt.Errorf("API route %s %s: %w", method, pattern, err))
		return
	}
	m.handle(RouteInfo{Method: method, Pattern: pattern, Path: m.base + APIPrefix + pattern, Kind: KindAPI, Min: min, Doc: doc},
		m.apiGuard(min, h), opts)
}

// Public implements Router.
func (m *Mux) Public(method, pattern string, h http.HandlerFunc, opts ...RouteOption) {
	if m.mode != ModeInvite {
		return
	}
	m.handle(RouteInfo{Method: method, Pattern: pattern, Path: m.base + pattern, Kind: KindPublic}, h, opts)
}

// Open registers a route of the handler itself that needs no authentication, in either mode
// (health, static files, sign-in, setup). State-changing methods still get CSRF protection and
// the body limit.
func (m *Mux) Open(method, pattern string, h http.Handler, opts ...RouteOption) {
	m.handle(RouteInfo{Method: method, Pattern: pattern, Path: m.base + pattern, Kind: KindOpen}, h, opts)
}

// Has reports whether a route for method and pattern (relative to the base path) is registered.
func (m *Mux) Has(method, pattern string) bool {
	return slices.ContainsFunc(m.routes, func(r RouteInfo) bool { return r.Method == method && r.Path == m.base+pattern })
}

// checkMin refuses a guarded route registered without a role.
func (m *Mux) checkMin(method, pattern string, min Role) bool {
	if min < RoleAuditor || min > RoleAdmin {
		m.errs = append(m.errs, fmt.Errorf("route %s %q: the least role must be RoleAuditor, RoleModerator or RoleAdmin", method, pattern))
		return false
	}
	return true
}

// handle registers h for info after applying the defaults every route needs.
func (m *Mux) handle(info RouteInfo, h http.Handler, opts []RouteOption) {
	if m.finished {
		m.errs = append(m.errs, fmt.Errorf("route %s %q: registered after Finish", info.Method, info.Pattern))
		return
	}
	// "" names the base path itself (so "/manage" can redirect to "/manage/"); only under a base.
	if !strings.HasPrefix(info.Pattern, "/") && (info.Pattern != "" || m.base == "" || info.Kind != KindOpen) {
		m.errs = append(m.errs, fmt.Errorf("route %s %q: path must start with /", info.Method, info.Pattern))
		return
	}
	if strings.ContainsAny(info.Method, " /") || info.Method == "" {
		m.errs = append(m.errs, fmt.Errorf("route %q %q: bad method", info.Method, info.Pattern))
		return
	}
	settings := routeSettings{maxBody: m.maxBody}
	for _, o := range opts {
		o(&settings)
	}
	if !safeMethod(info.Method) {
		info.CSRF, info.MaxBody = true, settings.maxBody
		h = m.cop.Handler(limitBody(settings.maxBody, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.errorPage(w, r, http.StatusRequestEntityTooLarge)
		}), h))
	}
	if err := register(m.mux, info.Method+" "+info.Path, h); err != nil {
		m.errs = append(m.errs, err)
		return
	}
	m.routes = append(m.routes, info)
}

// Finish registers GET {base}/api/v1/openapi.json (admin mode), builds the OpenAPI document and
// reports every registration error at once. Nothing can be registered afterwards.
func (m *Mux) Finish() error {
	if m.mode == ModeAdmin && !m.finished {
		m.API(http.MethodGet, "/openapi.json", RoleAuditor, m.serveOpenAPI, APIDoc{
			Summary:  "This document: the OpenAPI 3.1 description of every API route",
			Tags:     []string{"meta"},
			Response: map[string]any{},
		})
		doc, err := buildOpenAPI(m.routes, m.app.Name, m.app.Version, m.base+APIPrefix)
		if err != nil {
			m.errs = append(m.errs, err)
		}
		m.openapi = doc
	}
	m.finished = true
	return errors.Join(m.errs...)
}

// OpenAPI returns the OpenAPI document (after Finish; nil in invite mode).
func (m *Mux) OpenAPI() []byte { return m.openapi }

// serveOpenAPI answers GET {base}/api/v1/openapi.json.
func (m *Mux) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.openapi)
	}
}

// Routes returns every registered route, in registration order.
func (m *Mux) Routes() []RouteInfo { return slices.Clone(m.routes) }

// pageGuard admits signed-in admins whose role allows min.
func (m *Mux) pageGuard(min Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.auth != nil {
			pending, err := m.auth.SetupPending(r)
			if err != nil {
				ServerError(w, r, m.logger, "checking for the first admin", err)
				return
			}
			if pending {
				m.renderer.Redirect(w, r, m.base+SetupPath)
				return
			}
		}
		p, err := m.sessionPrincipal(r)
		if errors.Is(err, ErrUnauthenticated) {
			target := m.base + LoginPath
			if r.Method == http.MethodGet {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			m.renderer.Redirect(w, r, target)
			return
		}
		if err != nil {
			ServerError(w, r, m.logger, "reading the session", err)
			return
		}
		r = r.WithContext(WithPrincipal(r.Context(), p))
		if !p.Role.Allows(min) {
			m.logger.Info("refused: role too low", zap.String("actor", p.Actor()), zap.String("needs", min.String()),
				zap.String("method", r.Method), zap.String("path", r.URL.Path))
			m.errorPage(w, r, http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// apiGuard admits API keys and browser sessions whose role allows min.
func (m *Mux) apiGuard(min Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			p   Principal
			err error
		)
		if authz := r.Header.Get("Authorization"); authz != "" {
			scheme, key, ok := strings.Cut(authz, " ")
			switch {
			case !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "":
				err = ErrUnauthenticated
			case m.auth == nil:
				err = ErrUnauthenticated
			default:
				p, err = m.auth.Bearer(r, strings.TrimSpace(key))
			}
		} else {
			p, err = m.sessionPrincipal(r)
		}
		if errors.Is(err, ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="plex_manager"`)
			JSONError(w, http.StatusUnauthorized, "authentication required: send Authorization: Bearer <api key>")
			return
		}
		if err != nil {
			ServerError(w, r, m.logger, "authenticating an API request", err)
			return
		}
		if !p.Role.Allows(min) {
			m.logger.Info("refused: role too low", zap.String("actor", p.Actor()), zap.String("needs", min.String()),
				zap.String("method", r.Method), zap.String("path", r.URL.Path))
			JSONError(w, http.StatusForbidden, "forbidden: this needs the "+min.String()+" role")
			return
		}
		h(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// sessionPrincipal asks the Authenticator for the session's principal.
func (m *Mux) sessionPrincipal(r *http.Request) (Principal, error) {
	if m.auth == nil {
		return Principal{}, ErrUnauthenticated
	}
	p, err := m.auth.Session(r)
	if err == nil && p.Role == RoleNone {
		return Principal{}, ErrUnauthenticated
	}
	return p, err
}

// ServeHTTP attaches the request environment and dispatches. Requests no route matches get the
// HTML (or JSON) 404 or 405 page instead of ServeMux's plain-text answers.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = m.withEnv(r)
	if h, pattern := m.mux.Handler(r); pattern == "" {
		// ServeMux's own 404 and 405 handlers: learn which one (and its Allow header), then
		// answer with our page.
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			m.errorPage(w, r, http.StatusMethodNotAllowed)
			return
		}
		m.errorPage(w, r, http.StatusNotFound)
		return
	}
	m.mux.ServeHTTP(w, r)
}

// NotFound answers 404 (the HTML page, or JSON under the API).
func (m *Mux) NotFound(w http.ResponseWriter, r *http.Request) {
	m.ErrorPage(w, r, http.StatusNotFound)
}

// ErrorPage answers status with the error page (JSON under the API), also for a request that has
// not been through ServeHTTP (a panic recovered outside it).
func (m *Mux) ErrorPage(w http.ResponseWriter, r *http.Request, status int) {
	if envFrom(r) == nil {
		r = m.withEnv(r)
	}
	m.errorPage(w, r, status)
}

// probeWriter captures the status and headers of ServeMux's fallback handlers and discards
// their body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }

func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

// safeMethod reports whether a method must not change state (and so passes CSRF checks).
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// register turns ServeMux's panic on an invalid or conflicting pattern into an error, so New
// fails cleanly instead of crashing Caddy's provisioning.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("registering route %q: %v", pattern, v)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// limitBody caps the request body at n bytes. A request that announces a larger body goes to
// tooLarge at once; reading past n otherwise fails with *http.MaxBytesError, which ParseForm and
// DecodeJSON turn into a 413.
func limitBody(n int64, tooLarge, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			tooLarge.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}
