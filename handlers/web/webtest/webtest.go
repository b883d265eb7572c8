// Package webtest runs feature packages' routes inside the real handler (templates, security
// headers, CSRF protection, body limits, role guards) for httptest-based tests, with requests
// authenticated by role instead of a real sign-in.
//
//	srv := webtest.New(t, webtest.Options{Mode: web.ModeAdmin, Features: []web.Feature{myFeature}})
//	rec := srv.Do("GET", "/invites", web.RoleModerator, nil)      // a browser session
//	rec = srv.API("POST", "/invites", web.RoleAdmin, `{"label":"x"}`) // a bearer API key
//	rec = srv.Do("GET", "/invites", web.RoleNone, nil)            // anonymous: 303 to the sign-in page
package webtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// roleCookie carries the test role of a browser request.
const roleCookie = "webtest_role"

// Options configures New.
type Options struct {
	// Mode is web.ModeAdmin (default) or web.ModeInvite.
	Mode string
	// BasePath is "" or "/segment…".
	BasePath string
	// PublicURL sets the handler's public URL (https makes cookies Secure).
	PublicURL string
	// Features are mounted as the root would.
	Features []web.Feature
	// Deps are further dependencies; Features and Authenticator are filled in by New.
	Deps handlers.Deps
}

// Server is a handler built by New.
type Server struct {
	t    testing.TB
	h    http.Handler
	base string
}

// New builds the real handler with opts' features and the role-based test authenticator.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Mode == "" {
		opts.Mode = web.ModeAdmin
	}
	deps := opts.Deps
	deps.Features = opts.Features
	deps.Authenticator = roleAuth{}
	h, err := handlers.New(handlers.Config{Mode: opts.Mode, BasePath: opts.BasePath, PublicURL: opts.PublicURL}, deps)
	if err != nil {
		t.Fatalf("webtest: building the handler: %v", err)
	}
	return &Server{t: t, h: h, base: opts.BasePath}
}

// ServeHTTP serves r with the handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// Do sends a browser-like request to base path + path as a session of role (web.RoleNone:
// anonymous). A non-nil body is sent as a urlencoded form (or with the Content-Type given in
// headers, as "Name", "value" pairs).
func (s *Server) Do(method, path string, as web.Role, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, s.base+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if as != web.RoleNone {
		req.AddCookie(&http.Cookie{Name: roleCookie, Value: as.String()})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// API sends a request to base path + /api/v1 + path with a bearer key of role (web.RoleNone:
// none) and body as JSON ("" for none).
func (s *Server) API(method, path string, as web.Role, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, s.base+web.APIPrefix+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if as != web.RoleNone {
		req.Header.Set("Authorization", "Bearer test-"+as.String())
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// Decode reads rec's body as a JSON T, failing the test (with the body) when it is not one.
func Decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body.String(), err)
	}
	return v
}

// Principal returns the principal the test authenticator gives a role.
func Principal(role web.Role, via string) web.Principal {
	p := web.Principal{Name: "test-" + role.String(), Role: role, Via: via}
	if via == web.ViaAPIKey {
		p.KeyID = "key-" + role.String()
	} else {
		p.AdminID = "admin-" + role.String()
	}
	return p
}

// roleAuth authenticates by the role named in the request.
type roleAuth struct{}

func (roleAuth) Session(r *http.Request) (web.Principal, error) {
	c, err := r.Cookie(roleCookie)
	if err != nil {
		return web.Principal{}, web.ErrUnauthenticated
	}
	role, ok := web.ParseRole(c.Value)
	if !ok {
		return web.Principal{}, web.ErrUnauthenticated
	}
	return Principal(role, web.ViaSession), nil
}

func (roleAuth) Bearer(_ *http.Request, key string) (web.Principal, error) {
	role, ok := web.ParseRole(strings.TrimPrefix(key, "test-"))
	if !ok || !strings.HasPrefix(key, "test-") {
		return web.Principal{}, web.ErrUnauthenticated
	}
	return Principal(role, web.ViaAPIKey), nil
}

func (roleAuth) SetupPending(*http.Request) (bool, error) { return false, nil }
