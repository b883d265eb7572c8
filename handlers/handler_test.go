package handlers

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// fixedAuth is a web.Authenticator that sees every request as the same principal (or as
// anonymous when the principal has no role).
type fixedAuth struct{ p web.Principal }

func (a fixedAuth) Session(*http.Request) (web.Principal, error) {
	if a.p.Role == web.RoleNone {
		return web.Principal{}, web.ErrUnauthenticated
	}
	return a.p, nil
}

func (a fixedAuth) Bearer(*http.Request, string) (web.Principal, error) { return a.Session(nil) }

func (fixedAuth) SetupPending(*http.Request) (bool, error) { return false, nil }

// signedInAdmin is an authenticator for tests of pages that are not about authentication.
var signedInAdmin = fixedAuth{web.Principal{AdminID: "a1", Name: "root", Role: web.RoleAdmin, Via: web.ViaSession}}

// newTestHandler builds the real handler (real templates) for cfg. Unless deps names an
// authenticator, every request is a signed-in admin.
func newTestHandler(t *testing.T, cfg Config, deps Deps) http.Handler {
	t.Helper()
	if deps.Authenticator == nil {
		deps.Authenticator = signedInAdmin
	}
	h, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return h
}

// do sends one request and returns the recorded response.
func do(h http.Handler, method, target string, headers map[string]string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// urlAttr finds every URL-bearing attribute in HTML output.
var urlAttr = regexp.MustCompile(`\s(?:href|src|action|hx-get|hx-post|hx-put|hx-patch|hx-delete)="([^"]*)"`)

// checkSecurityHeaders fails the test unless the response carries every security header.
func checkSecurityHeaders(t *testing.T, what string, h http.Header, authOrigins ...string) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if h.Get("Permissions-Policy") == "" {
		t.Errorf("%s: no Permissions-Policy", what)
	}
	csp := h.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
		"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, directive)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows unsafe code: %q", what, csp)
	}
	for _, o := range authOrigins {
		if !regexp.MustCompile(`form-action 'self'[^;]* ` + regexp.QuoteMeta(o) + `(?:;| |$)`).MatchString(csp) {
			t.Errorf("%s: CSP form-action lacks %s: %q", what, o, csp)
		}
	}
}

func TestModesAndBasePaths(t *testing.T) {
	for _, mode := range []string{ModeAdmin, ModeInvite} {
		for _, base := range []string{"", "/manage", "/a/b"} {
			t.Run(mode+base, func(t *testing.T) {
				h := newTestHandler(t, Config{Mode: mode, BasePath: base}, Deps{Version: "v1.2.3"})
				rec := do(h, "GET", base+"/", nil, nil)
				body := rec.Body.String()
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s/: %d", base, rec.Code)
				}
				want := map[string]string{ModeAdmin: "Dashboard", ModeInvite: "You need an invite link"}[mode]
				if !strings.Contains(body, want) || !strings.Contains(body, "<!doctype html>") {
					t.Errorf("GET %s/: page lacks %q: %s", base, want, body)
				}
				urls := urlAttr.FindAllStringSubmatch(body, -1)
				if len(urls) < 4 {
					t.Fatalf("found only %d URLs in the page", len(urls))
				}
				for _, m := range urls {
					u := m[1]
					if u == "#main" {
						continue // the skip link
					}
					if !strings.HasPrefix(u, base+"/") {
						t.Errorf("URL %q lacks the base path %q", u, base)
					}
					if strings.Contains(u, "/static/") {
						if r := do(h, "GET", u, nil, nil); r.Code != http.StatusOK {
							t.Errorf("asset %s: %d", u, r.Code)
						}
					}
				}
				if mode == ModeAdmin {
					for _, nav := range []string{"/users", "/invites", "/streams", "/events", "/settings"} {
						if !strings.Contains(body, `href="`+base+nav+`"`) {
							t.Errorf("admin nav lacks %s%s", base, nav)
						}
					}
					if !strings.Contains(body, `href="`+base+`/" aria-current="page"`) {
						t.Error("Dashboard is not marked as the current section")
					}
					if !strings.Contains(body, "v1.2.3") {
						t.Error("version missing from the admin footer")
					}
				}
			})
		}
	}
}

