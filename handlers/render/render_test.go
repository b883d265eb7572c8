package render

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// testFS is a small template tree shaped like templates/: a layout, a partial and pages.
func testFS() fstest.MapFS {
	return fstest.MapFS{
		"layouts/base.html": {Data: []byte(`{{define "base"}}<!doctype html><html><head><title>{{template "title" .}}</title>` +
			`<link rel="stylesheet" href="{{asset "app.css"}}"></head><body>{{template "nav" .}}<main>{{template "content" .}}</main></body></html>{{end}}`)},
		"partials/nav.html": {Data: []byte(`{{define "nav"}}<nav><a href="{{url "/"}}">Home</a></nav>{{end}}`)},
		"pages/error.html":  {Data: []byte(`{{define "title"}}Error {{.Status}}{{end}}{{define "content"}}<h1>Error page {{.Status}}</h1>{{end}}`)},
		"pages/admin/a.html": {Data: []byte(`{{define "title"}}Page A{{end}}{{define "content"}}<p>content of A: {{.Name}}</p>{{end}}` +
			`{{define "rows"}}<tr><td>{{.Name}}</td></tr>{{end}}`)},
		"pages/invite/b.html": {Data: []byte(`{{define "title"}}Page B{{end}}{{define "content"}}<p>content of B</p>{{end}}`)},
		// broken writes part of its output, then fails: the client must never see the part.
		"pages/admin/broken.html": {Data: []byte(`{{define "title"}}Broken{{end}}{{define "content"}}<p>PARTIAL-OUTPUT</p>{{url "no-slash"}}{{end}}`)},
		"pages/admin/xss.html": {Data: []byte(`{{define "title"}}{{.Name}}{{end}}{{define "content"}}` +
			`<p>{{.Name}}</p><a href="{{url "/users" .Name}}" title="{{.Name}}">x</a><a href="{{.Link}}">y</a>{{end}}`)},
	}
}

type pageData struct {
	Name string
	Link string
}

func newTestRenderer(t *testing.T, fsys fstest.MapFS, base string) *Renderer {
	t.Helper()
	rd, err := New(Options{
		FS:        fsys,
		BasePath:  base,
		AssetURL:  func(name string) (string, error) { return base + "/static/h/" + name, nil },
		ErrorPage: "error",
		ErrorData: func(_ *http.Request, status int) any { return struct{ Status int }{status} },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return rd
}

func TestPagesAreSeparateSets(t *testing.T) {
	rd := newTestRenderer(t, testFS(), "/manage")
	if got, want := strings.Join(rd.Pages(), ","), "admin/a,admin/broken,admin/xss,error,invite/b"; got != want {
		t.Fatalf("Pages() = %s, want %s", got, want)
	}
	for page, want := range map[string]string{"admin/a": "content of A", "invite/b": "content of B"} {
		rec := httptest.NewRecorder()
		rd.Page(rec, httptest.NewRequest("GET", "/manage/", nil), http.StatusOK, page, pageData{Name: "n"})
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: status %d body %q, want 200 with %q", page, rec.Code, body, want)
		}
		if strings.Contains(body, "content of") && strings.Count(body, "content of") != 1 {
			t.Errorf("%s: another page's content leaked in: %q", page, body)
		}
		if !strings.Contains(body, `href="/manage/"`) || !strings.Contains(body, `href="/manage/static/h/app.css"`) {
			t.Errorf("%s: url/asset helpers did not prefix the base path: %q", page, body)
		}
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", page, got)
		}
	}
}

func TestHTMXFragments(t *testing.T) {
	rd := newTestRenderer(t, testFS(), "")
	tests := []struct {
		name     string
		headers  map[string]string
		fullPage bool
	}{
		{"plain request", nil, true},
		{"htmx request", map[string]string{"HX-Request": "true"}, false},
		{"boosted navigation", map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, true},
		{"history restore", map[string]string{"HX-Request": "true", "HX-History-Restore-Request": "true"}, true},
		{"header not true", map[string]string{"HX-Request": "1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			rd.Page(rec, req, http.StatusOK, "admin/a", pageData{Name: "n"})
			body := rec.Body.String()
			if got := strings.Contains(body, "<html>"); got != tt.fullPage {
				t.Errorf("full page = %v, want %v: %q", got, tt.fullPage, body)
			}
			if !strings.Contains(body, "content of A") {
				t.Errorf("content missing: %q", body)
			}
			if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "HX-Request" {
				t.Errorf("Vary = %q, want exactly [HX-Request]", got)
			}
		})
	}
	rec := httptest.NewRecorder()
	rd.Fragment(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, "admin/a", "rows", pageData{Name: "row1"})
	if got := rec.Body.String(); got != "<tr><td>row1</td></tr>" {
		t.Errorf("Fragment rows = %q", got)
	}
}

