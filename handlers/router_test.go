package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/templates"
)

// testRouterServer returns a server whose routes the test registers itself.
func testRouterServer(t *testing.T, register func(s *server, rt *router)) *server {
	t.Helper()
	s, err := newServer(Config{Mode: ModeAdmin, BasePath: "/b"}, Deps{}, templates.Files())
	if err != nil {
		t.Fatal(err)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.errorPage(w, r, http.StatusForbidden) }))
	rt := &router{mux: http.NewServeMux(), base: "/b", cop: cop, maxBody: 64,
		tooLarge: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.errorPage(w, r, http.StatusRequestEntityTooLarge) })}
	register(s, rt)
	if err := rt.err(); err != nil {
		t.Fatal(err)
	}
	s.mux = rt.mux
	return s
}

func TestRouterProtectsStateChangingRoutes(t *testing.T) {
	changed := 0
	s := testRouterServer(t, func(s *server, rt *router) {
		h := func(w http.ResponseWriter, r *http.Request) {
			if !s.parseForm(w, r) {
				return
			}
			changed++
			_, _ = io.WriteString(w, "name="+r.PostForm.Get("name"))
		}
		rt.post("/things", h)
		rt.handle(http.MethodPut, "/things/{id}", http.HandlerFunc(h))
		rt.handle(http.MethodPatch, "/things/{id}", http.HandlerFunc(h))
		rt.handle(http.MethodDelete, "/things/{id}", http.HandlerFunc(h))
		rt.post("/upload", h, withMaxBody(1024))
		rt.get("/things", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "list") })
	})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	crossSite := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"}
	for _, m := range []struct{ method, path string }{{"POST", "/b/things"}, {"PUT", "/b/things/1"}, {"PATCH", "/b/things/1"}, {"DELETE", "/b/things/1"}} {
		if rec := do(s, m.method, m.path, crossSite, strings.NewReader("name=x")); rec.Code != http.StatusForbidden {
			t.Errorf("cross-site %s %s: %d, want 403", m.method, m.path, rec.Code)
		}
		want := "name=x"
		if m.method == "DELETE" {
			want = "name=" // net/http parses form bodies of POST, PUT and PATCH only
		}
		if rec := do(s, m.method, m.path, form, strings.NewReader("name=x")); rec.Code != 200 || rec.Body.String() != want {
			t.Errorf("same-origin %s %s: %d %q", m.method, m.path, rec.Code, rec.Body.String())
		}
	}
	if changed != 4 {
		t.Errorf("handler ran %d times, want 4 (refused requests must not reach it)", changed)
	}
	if rec := do(s, "GET", "/b/things", map[string]string{"Sec-Fetch-Site": "cross-site"}, nil); rec.Code != 200 {
		t.Errorf("cross-site GET: %d", rec.Code)
	}

	big := "name=" + strings.Repeat("x", 100) // over the 64-byte default
	if rec := do(s, "POST", "/b/things", form, strings.NewReader(big)); rec.Code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(rec.Body.String(), "Request too large") {
		t.Errorf("declared oversize body: %d %q", rec.Code, rec.Body.String())
	}
	// A chunked body announces no length: the limit is hit while parsing.
	req := httptest.NewRequest("POST", "/b/things", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversize body: %d, want 413", rec.Code)
	}
	// Multipart bodies are limited the same way.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("name", strings.Repeat("y", 200))
	_ = mw.Close()
	req = httptest.NewRequest("POST", "/b/things", &mp)
	req.ContentLength = -1
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize multipart body: %d, want 413", rec.Code)
	}
	if rec := do(s, "POST", "/b/upload", form, strings.NewReader(big)); rec.Code != 200 {
		t.Errorf("route with a larger limit: %d", rec.Code)
	}
	if rec := do(s, "POST", "/b/things", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("%zz=1")); rec.Code != http.StatusBadRequest {
		t.Errorf("malformed form: %d, want 400", rec.Code)
	}
}

func TestRouterRegistrationErrors(t *testing.T) {
	rt := &router{mux: http.NewServeMux(), base: "", cop: http.NewCrossOriginProtection(), maxBody: 1, tooLarge: http.NotFoundHandler()}
	ok := func(http.ResponseWriter, *http.Request) {}
	rt.get("/a", ok)
	rt.get("/a", ok)       // conflicts: ServeMux would panic
	rt.get("relative", ok) // not a path
	rt.get("", ok)         // the base itself, but there is no base
	err := rt.err()
	if err == nil {
		t.Fatal("no error for a conflicting, a relative and an empty pattern")
	}
	for _, want := range []string{`"GET /a"`, `"relative"`, `""`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestNewCookie(t *testing.T) {
	tests := []struct {
		cfg    Config
		maxAge time.Duration
		path   string
		secure bool
		age    int
	}{
		{Config{Mode: ModeAdmin, PublicURL: "https://plex.example.com"}, 0, "/", true, 0},
		{Config{Mode: ModeAdmin, BasePath: "/manage", PublicURL: "HTTPS://plex.example.com"}, time.Hour, "/manage", true, 3600},
		{Config{Mode: ModeAdmin, PublicURL: "http://localhost:8080"}, -time.Second, "/", false, -1},
		{Config{Mode: ModeAdmin}, 90 * time.Second, "/", false, 90},
	}
	for _, tt := range tests {
		s, err := newServer(tt.cfg, Deps{}, templates.Files())
		if err != nil {
			t.Fatal(err)
		}
		c := s.newCookie("sid", "v", tt.maxAge)
		if c.Path != tt.path || c.Secure != tt.secure || c.MaxAge != tt.age || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%+v: cookie %+v", tt.cfg, c)
		}
	}
}
