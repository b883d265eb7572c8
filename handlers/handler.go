package handlers

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/handlers/assets"
	"github.com/plex-manager/caddy-plex-manager/handlers/render"
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
	mux     *http.ServeMux
}

// New validates cfg, parses the templates once and builds the routes of one mounted handler.
// The returned handler expects the full request path (BasePath included) and serves nothing
// outside BasePath.
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
		headers: securityHeaders{csp: contentSecurityPolicy(cfg.AuthOrigins)},
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("plex_manager handler: opening static files: %w", err)
	}
	if s.assets, err = assets.New(static, cfg.BasePath+"/static", http.HandlerFunc(s.notFound)); err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	s.render, err = render.New(render.Options{
		FS:        files,
		BasePath:  cfg.BasePath,
		AssetURL:  s.assets.URL,
		Logger:    s.logger,
		ErrorPage: errorPageName,
		ErrorData: s.errorData,
	})
	if err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger.Info("refused cross-origin request", zap.String("method", r.Method), zap.String("client_ip", ClientIP(r)))
		s.errorPage(w, r, http.StatusForbidden)
	}))
	rt := &router{
		mux:     http.NewServeMux(),
		base:    cfg.BasePath,
		cop:     cop,
		maxBody: DefaultMaxBodyBytes,
		tooLarge: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge)
		}),
	}
	s.routes(rt)
	if err := rt.err(); err != nil {
		return nil, fmt.Errorf("plex_manager handler: %w", err)
	}
	s.mux = rt.mux
	return s, nil
}

// ServeHTTP sets the security headers, then dispatches. Requests no route matches get the HTML
// (or JSON) 404 or 405 page instead of ServeMux's plain-text answers; a panicking route gets a
// 500 page when nothing was written yet.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.headers.set(w.Header())
	tw := &trackingWriter{ResponseWriter: w}
	defer s.recoverPanic(tw, r)
	if h, pattern := s.mux.Handler(r); pattern == "" {
		// ServeMux's own 404 and 405 handlers: learn which one (and its Allow header), then answer
		// with our page.
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			tw.Header().Set("Allow", probe.header.Get("Allow"))
			s.errorPage(tw, r, http.StatusMethodNotAllowed)
			return
		}
		s.notFound(tw, r)
		return
	}
	s.mux.ServeHTTP(tw, r)
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
		s.render.Error(tw, r, http.StatusInternalServerError)
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