func TestExecutionErrorIsCleanServerError(t *testing.T) {
	for _, htmx := range []bool{false, true} {
		rd := newTestRenderer(t, testFS(), "")
		req := httptest.NewRequest("GET", "/", nil)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		rec := httptest.NewRecorder()
		rd.Page(rec, req, http.StatusOK, "admin/broken", nil)
		body := rec.Body.String()
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("htmx=%v: status %d, want 500", htmx, rec.Code)
		}
		if strings.Contains(body, "PARTIAL-OUTPUT") {
			t.Errorf("htmx=%v: partial output reached the client: %q", htmx, body)
		}
		if !strings.Contains(body, "Error page 500") {
			t.Errorf("htmx=%v: no error page: %q", htmx, body)
		}
	}
	// An unknown page is the same clean 500.
	rd := newTestRenderer(t, testFS(), "")
	rec := httptest.NewRecorder()
	rd.Page(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, "admin/missing", nil)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "Error page 500") {
		t.Errorf("unknown page: %d %q", rec.Code, rec.Body.String())
	}
}

func TestBrokenErrorPageFallsBackToText(t *testing.T) {
	fsys := testFS()
	fsys["pages/error.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}E{{end}}{{define "content"}}{{.Missing.Field}}{{end}}`)}
	rd := newTestRenderer(t, fsys, "")
	rec := httptest.NewRecorder()
	rd.Page(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, "admin/broken", nil)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "PARTIAL") ||
		!strings.Contains(rec.Body.String(), "Internal Server Error") {
		t.Errorf("got %d %q, want a plain 500", rec.Code, rec.Body.String())
	}
}

