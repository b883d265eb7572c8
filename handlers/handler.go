package handlers

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/handlers/assets"
	"github.com/plex-manager/caddy-plex-manager/handlers/render"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// server is the http.Handler New returns: one per mounted handler.
type server struct {
	cfg     Config
	deps    Deps
	logger  *zap.Logger
	headers securityHeaders
	render  *render.Renderer
	assets  *assets.Assets
	mux     *web.Mux
	clock   func() time.Time
	// core is the store-backed authentication of the admin handler (nil without a store, and on
	// the invite handler).
	core *authCore
	// name is the app name last read from the settings, with the store generation it was read
	// at (only with Deps.StoreGeneration).
	name atomic.Pointer[cachedName]
}

// cachedName is an app name read at a store generation.
type cachedName struct {
	gen  uint64
	name string
}

// New validates cfg, parses the templates once and builds the routes of one mounted handler:
// its own (health, static files, and in admin mode sign-in, setup, admins, API keys, settings)
// and those of every feature in deps.Features. The returned handler expects the full request
// path (BasePath included) and serves nothing outside BasePath.
func New(cfg Config, deps Deps) (http.Handler, error) {
	return newServer(cfg, deps, templates.Files())
}

// newServer is New with the template tree as a parameter (tests use a modified one; a
// development override of the templates directory can use it too).
func newServer(cfg Config, deps Deps, files fs.FS) (*server, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	s := &server{
		cfg:     cfg,
		deps:    deps,
		logger:  deps.Logger,
		headers: newSecurityHeaders(contentSecurityPolicy(cfg.AuthOrigins)),
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	s.clock = deps.Now
	if s.clock == nil {
		s.clock = time.Now
	}
	authenticator := deps.Authenticator
	if cfg.Mode == ModeAdmin && deps.Store != nil {
		if s.core, err = newAuthCore(deps, s.clock); err != nil {
			return nil, fmt.Errorf("plex_manager handler: %w", err)
		}
		if authenticator == nil {
			authenticator = s.core
		}
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("plex_manager handler: opening static files: %w", err)
	}
	// The Mux is built after the renderer, which needs the Mux's error view: the closures below
	// only run at request time.
	var mux *web.Mux
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mux.NotFound(w, r) })
	if s.assets, err = assets.New(static, cfg.BasePath+"/static", notFound); err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	s.render, err = render.New(render.Options{
		FS:        files,
		BasePath:  cfg.BasePath,
		AssetURL:  s.assets.URL,
		Logger:    s.logger,
		ErrorPage: errorPageName,
		ErrorData: func(r *http.Request, status int) any { return mux.ErrorData(r, status) },
	})
	if err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	mux, err = web.NewMux(web.Options{
		Mode:          cfg.Mode,
		BasePath:      cfg.BasePath,
		Renderer:      s.render,
		App:           web.AppInfo{Name: cfg.AppName, Mode: cfg.Mode, Version: deps.Version},
		Auth:          authenticator,
		AppName:       s.appName,
		Logger:        s.logger,
		SecureCookies: cfg.secureCookies(),
	})
	if err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	s.mux = mux
	s.routes()
	for _, f := range deps.Features {
		if f != nil {
			f.Routes(mux)
		}
	}
	s.fallbackRoutes()
	if err := mux.Finish(); err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	return s, nil
}

// errorPageName is the page (pages/error.html) used for every error response.
const errorPageName = "error"

// ServeHTTP sets the security headers, then dispatches. A panicking route gets a 500 page when
// nothing was written yet.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.headers.set(w.Header())
	tw := &trackingWriter{ResponseWriter: w}
	defer s.recoverPanic(tw, r)
	s.mux.ServeHTTP(tw, r)
}

// Routes returns every route the handler serves, in registration order: its own and those its
// features registered for its mode (the admin handler has no public routes, the invite handler no
// page or API routes).
func (s *server) Routes() []web.RouteInfo { return s.mux.Routes() }

// Routes returns the routes h serves when h is a handler New returned (ok false for any other
// handler). The root offers them on Caddy's admin endpoint (GET /plex_manager/routes), so tests and
// operators can list what a running handler serves, with each route's least role and CSRF guard.
func Routes(h http.Handler) (routes []web.RouteInfo, ok bool) {
	s, ok := h.(*server)
	if !ok || s == nil || s.mux == nil {
		return nil, false
	}
	return s.Routes(), true
}

// recoverPanic turns a panic in a route into a logged 500 page (if the response has not started).
// http.ErrAbortHandler keeps its meaning and is re-raised.
func (s *server) recoverPanic(tw *trackingWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(v)
	}
	s.logger.Error("panic in handler", zap.Any("panic", v), zap.String("method", r.Method))
	if !tw.wrote {
		s.mux.ErrorPage(tw, r, http.StatusInternalServerError)
	}
}

// trackingWriter records whether the response has started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// appName returns the application name from the settings ("" when unset or unreadable). With
// Deps.StoreGeneration the name read is reused until the store changes.
func (s *server) appName() string {
	if s.deps.Store == nil {
		return ""
	}
	gen := s.deps.StoreGeneration
	if gen == nil {
		a, err := LoadAppSettings(s.deps.Store)
		if err != nil {
			return ""
		}
		return a.AppName
	}
	// The counter is read before the settings: a write committed after this point changes it, so
	// the name read below is never reused past that write.
	g := gen()
	if c := s.name.Load(); c != nil && c.gen == g {
		return c.name
	}
	a, err := LoadAppSettings(s.deps.Store)
	if err != nil {
		return ""
	}
	s.name.Store(&cachedName{gen: g, name: a.AppName})
	return a.AppName
}
