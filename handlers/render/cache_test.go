package render

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingRenderer is a test renderer whose asset helper counts its calls: every execution of the
// layout calls it, a page served from the cache does not.
func countingRenderer(t *testing.T) (*Renderer, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	rd, err := New(Options{
		FS: testFS(),
		AssetURL: func(name string) (string, error) {
			calls.Add(1)
			return "/static/h/" + name, nil
		},
		ErrorPage: "error",
		ErrorData: func(_ *http.Request, status int) any { return struct{ Status int }{status} },
	})
	if err != nil {
		t.Fatal(err)
	}
	return rd, &calls
}

// serve runs one request through fn and returns the recorder.
func serve(method string, headers map[string]string, fn func(w http.ResponseWriter, r *http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	fn(rec, req)
	return rec
}

// TestCachedPageMatchesPage checks that a cached page is byte for byte and header for header what
// Page writes, for documents, fragments and HEAD, first rendered and then from the cache.
func TestCachedPageMatchesPage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		status  int
	}{
		{"document", "GET", nil, http.StatusOK},
		{"fragment", "GET", map[string]string{"HX-Request": "true"}, http.StatusOK},
		{"boosted", "GET", map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, http.StatusOK},
		{"head", "HEAD", nil, http.StatusOK},
		{"status", "GET", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, calls := countingRenderer(t)
			data := pageData{Name: "Summer <b>"}
			want := serve(tc.method, tc.headers, func(w http.ResponseWriter, r *http.Request) {
				rd.Page(w, r, tc.status, "admin/a", data)
			})
			for i := range 3 {
				got := serve(tc.method, tc.headers, func(w http.ResponseWriter, r *http.Request) {
					rd.CachedPage(w, r, tc.status, "admin/a", data)
				})
				if got.Code != want.Code || got.Body.String() != want.Body.String() {
					t.Fatalf("call %d: %d %q, want %d %q", i+1, got.Code, got.Body.String(), want.Code, want.Body.String())
				}
				for _, h := range []string{"Content-Type", "Content-Length", "Vary"} {
					if g, w := got.Header().Values(h), want.Header().Values(h); fmt.Sprint(g) != fmt.Sprint(w) {
						t.Errorf("call %d: %s = %q, want %q", i+1, h, g, w)
					}
				}
			}
			// Page executed the layout once, CachedPage once more (documents call asset; the
			// content fragment calls nothing).
			before := calls.Load()
			serve(tc.method, tc.headers, func(w http.ResponseWriter, r *http.Request) { rd.CachedPage(w, r, tc.status, "admin/a", data) })
			if calls.Load() != before {
				t.Error("a kept page executed the templates again")
			}
			if n := rd.cache.len(); n != 1 {
				t.Errorf("%d pages kept, want 1", n)
			}
		})
	}
}

// TestCachedPageKeysByData checks that different data, pages and templates never share bytes.
func TestCachedPageKeysByData(t *testing.T) {
	rd, _ := countingRenderer(t)
	get := func(page string, data any, headers map[string]string) string {
		return serve("GET", headers, func(w http.ResponseWriter, r *http.Request) { rd.CachedPage(w, r, 200, page, data) }).Body.String()
	}
	a1 := get("admin/a", pageData{Name: "one"}, nil)
	a2 := get("admin/a", pageData{Name: "two"}, nil)
	if !strings.Contains(a1, "content of A: one") || !strings.Contains(a2, "content of A: two") {
		t.Fatalf("pages do not show their data: %q / %q", a1, a2)
	}
	if got := get("admin/a", pageData{Name: "one"}, nil); got != a1 {
		t.Errorf("the first data's page changed: %q", got)
	}
	if got := get("admin/xss", pageData{Name: "one"}, nil); got == a1 || !strings.Contains(got, "<p>one</p>") {
		t.Errorf("another page with the same data: %q", got)
	}
	frag := get("admin/a", pageData{Name: "one"}, map[string]string{"HX-Request": "true"})
	if strings.Contains(frag, "<html>") || !strings.Contains(frag, "content of A: one") {
		t.Errorf("fragment request got %q", frag)
	}
	if got := get("admin/a", pageData{Name: "one"}, nil); !strings.Contains(got, "<html>") {
		t.Errorf("document after a fragment got %q", got)
	}
	if got := get("admin/a", map[string]string{"Name": "three"}, nil); !strings.Contains(got, "content of A: three") {
		t.Errorf("map data: %q", got)
	}
	if n := rd.cache.len(); n != 5 { // a/one, a/two, xss/one, a/one as a fragment, a/three
		t.Errorf("%d pages kept, want 5", n)
	}
}

