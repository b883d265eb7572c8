package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRouterProtectsStateChangingRoutes(t *testing.T) {
	changed := 0
	h := func(w http.ResponseWriter, r *http.Request) {
		if !ParseForm(w, r) {
			return
		}
		changed++
		_, _ = io.WriteString(w, "name="+r.PostForm.Get("name"))
	}
	m := newTestMux(t, Options{BasePath: "/b", MaxBody: 64, Auth: &testAuth{}}, func(m *Mux) {
		m.Open("POST", "/things", http.HandlerFunc(h))
		m.Open(http.MethodPut, "/things/{id}", http.HandlerFunc(h))
		m.Open(http.MethodPatch, "/things/{id}", http.HandlerFunc(h))
		m.Open(http.MethodDelete, "/things/{id}", http.HandlerFunc(h))
		m.Open("POST", "/upload", http.HandlerFunc(h), MaxBody(1024))
		m.Open("GET", "/things", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "list") }))
		m.Page("POST", "/page", RoleAuditor, h)
		m.API("POST", "/api", RoleAuditor, h, APIDoc{Summary: "x"})
	})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	crossSite := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site", "Cookie": "who=admin"}
	for _, r := range []struct{ method, path string }{{"POST", "/b/things"}, {"PUT", "/b/things/1"}, {"PATCH", "/b/things/1"},
		{"DELETE", "/b/things/1"}, {"POST", "/b/page"}, {"POST", "/b/api/v1/api"}} {
		if rec := do(m, r.method, r.path, crossSite, strings.NewReader("name=x")); rec.Code != http.StatusForbidden {
			t.Errorf("cross-site %s %s: %d, want 403", r.method, r.path, rec.Code)
		}
	}
	for _, r := range []struct{ method, path string }{{"POST", "/b/things"}, {"PUT", "/b/things/1"}, {"PATCH", "/b/things/1"}, {"DELETE", "/b/things/1"}} {
		want := "name=x"
		if r.method == "DELETE" {
			want = "name=" // net/http parses form bodies of POST, PUT and PATCH only
		}
		if rec := do(m, r.method, r.path, form, strings.NewReader("name=x")); rec.Code != 200 || rec.Body.String() != want {
			t.Errorf("same-origin %s %s: %d %q", r.method, r.path, rec.Code, rec.Body.String())
		}
	}
	if changed != 4 {
		t.Errorf("handler ran %d times, want 4 (refused requests must not reach it)", changed)
	}
	if rec := do(m, "GET", "/b/things", map[string]string{"Sec-Fetch-Site": "cross-site"}, nil); rec.Code != 200 {
		t.Errorf("cross-site GET: %d", rec.Code)
	}

	big := "name=" + strings.Repeat("x", 100) // over the 64-byte default
	if rec := do(m, "POST", "/b/things", form, strings.NewReader(big)); rec.Code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(rec.Body.String(), "Request too large") {
		t.Errorf("declared oversize body: %d %q", rec.Code, rec.Body.String())
	}
	// A chunked body announces no length: the limit is hit while parsing.
	req := httptest.NewRequest("POST", "/b/things", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
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
	m.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize multipart body: %d, want 413", rec.Code)
	}
	if rec := do(m, "POST", "/b/upload", form, strings.NewReader(big)); rec.Code != 200 {
		t.Errorf("route with a larger limit: %d", rec.Code)
	}
	if rec := do(m, "POST", "/b/things", form, strings.NewReader("%zz=1")); rec.Code != http.StatusBadRequest {
		t.Errorf("malformed form: %d, want 400", rec.Code)
	}
	// An API route answers an oversize body with JSON.
	apiBig := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer admin"}
	if rec := do(m, "POST", "/b/api/v1/api", apiBig, strings.NewReader(big)); rec.Code != 413 || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("API oversize body: %d %q", rec.Code, rec.Body.String())
	}
}

func TestRouterRegistrationErrors(t *testing.T) {
	m, err := NewMux(Options{Mode: ModeAdmin, Renderer: testRenderer(t, "", func(*http.Request, int) any { return nil })})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(http.ResponseWriter, *http.Request) {}
	m.Page("GET", "/a", RoleAuditor, ok)
	m.Page("GET", "/a", RoleAuditor, ok)                  // conflicts: ServeMux would panic
	m.Page("GET", "relative", RoleAuditor, ok)            // not a path
	m.Open("GET", "", http.HandlerFunc(ok))               // the base itself, but there is no base
	m.Page("GET", "/norole", RoleNone, ok)                // a guarded route needs a role
	m.API("GET", "/nosummary", RoleAuditor, ok, APIDoc{}) // undocumented
	m.API("GET", "/p/{id}", RoleAuditor, ok, APIDoc{Summary: "x", Params: []Param{{Name: "other", In: ParamPath}}})
	m.API("GET", "/body", RoleAuditor, ok, APIDoc{Summary: "x", Request: struct{}{}})
	err = m.Finish()
	if err == nil {
		t.Fatal("no error for bad registrations")
	}
	for _, want := range []string{`"GET /a"`, `"relative"`, `""`, `"/norole"`, "no Summary", `path parameter "other"`, "cannot take a request body"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	m.Page("GET", "/late", RoleAuditor, ok)
	if m.Has("GET", "/late") {
		t.Error("a route was registered after Finish")
	}
}

func TestModeFiltersRouteKinds(t *testing.T) {
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ran") }
	feature := FeatureFunc(func(r Router) {
		r.Page("GET", "/p", RoleAuditor, ok)
		r.API("GET", "/a", RoleAuditor, ok, APIDoc{Summary: "a", Response: []string{}})
		r.Public("GET", "/pub", ok)
	})
	admin := newTestMux(t, Options{Mode: ModeAdmin, Auth: &testAuth{}}, func(m *Mux) { feature.Routes(m) })
	invite := newTestMux(t, Options{Mode: ModeInvite, Auth: &testAuth{}}, func(m *Mux) { feature.Routes(m) })
	cookie := map[string]string{"Cookie": "who=admin"}
	for _, tt := range []struct {
		h      http.Handler
		path   string
		status int
	}{
		{admin, "/p", 200}, {admin, "/api/v1/a", 200}, {admin, "/pub", 404},
		{invite, "/p", 404}, {invite, "/api/v1/a", 404}, {invite, "/pub", 200},
	} {
		if rec := do(tt.h, "GET", tt.path, cookie, nil); rec.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.path, rec.Code, tt.status)
		}
	}
	if invite.OpenAPI() != nil {
		t.Error("the invite handler has an OpenAPI document")
	}
}