func TestNothingOutsideBasePath(t *testing.T) {
	for _, mode := range []string{ModeAdmin, ModeInvite} {
		h := newTestHandler(t, Config{Mode: mode, BasePath: "/manage"}, Deps{})
		page := do(h, "GET", "/manage/", nil, nil).Body.String()
		asset := regexp.MustCompile(`/manage(/static/[^"]+app\.css)`).FindStringSubmatch(page)
		if asset == nil {
			t.Fatalf("%s: no app.css URL in %s", mode, page)
		}
		for _, p := range []string{"/", "/healthz", asset[1], "/managex", "/managex/", "/users", "/abc"} {
			rec := do(h, "GET", p, nil, nil)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s: GET %s = %d, want 404", mode, p, rec.Code)
			}
		}
		rec := do(h, "GET", "/manage?x=1", nil, nil)
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/manage/?x=1" {
			t.Errorf("%s: GET /manage = %d Location %q, want 301 to /manage/?x=1", mode, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestErrorPages(t *testing.T) {
	tests := []struct {
		name, mode, method, path string
		headers                  map[string]string
		status                   int
		contains                 string
		allow                    string
	}{
		{"unknown admin path", ModeAdmin, "GET", "/manage/nope", nil, 404, "Not found", ""},
		{"deep invite path", ModeInvite, "GET", "/manage/a/b", nil, 404, "Not found", ""},
		{"trailing slash code", ModeInvite, "GET", "/manage/abc/", nil, 404, "Not found", ""},
		{"wrong method on page", ModeAdmin, "POST", "/manage/", nil, 405, "Method not allowed", "GET, HEAD"},
		{"wrong method on healthz", ModeAdmin, "DELETE", "/manage/healthz", nil, 405, "Method not allowed", "GET, HEAD"},
		{"api path gets JSON", ModeAdmin, "GET", "/manage/api/v1/nope", nil, 404, `{"error":"not found"}`, ""},
		{"htmx 404 gets fragment", ModeAdmin, "GET", "/manage/nope", map[string]string{"HX-Request": "true"}, 404, "Not found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t, Config{Mode: tt.mode, BasePath: "/manage"}, Deps{})
			rec := do(h, tt.method, tt.path, tt.headers, nil)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.status, tt.contains)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if strings.Contains(rec.Body.String(), "Method Not Allowed\n") || rec.Body.String() == "404 page not found\n" {
				t.Errorf("ServeMux's plain-text answer leaked: %q", rec.Body.String())
			}
			checkSecurityHeaders(t, tt.name, rec.Header())
		})
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	origins := []string{"https://app.plex.tv", "https://discord.com"}
	h := newTestHandler(t, Config{Mode: ModeInvite, BasePath: "/join", AuthOrigins: origins}, Deps{
		Health: func(context.Context) HealthReport { return HealthReport{Status: "degraded"} },
	})
	page := do(h, "GET", "/join/", nil, nil)
	asset := regexp.MustCompile(`"(/join/static/[^"]+app\.js)"`).FindStringSubmatch(page.Body.String())
	if asset == nil {
		t.Fatal("no app.js URL in the landing page")
	}
	requests := []struct {
		name, method, path string
		headers            map[string]string
		body               string
		status             int
	}{
		{"page", "GET", "/join/", nil, "", 200},
		{"invite", "GET", "/join/abc", nil, "", 404},
		{"static", "GET", asset[1], nil, "", 200},
		{"static 404", "GET", "/join/static/0000000000000000/app.js", nil, "", 404},
		{"healthz 503", "GET", "/join/healthz", nil, "", 503},
		{"404", "GET", "/join/x/y", nil, "", 404},
		{"405", "PUT", "/join/", nil, "", 405},
		{"outside base", "GET", "/elsewhere", nil, "", 404},
		{"csrf 403", "POST", "/join/abc", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", 403},
		{"413", "POST", "/join/abc", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.Repeat("a", int(web.DefaultMaxBodyBytes)+1), 413},
	}
	for _, r := range requests {
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		rec := do(h, r.method, r.path, r.headers, body)
		if rec.Code != r.status {
			t.Errorf("%s: status %d, want %d", r.name, rec.Code, r.status)
		}
		checkSecurityHeaders(t, r.name, rec.Header(), origins...)
		wantCache := "no-store"
		if r.name == "static" {
			wantCache = "public, max-age=31536000, immutable"
		}
		if got := rec.Header().Get("Cache-Control"); got != wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", r.name, got, wantCache)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	h := newTestHandler(t, Config{Mode: ModeAdmin, BasePath: "/m"}, Deps{})
	page := do(h, "GET", "/m/", nil, nil).Body.String()
	types := map[string]string{
		"app.css":            "text/css; charset=utf-8",
		"app.js":             "text/javascript; charset=utf-8",
		"theme.js":           "text/javascript; charset=utf-8",
		"vendor/htmx.min.js": "text/javascript; charset=utf-8",
		"icon.svg":           "image/svg+xml",
	}
	for name, ctype := range types {
		m := regexp.MustCompile(`"/m/static/([0-9a-f]{16})/` + regexp.QuoteMeta(name) + `"`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("%s: no hashed URL in the page", name)
			continue
		}
		want, err := fs.ReadFile(templates.Files(), "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		u := "/m/static/" + m[1] + "/" + name
		rec := do(h, "GET", u, nil, nil)
		if rec.Code != 200 || rec.Body.String() != string(want) {
			t.Errorf("%s: %d, %d bytes, want 200 with %d bytes", u, rec.Code, rec.Body.Len(), len(want))
		}
		if got := rec.Header().Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", u, got, ctype)
		}
		etag := rec.Header().Get("ETag")
		if etag == "" || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: ETag %q Cache-Control %q", u, etag, rec.Header().Get("Cache-Control"))
		}
		if r := do(h, "GET", u, map[string]string{"If-None-Match": etag}, nil); r.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", u, r.Code)
		}
		wrong := "/m/static/" + strings.Repeat("0", 16) + "/" + name
		if r := do(h, "GET", wrong, nil, nil); r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), "Not found") {
			t.Errorf("%s: %d, want the 404 page", wrong, r.Code)
		}
	}
	for _, p := range []string{"/m/static/", "/m/static/" + strings.Repeat("0", 16) + "/", "/m/static/" + strings.Repeat("0", 16) + "/vendor/"} {
		if r := do(h, "GET", p, nil, nil); r.Code != http.StatusNotFound {
			t.Errorf("directory %s: %d, want 404", p, r.Code)
		}
	}
}

