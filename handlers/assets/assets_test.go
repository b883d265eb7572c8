package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := New(fstest.MapFS{
		"app.css":            {Data: []byte("body{color:red}")},
		"app.js":             {Data: []byte("console.log(1)")},
		"icon.svg":           {Data: []byte("<svg/>")},
		"vendor/htmx.min.js": {Data: []byte("htmx")},
	}, "/manage/static", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "custom not found", http.StatusNotFound)
	}))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestURL(t *testing.T) {
	a := testAssets(t)
	got, err := a.URL("vendor/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if want := "/manage/static/" + hashOf("htmx")[:hashLen] + "/vendor/htmx.min.js"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if _, err := a.URL("missing.css"); err == nil {
		t.Error("URL of a missing file: no error")
	}
}

func TestServe(t *testing.T) {
	a := testAssets(t)
	cssURL, _ := a.URL("app.css")
	jsURL, _ := a.URL("vendor/htmx.min.js")
	svgURL, _ := a.URL("icon.svg")
	tests := []struct {
		name, method, path string
		status             int
		ctype, body        string
	}{
		{"css", "GET", cssURL, 200, "text/css; charset=utf-8", "body{color:red}"},
		{"nested js", "GET", jsURL, 200, "text/javascript; charset=utf-8", "htmx"},
		{"svg", "GET", svgURL, 200, "image/svg+xml", "<svg/>"},
		{"head", "HEAD", cssURL, 200, "text/css; charset=utf-8", ""},
		{"wrong hash", "GET", "/manage/static/0123456789abcdef/app.css", 404, "", "custom not found"},
		{"old-style full hash", "GET", "/manage/static/" + hashOf("body{color:red}") + "/app.css", 404, "", "custom not found"},
		{"another file's hash", "GET", strings.Replace(jsURL, "vendor/htmx.min.js", "app.css", 1), 404, "", "custom not found"},
		{"unknown name", "GET", "/manage/static/" + hashOf("x")[:hashLen] + "/nope.css", 404, "", "custom not found"},
		{"directory", "GET", "/manage/static/" + hashOf("x")[:hashLen] + "/vendor/", 404, "", "custom not found"},
		{"directory no slash", "GET", "/manage/static/" + hashOf("x")[:hashLen] + "/vendor", 404, "", "custom not found"},
		{"static root", "GET", "/manage/static/", 404, "", "custom not found"},
		{"no hash", "GET", "/manage/static/app.css", 404, "", "custom not found"},
		{"outside prefix", "GET", "/other/" + strings.TrimPrefix(cssURL, "/manage/static/"), 404, "", "custom not found"},
		{"post", "POST", cssURL, 404, "", "custom not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if !strings.Contains(rec.Body.String(), tt.body) || (tt.body == "" && rec.Body.Len() != 0) {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.body)
			}
			if tt.status != 200 {
				if rec.Header().Get("Cache-Control") == CacheControl {
					t.Error("a 404 is marked cacheable for a year")
				}
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != CacheControl {
				t.Errorf("Cache-Control %q", got)
			}
			if got := rec.Header().Get("ETag"); !strings.HasPrefix(got, `"`) || len(got) != 66 {
				t.Errorf("ETag %q, want a quoted sha256", got)
			}
		})
	}
}

func TestConditionalRequest(t *testing.T) {
	a := testAssets(t)
	u, _ := a.URL("app.css")
	req := httptest.NewRequest("GET", u, nil)
	req.Header.Set("If-None-Match", `"`+hashOf("body{color:red}")+`"`)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match with the current ETag: %d %q, want 304", rec.Code, rec.Body.String())
	}
	req.Header.Set("If-None-Match", `"stale"`)
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("If-None-Match with a stale ETag: %d, want 200", rec.Code)
	}
}

func TestNewErrors(t *testing.T) {
	nf := http.NotFoundHandler()
	tests := []struct {
		name   string
		fsys   fstest.MapFS
		prefix string
		nf     http.Handler
		want   string
	}{
		{"unknown extension", fstest.MapFS{"x.exe": {Data: []byte("MZ")}}, "/static", nf, "no content type"},
		{"no extension", fstest.MapFS{"README": {Data: []byte("x")}}, "/static", nf, "no content type"},
		{"relative prefix", fstest.MapFS{}, "static", nf, "prefix"},
		{"trailing slash", fstest.MapFS{}, "/static/", nf, "prefix"},
		{"no not-found handler", fstest.MapFS{}, "/static", nil, "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.fsys, tt.prefix, tt.nf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want error containing %q", err, tt.want)
			}
		})
	}
}