func TestCookies(t *testing.T) {
	tests := []struct {
		base   string
		secure bool
		maxAge time.Duration
		name   string
		path   string
		age    int
	}{
		{"", true, 0, "__Host-sid", "/", 0},
		{"/manage", true, time.Hour, "sid", "/manage", 3600},
		{"", false, -time.Second, "sid", "/", -1},
		{"/m", false, 90 * time.Second, "sid", "/m", 90},
	}
	for _, tt := range tests {
		var got *http.Cookie
		var name string
		m := newTestMux(t, Options{BasePath: tt.base, SecureCookies: tt.secure}, func(m *Mux) {
			m.Open("GET", "/c", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = NewCookie(r, "sid", "v", tt.maxAge)
				name = CookieName(r, "sid")
			}))
		})
		do(m, "GET", tt.base+"/c", nil, nil)
		if got == nil {
			t.Fatalf("%+v: handler did not run", tt)
		}
		// A request over TLS always gets Secure cookies (and the prefix at the root).
		req := httptest.NewRequest("GET", "https://example.com"+tt.base+"/c", nil)
		m.ServeHTTP(httptest.NewRecorder(), req)
		if !got.Secure || (tt.base == "") != strings.HasPrefix(got.Name, "__Host-") {
			t.Errorf("%+v over TLS: cookie %+v", tt, got)
		}
		do(m, "GET", tt.base+"/c", nil, nil)
		if got.Name != tt.name || name != tt.name || got.Path != tt.path || got.Secure != tt.secure || got.MaxAge != tt.age ||
			!got.HttpOnly || got.SameSite != http.SameSiteLaxMode {
			t.Errorf("%+v: cookie %+v (name %q)", tt, got, name)
		}
	}
}

func TestJSONError(t *testing.T) {
	rec := httptest.NewRecorder()
	JSONError(rec, http.StatusBadRequest, `field "expires_at": <not a time>`)
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 400 || got["error"] != `field "expires_at": <not a time>` || len(got) != 1 {
		t.Errorf("got %d %v", rec.Code, got)
	}
	if strings.Contains(rec.Body.String(), "<not") {
		t.Errorf("HTML not escaped in JSON: %s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	JSON(rec, http.StatusOK, map[string]any{"bad": make(chan int)})
	if rec.Code != http.StatusInternalServerError || strings.TrimSpace(rec.Body.String()) != `{"error":"internal server error"}` {
		t.Errorf("unencodable value: %d %q", rec.Code, rec.Body.String())
	}
}

func TestRoutesReportCSRFAndBodyLimit(t *testing.T) {
	ok := func(http.ResponseWriter, *http.Request) {}
	m := newTestMux(t, Options{BasePath: "/b", MaxBody: 4096, Auth: &testAuth{}}, func(m *Mux) {
		m.Page("GET", "/p", RoleAuditor, ok)
		m.Page("POST", "/p", RoleModerator, ok)
		m.API("PUT", "/a/{id}", RoleAdmin, ok, APIDoc{Summary: "x"})
		m.Open("POST", "/upload", http.HandlerFunc(ok), MaxBody(1<<20))
		m.Open("GET", "/healthz", http.HandlerFunc(ok))
	})
	want := map[string]RouteInfo{
		"GET /b/p":                   {Kind: KindPage, Min: RoleAuditor},
		"POST /b/p":                  {Kind: KindPage, Min: RoleModerator, CSRF: true, MaxBody: 4096},
		"PUT /b/api/v1/a/{id}":       {Kind: KindAPI, Min: RoleAdmin, CSRF: true, MaxBody: 4096},
		"POST /b/upload":             {Kind: KindOpen, CSRF: true, MaxBody: 1 << 20},
		"GET /b/healthz":             {Kind: KindOpen},
		"GET /b/api/v1/openapi.json": {Kind: KindAPI, Min: RoleAuditor},
	}
	got := m.Routes()
	if len(got) != len(want) {
		t.Fatalf("%d routes, want %d: %+v", len(got), len(want), got)
	}
	for _, r := range got {
		w, ok := want[r.Method+" "+r.Path]
		if !ok || r.Kind != w.Kind || r.Min != w.Min || r.CSRF != w.CSRF || r.MaxBody != w.MaxBody {
			t.Errorf("%s %s: %+v, want %+v", r.Method, r.Path, r, w)
		}
	}
}