// TestCachedPageFailuresAreNotKept checks that a failing page is a clean 500 every time and never
// kept, and that data JSON cannot encode is rendered without the cache.
func TestCachedPageFailuresAreNotKept(t *testing.T) {
	rd, calls := countingRenderer(t)
	for i := range 2 {
		rec := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) { rd.CachedPage(w, r, 200, "admin/broken", nil) })
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "PARTIAL-OUTPUT") ||
			!strings.Contains(rec.Body.String(), "Error page 500") {
			t.Errorf("broken page, call %d: %d %q", i+1, rec.Code, rec.Body.String())
		}
	}
	rec := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) { rd.CachedPage(w, r, 200, "admin/missing", nil) })
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "Error page 500") {
		t.Errorf("unknown page: %d %q", rec.Code, rec.Body.String())
	}
	type withFunc struct {
		Name string
		F    func()
	}
	before := calls.Load()
	for range 2 {
		rec := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) {
			rd.CachedPage(w, r, 200, "admin/a", withFunc{Name: "fn", F: func() {}})
		})
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "content of A: fn") {
			t.Errorf("unencodable data: %d %q", rec.Code, rec.Body.String())
		}
	}
	if calls.Load()-before != 2 {
		t.Errorf("unencodable data executed the layout %d times in 2 requests, want 2", calls.Load()-before)
	}
	if n := rd.cache.len(); n != 0 {
		t.Errorf("%d pages kept, want none", n)
	}
}

// TestCachedPageKeepsOtherVary checks that a Vary set before the page is kept and HX-Request added
// once, as Page does.
func TestCachedPageKeepsOtherVary(t *testing.T) {
	rd, _ := countingRenderer(t)
	for i := range 2 {
		rec := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "Accept-Encoding")
			rd.CachedPage(w, r, 200, "admin/a", pageData{})
		})
		if got := rec.Header().Values("Vary"); fmt.Sprint(got) != "[Accept-Encoding HX-Request]" {
			t.Errorf("call %d: Vary = %q", i+1, got)
		}
	}
}

// TestCachedPageHeadersAreOwnedByTheResponse checks that editing one response's headers in place
// does not reach the next response's.
func TestCachedPageHeadersAreOwnedByTheResponse(t *testing.T) {
	rd, _ := countingRenderer(t)
	first := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) { rd.CachedPage(w, r, 200, "admin/a", pageData{}) })
	want := first.Header().Get("Content-Length")
	first.Header()["Content-Length"][0] = "0"
	first.Header()["Content-Type"][0] = "text/plain"
	first.Header()["Content-Type"] = append(first.Header()["Content-Type"], "x")
	second := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) { rd.CachedPage(w, r, 200, "admin/a", pageData{}) })
	if got := second.Header().Get("Content-Length"); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}
	if got := second.Header().Values("Content-Type"); fmt.Sprint(got) != "[text/html; charset=utf-8]" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := first.Header().Values("Vary"); fmt.Sprint(got) != "[HX-Request]" {
		t.Errorf("editing Content-Type changed Vary: %q", got)
	}
}

func TestPageCacheBounds(t *testing.T) {
	c := newPageCache(1000)
	c.put([]byte("big"), make([]byte, maxCachedPage+1))
	if c.len() != 0 {
		t.Error("a page over maxCachedPage was kept")
	}
	c.put([]byte("too-costly"), make([]byte, 1001))
	if c.len() != 0 {
		t.Error("a page over the cache size was kept")
	}
	for i := range 100 {
		c.put(fmt.Appendf(nil, "key-%03d", i), make([]byte, 90)) // 97 bytes each
		if c.size > c.max {
			t.Fatalf("after %d puts: %d bytes held, max %d", i+1, c.size, c.max)
		}
	}
	if n := c.len(); n < 5 || n > 10 {
		t.Errorf("%d entries kept in 1000 bytes of 97-byte entries", n)
	}
	p, ok := c.get([]byte("key-099"))
	if !ok || len(p.body) != 90 || p.length != "90" {
		t.Errorf("the last put is not kept whole: %v %d %q", ok, len(p.body), p.length)
	}
	// A kept body is a copy: the caller's buffer may be reused.
	buf := []byte("original")
	c.put([]byte("copy"), buf)
	copy(buf, "changed!")
	if p, _ := c.get([]byte("copy")); string(p.body) != "original" {
		t.Errorf("kept body = %q, want a copy", p.body)
	}
}

// TestCachedPageConcurrent renders many pages from many goroutines (run with -race).
func TestCachedPageConcurrent(t *testing.T) {
	rd, _ := countingRenderer(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				name := fmt.Sprint("n", (g*50+i)%7)
				rec := serve("GET", nil, func(w http.ResponseWriter, r *http.Request) {
					rd.CachedPage(w, r, 200, "admin/a", pageData{Name: name})
				})
				if !strings.Contains(rec.Body.String(), "content of A: "+name+"<") {
					t.Errorf("%s: %q", name, rec.Body.String())
					return
				}
			}
		})
	}
	wg.Wait()
	if n := rd.cache.len(); n != 7 {
		t.Errorf("%d pages kept, want 7", n)
	}
}