func TestErrorAndHead(t *testing.T) {
	rd := newTestRenderer(t, testFS(), "")
	rec := httptest.NewRecorder()
	rd.Error(rec, httptest.NewRequest("GET", "/x", nil), http.StatusNotFound)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "Error page 404") {
		t.Errorf("Error(404) = %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	rd.Page(rec, httptest.NewRequest("HEAD", "/", nil), http.StatusOK, "admin/a", pageData{})
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: %d, body %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestRedirect(t *testing.T) {
	rd := newTestRenderer(t, testFS(), "")
	tests := []struct {
		name     string
		htmx     bool
		target   string
		status   int
		location string
		hx       string
	}{
		{"plain", false, "/manage/users", http.StatusSeeOther, "/manage/users", ""},
		{"htmx", true, "/manage/users", http.StatusOK, "", "/manage/users"},
		{"other host", false, "https://evil.example/", http.StatusInternalServerError, "", ""},
		{"scheme-relative", true, "//evil.example/", http.StatusInternalServerError, "", ""},
		{"backslash", false, "/\\evil.example", http.StatusInternalServerError, "", ""},
		{"relative", false, "users", http.StatusInternalServerError, "", ""},
		{"header injection", false, "/a\r\nSet-Cookie: x=y", http.StatusInternalServerError, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/manage/users/new", nil)
			if tt.htmx {
				req.Header.Set("HX-Request", "true")
			}
			rec := httptest.NewRecorder()
			rd.Redirect(rec, req, tt.target)
			if rec.Code != tt.status || rec.Header().Get("Location") != tt.location || rec.Header().Get("HX-Redirect") != tt.hx {
				t.Errorf("got %d Location=%q HX-Redirect=%q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("HX-Redirect"))
			}
		})
	}
}

func TestDataRendersInert(t *testing.T) {
	rd := newTestRenderer(t, testFS(), "/manage")
	rec := httptest.NewRecorder()
	evil := `<script>alert(1)</script>"onerror=alert(1) x='`
	rd.Page(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, "admin/xss", pageData{Name: evil, Link: "javascript:alert(1)"})
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %q", rec.Code, body)
	}
	for _, bad := range []string{"<script>alert", `"onerror=`, "javascript:alert", ` x='`} {
		if strings.Contains(body, bad) {
			t.Errorf("output contains %q: %s", bad, body)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `href="/manage/users/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22onerror=alert%281%29%20x=%27"`, "#ZgotmplZ"} {
		if !strings.Contains(body, want) {
			t.Errorf("output lacks %q: %s", want, body)
		}
	}
}

func TestNewRejectsBadTrees(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		opts   func(*Options)
		want   string
	}{
		{"page without content", func(m fstest.MapFS) {
			m["pages/admin/c.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}C{{end}}`)}
		}, nil, `defines no "content"`},
		{"page without title", func(m fstest.MapFS) {
			m["pages/admin/c.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}C{{end}}`)}
		}, nil, `defines no "title"`},
		{"syntax error", func(m fstest.MapFS) {
			m["pages/admin/c.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}{{end}}{{define "content"}}{{if}}{{end}}`)}
		}, nil, "parsing pages/admin/c.html"},
		{"unknown function", func(m fstest.MapFS) {
			m["pages/admin/c.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}{{end}}{{define "content"}}{{markdown .}}{{end}}`)}
		}, nil, "markdown"},
		{"no error page", func(m fstest.MapFS) { delete(m, "pages/error.html") }, nil, `error page "error"`},
		{"no layout", func(m fstest.MapFS) { delete(m, "layouts/base.html") }, nil, "layouts"},
		{"no file system", nil, func(o *Options) { o.FS = nil }, "no template file system"},
		{"no asset func", nil, func(o *Options) { o.AssetURL = nil }, "no asset URL"},
		{"no error data", nil, func(o *Options) { o.ErrorData = nil }, "no error data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := testFS()
			if tt.mutate != nil {
				tt.mutate(fsys)
			}
			opts := Options{
				FS:        fsys,
				AssetURL:  func(string) (string, error) { return "", nil },
				ErrorPage: "error",
				ErrorData: func(*http.Request, int) any { return nil },
			}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			_, err := New(opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestJoinURL(t *testing.T) {
	tests := []struct {
		base, p string
		segs    []any
		want    string
		wantErr bool
	}{
		{"", "/", nil, "/", false},
		{"/manage", "/", nil, "/manage/", false},
		{"/manage", "/users", []any{42, "edit"}, "/manage/users/42/edit", false},
		{"/manage", "/", []any{"abc"}, "/manage/abc", false},
		{"", "/invites/", []any{"a/b?c#d"}, "/invites/a%2Fb%3Fc%23d", false},
		{"", "/a b", nil, "/a%20b", false},
		{"", "users", nil, "", true},
		{"", "//evil.example", nil, "", true},
		{"", "/users", []any{""}, "", true},
		{"", "/users", []any{".."}, "", true},
		{"", "/users", []any{"."}, "", true},
	}
	for _, tt := range tests {
		got, err := JoinURL(tt.base, tt.p, tt.segs)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("JoinURL(%q, %q, %v) = %q, %v; want %q, error %v", tt.base, tt.p, tt.segs, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestTimeElement(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 4, 6, 7, 8, 0, paris)
	tests := []struct {
		name    string
		v       any
		kind    string
		want    string
		wantErr bool
	}{
		{"value", at, "datetime", `<time datetime="2026-03-04T05:07:08Z" data-local="datetime">2026-03-04 05:07 UTC</time>`, false},
		{"pointer", &at, "date", `<time datetime="2026-03-04T05:07:08Z" data-local="date">2026-03-04</time>`, false},
		{"relative", at, "relative", `<time datetime="2026-03-04T05:07:08Z" data-local="relative">2026-03-04 05:07 UTC</time>`, false},
		{"zero", time.Time{}, "datetime", `<span class="muted">—</span>`, false},
		{"nil pointer", (*time.Time)(nil), "datetime", `<span class="muted">—</span>`, false},
		{"untyped nil", nil, "datetime", `<span class="muted">—</span>`, false},
		{"string", "2026-03-04", "datetime", "", true},
	}
	for _, tt := range tests {
		got, err := timeElement(tt.v, tt.kind)
		if (err != nil) != tt.wantErr || string(got) != tt.want {
			t.Errorf("%s: timeElement = %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAssetErrorIsServerError(t *testing.T) {
	rd, err := New(Options{
		FS:        testFS(),
		AssetURL:  func(name string) (string, error) { return "", errors.New("no such asset") },
		ErrorPage: "error",
		ErrorData: func(_ *http.Request, status int) any { return struct{ Status int }{status} },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	rd.Page(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, "admin/a", pageData{})
	// The error page itself uses the same layout (and so the failing asset helper): plain 500.
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "content of A") {
		t.Errorf("got %d %q, want a 500 without the page", rec.Code, rec.Body.String())
	}
}

func TestIsLocalPathRefusesControlCharacters(t *testing.T) {
	for _, target := range []string{"/\t/evil.example/", "/\n/evil.example", "/a\x7fb", "/a\\b", "//evil.example", "/\\evil.example", "evil.example"} {
		if isLocalPath(target) {
			t.Errorf("isLocalPath(%q) = true", target)
		}
	}
	for _, target := range []string{"/", "/manage/users?q=a%09b", "/x/y"} {
		if !isLocalPath(target) {
			t.Errorf("isLocalPath(%q) = false", target)
		}
	}
}
