package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/render"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// testAuth maps bearer keys and a "who" cookie to principals; setup reports SetupPending.
type testAuth struct {
	setup bool
}

// testPrincipals are the principals tests sign in as, by role name.
var testPrincipals = map[string]Principal{
	"auditor":   {AdminID: "id-aud", Name: "aud", Role: RoleAuditor, Via: ViaSession},
	"moderator": {AdminID: "id-mod", Name: "mod", Role: RoleModerator, Via: ViaSession},
	"admin":     {AdminID: "id-adm", Name: "adm", Role: RoleAdmin, Via: ViaSession},
}

func (a *testAuth) Session(r *http.Request) (Principal, error) {
	c, err := r.Cookie("who")
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	p, ok := testPrincipals[c.Value]
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func (a *testAuth) Bearer(_ *http.Request, key string) (Principal, error) {
	p, ok := testPrincipals[key]
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	p.Via, p.AdminID, p.KeyID = ViaAPIKey, "", "key-"+key
	return p, nil
}

func (a *testAuth) SetupPending(*http.Request) (bool, error) { return a.setup, nil }

// testRenderer parses the real templates.
func testRenderer(t *testing.T, base string, errorData func(*http.Request, int) any) *render.Renderer {
	t.Helper()
	rd, err := render.New(render.Options{
		FS:        templates.Files(),
		BasePath:  base,
		AssetURL:  func(name string) (string, error) { return base + "/static/x/" + name, nil },
		ErrorPage: "error",
		ErrorData: errorData,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// newTestMux builds a Mux over the real templates, lets register add routes, and finishes it.
func newTestMux(t *testing.T, opts Options, register func(m *Mux)) *Mux {
	t.Helper()
	var m *Mux
	opts.Renderer = testRenderer(t, opts.BasePath, func(r *http.Request, st int) any { return m.ErrorData(r, st) })
	if opts.Mode == "" {
		opts.Mode = ModeAdmin
	}
	var err error
	if m, err = NewMux(opts); err != nil {
		t.Fatal(err)
	}
	register(m)
	if err := m.Finish(); err != nil {
		t.Fatal(err)
	}
	return m
}

// do sends one request and returns the recorded response.
func do(h http.Handler, method, target string, headers map[string]string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for k, v := range headers {
		if k == "Cookie" {
			req.Header.Add(k, v)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