func TestCrossOriginProtection(t *testing.T) {
	h := newTestHandler(t, Config{Mode: ModeInvite, PublicURL: "https://join.example.com"}, Deps{})
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		// 404 is the unusable-invite page: the request passed the check and reached the route.
		{"same-origin fetch metadata", map[string]string{"Sec-Fetch-Site": "same-origin"}, 404},
		{"user-initiated navigation", map[string]string{"Sec-Fetch-Site": "none"}, 404},
		{"same origin by Origin header", map[string]string{"Origin": "http://example.com"}, 404},
		{"non-browser client", nil, 404},
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"same-site subdomain", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://evil.example.com"}, 403},
		{"old browser, foreign origin", map[string]string{"Origin": "https://evil.example"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(h, "POST", "/somecode", tt.headers, strings.NewReader("a=1"))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			want := map[int]string{403: "Forbidden", 404: "This invite can"}[tt.status]
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("body lacks %q: %s", want, rec.Body.String())
			}
		})
	}
	// GET is never blocked (and must never change state).
	if rec := do(h, "GET", "/somecode", map[string]string{"Sec-Fetch-Site": "cross-site"}, nil); rec.Code != 404 {
		t.Errorf("cross-site GET: %d, want the invite page's 404", rec.Code)
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		health func(context.Context) HealthReport
		status int
		body   string
	}{
		{"ok with checks", ModeAdmin, func(context.Context) HealthReport {
			return HealthReport{Status: "ok", Checks: map[string]string{"store": "ok"}}
		}, 200, `{"status":"ok","checks":{"store":"ok"}}`},
		{"degraded", ModeAdmin, func(context.Context) HealthReport {
			return HealthReport{Status: "degraded", Checks: map[string]string{"plex": "unreachable"}}
		}, 503, `{"status":"degraded","checks":{"plex":"unreachable"}}`},
		{"invite hides checks", ModeInvite, func(context.Context) HealthReport {
			return HealthReport{Status: "degraded", Checks: map[string]string{"plex": "dial 192.168.1.20"}}
		}, 503, `{"status":"degraded"}`},
		{"empty status is not ok", ModeAdmin, func(context.Context) HealthReport { return HealthReport{} }, 503, `{"status":"unknown"}`},
		{"no health func", ModeAdmin, nil, 200, `{"status":"ok"}`},
		{"deadline passed on", ModeAdmin, func(ctx context.Context) HealthReport {
			if _, ok := ctx.Deadline(); !ok {
				return HealthReport{Status: "no deadline"}
			}
			return HealthReport{Status: "ok"}
		}, 200, `{"status":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t, Config{Mode: tt.mode, BasePath: "/p"}, Deps{Health: tt.health})
			rec := do(h, "GET", "/p/healthz", nil, nil)
			if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.body {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
		})
	}
}

func TestHTMXFragmentVersusFullPage(t *testing.T) {
	h := newTestHandler(t, Config{Mode: ModeAdmin}, Deps{})
	full := do(h, "GET", "/", nil, nil)
	frag := do(h, "GET", "/", map[string]string{"HX-Request": "true"}, nil)
	boosted := do(h, "GET", "/", map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, nil)
	for name, rec := range map[string]*httptest.ResponseRecorder{"full": full, "fragment": frag, "boosted": boosted} {
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<h1>Dashboard</h1>") {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Body.String())
		}
		if rec.Header().Get("Vary") != "HX-Request" {
			t.Errorf("%s: Vary %q", name, rec.Header().Get("Vary"))
		}
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{"full": full, "boosted": boosted} {
		if !strings.Contains(rec.Body.String(), "<nav") || !strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("%s: not a whole document", name)
		}
	}
	if b := frag.Body.String(); strings.Contains(b, "<html") || strings.Contains(b, "<nav") || strings.Contains(b, "<head>") {
		t.Errorf("fragment carries the layout: %q", b)
	}
}

// withPage returns the real template tree with one file replaced.
func withPage(t *testing.T, name, text string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(templates.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.Files(), p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m[name] = &fstest.MapFile{Data: []byte(text)}
	return m
}

func TestTemplateErrorIsCleanServerError(t *testing.T) {
	files := withPage(t, "pages/admin/home.html",
		`{{define "title"}}Dashboard{{end}}{{define "content"}}<p>PARTIAL-OUTPUT</p>{{.Data.NoSuchField}}{{end}}`)
	s, err := newServer(Config{Mode: ModeAdmin, BasePath: "/manage"}, Deps{Authenticator: signedInAdmin}, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, hx := range []string{"", "true"} {
		rec := do(s, "GET", "/manage/", map[string]string{"HX-Request": hx}, nil)
		body := rec.Body.String()
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("HX-Request=%q: status %d, want 500", hx, rec.Code)
		}
		if strings.Contains(body, "PARTIAL-OUTPUT") || strings.Contains(body, "NoSuchField") {
			t.Errorf("HX-Request=%q: partial output or internals leaked: %q", hx, body)
		}
		if !strings.Contains(body, "Something went wrong") {
			t.Errorf("HX-Request=%q: not the error page: %q", hx, body)
		}
		checkSecurityHeaders(t, "500", rec.Header())
	}
}

func TestPanicIsServerError(t *testing.T) {
	feature := web.FeatureFunc(func(rt web.Router) {
		rt.Page("GET", "/boom", web.RoleAuditor, func(http.ResponseWriter, *http.Request) { panic("boom") })
		rt.Page("GET", "/late", web.RoleAuditor, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			panic("late")
		})
		rt.Page("GET", "/abort", web.RoleAuditor, func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	})
	s, err := newServer(Config{Mode: ModeAdmin}, Deps{Authenticator: signedInAdmin, Features: []web.Feature{feature}}, templates.Files())
	if err != nil {
		t.Fatal(err)
	}
	rec := do(s, "GET", "/boom", nil, nil)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "Something went wrong") || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("panic: %d %q", rec.Code, rec.Body.String())
	}
	if rec := do(s, "GET", "/late", nil, nil); rec.Code != http.StatusAccepted {
		t.Errorf("panic after WriteHeader: status changed to %d", rec.Code)
	}
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("ErrAbortHandler was not re-raised: %v", v)
			}
		}()
		do(s, "GET", "/abort", nil, nil)
	}()
}

func TestUserDataRendersInert(t *testing.T) {
	evil := `<script>alert(1)</script>"onerror=alert(1)`
	h := newTestHandler(t, Config{Mode: ModeAdmin, AppName: evil}, Deps{Version: evil})
	body := do(h, "GET", "/", nil, nil).Body.String()
	for _, bad := range []string{"<script>alert", `"onerror=`} {
		if strings.Contains(body, bad) {
			t.Errorf("admin page contains %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onerror=alert(1)") {
		t.Errorf("app name not shown escaped: %s", body)
	}
	// Paths are never echoed into error or invite pages.
	inv := newTestHandler(t, Config{Mode: ModeInvite}, Deps{})
	for _, p := range []string{"/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/%22onerror=alert(1)", "/a/%3Cscript%3E"} {
		rec := do(inv, "GET", p, nil, nil)
		if b := rec.Body.String(); strings.Contains(b, "<script>alert") || strings.Contains(b, "onerror") || strings.Contains(b, "%3Cscript") {
			t.Errorf("GET %s echoed input: %s", p, b)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no mode", Config{}, "mode"},
		{"unknown mode", Config{Mode: "public"}, "mode"},
		{"root slash", Config{Mode: ModeAdmin, BasePath: "/"}, "base path"},
		{"trailing slash", Config{Mode: ModeAdmin, BasePath: "/manage/"}, "base path"},
		{"relative", Config{Mode: ModeAdmin, BasePath: "manage"}, "base path"},
		{"double slash", Config{Mode: ModeAdmin, BasePath: "/a//b"}, "base path"},
		{"dot dot", Config{Mode: ModeAdmin, BasePath: "/a/../b"}, "base path"},
		{"dot", Config{Mode: ModeAdmin, BasePath: "/."}, "base path"},
		{"pattern braces", Config{Mode: ModeAdmin, BasePath: "/{x}"}, "base path"},
		{"space", Config{Mode: ModeAdmin, BasePath: "/a b"}, "base path"},
		{"percent", Config{Mode: ModeAdmin, BasePath: "/a%20b"}, "base path"},
		{"public URL relative", Config{Mode: ModeAdmin, PublicURL: "plex.example.com"}, "public URL"},
		{"public URL scheme", Config{Mode: ModeAdmin, PublicURL: "ftp://plex.example.com"}, "public URL"},
		{"origin with path", Config{Mode: ModeInvite, AuthOrigins: []string{"https://app.plex.tv/auth"}}, "auth origin"},
		{"origin without scheme", Config{Mode: ModeInvite, AuthOrigins: []string{"app.plex.tv"}}, "auth origin"},
		{"origin javascript", Config{Mode: ModeInvite, AuthOrigins: []string{"javascript:alert(1)"}}, "auth origin"},
		{"origin injecting CSP", Config{Mode: ModeInvite, AuthOrigins: []string{"https://a.example; script-src *"}}, "auth origin"},
		{"origin with query", Config{Mode: ModeInvite, AuthOrigins: []string{"https://a.example?x"}}, "auth origin"},
		{"origin with user", Config{Mode: ModeInvite, AuthOrigins: []string{"https://u@a.example"}}, "auth origin"},
		{"origin wildcard", Config{Mode: ModeInvite, AuthOrigins: []string{"https://*.example"}}, "auth origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, Deps{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestConfigNormalisation(t *testing.T) {
	cfg, err := Config{Mode: ModeInvite, BasePath: "/a/b-c_d.e~f", AppName: "  ",
		AuthOrigins: []string{"https://App.Plex.tv/", "http://localhost:8080"}}.validate()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppName != DefaultAppName {
		t.Errorf("AppName %q, want the default", cfg.AppName)
	}
	if got := strings.Join(cfg.AuthOrigins, " "); got != "https://app.plex.tv http://localhost:8080" {
		t.Errorf("AuthOrigins %q", got)
	}
	if got, want := contentSecurityPolicy(cfg.AuthOrigins), "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "+
		"form-action 'self' https://app.plex.tv http://localhost:8080"; got != want {
		t.Errorf("CSP\n got %s\nwant %s", got, want)
	}
}

func TestClientIP(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "192.0.2.7:4321"
	if got := ClientIP(req); got != "192.0.2.7" {
		t.Errorf("from RemoteAddr: %q", got)
	}
	req.RemoteAddr = "[2001:db8::1]:443"
	if got := ClientIP(req); got != "2001:db8::1" {
		t.Errorf("from IPv6 RemoteAddr: %q", got)
	}
	req.RemoteAddr = "garbage"
	if got := ClientIP(req); got != "garbage" {
		t.Errorf("from malformed RemoteAddr: %q", got)
	}
	req = req.WithContext(WithClientIP(req.Context(), "203.0.113.9"))
	if got := ClientIP(req); got != "203.0.113.9" {
		t.Errorf("from context: %q", got)
	}
	req = req.WithContext(WithClientIP(req.Context(), ""))
	if got := ClientIP(req); got != "garbage" {
		t.Errorf("empty context value should fall back: %q", got)
	}
}
