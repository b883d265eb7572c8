package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/handlers/render"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// The fuzz targets feed arbitrary outside input to the kit's parsers: JSON API bodies
// (DecodeJSON), form bodies (ParseForm), sign-in redirect targets (LocalTarget), the flash
// cookie and URL building. Run one with, for example:
//
//	go test ./handlers/web -run '^$' -fuzz FuzzDecodeJSON -fuzztime 20s
//
// Inputs the fuzzer found that broke a property are kept in testdata/fuzz/<target>/ and run as
// regression cases by every `go test`.

// fuzzInput is a request body with every kind of field the features decode.
type fuzzInput struct {
	Name     string              `json:"name"`
	Count    int                 `json:"count"`
	Big      int64               `json:"big"`
	Ratio    float64             `json:"ratio"`
	On       *bool               `json:"on"`
	When     *time.Time          `json:"when"`
	Role     Role                `json:"role"`
	Tags     []string            `json:"tags"`
	Libs     map[string][]string `json:"libraries"`
	Nested   *struct{ A, B int } `json:"nested"`
	Anything json.RawMessage     `json:"anything"`
}

// fuzzMuxes builds, once per process, a Mux whose routes decode JSON and forms (a body limit of
// 4 KiB so the fuzzer reaches the limit).
var fuzzMuxes = sync.OnceValues(func() (*Mux, error) {
	var m *Mux
	rd, err := render.New(render.Options{
		FS:        templates.Files(),
		AssetURL:  func(name string) (string, error) { return "/static/x/" + name, nil },
		ErrorPage: "error",
		ErrorData: func(r *http.Request, st int) any { return m.ErrorData(r, st) },
	})
	if err != nil {
		return nil, err
	}
	m, err = NewMux(Options{Mode: ModeAdmin, Renderer: rd, Auth: &testAuth{}, MaxBody: 4 << 10})
	if err != nil {
		return nil, err
	}
	m.API("POST", "/in", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
		var in fuzzInput
		if !DecodeJSON(w, r, &in) {
			return
		}
		JSON(w, http.StatusOK, in)
	}, APIDoc{Summary: "decode", Request: fuzzInput{}, Response: fuzzInput{}})
	m.Page("POST", "/form", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
		if !ParseForm(w, r) {
			return
		}
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "%d", len(r.PostForm))
	})
	return m, m.Finish()
})

func fuzzMux(tb testing.TB) *Mux {
	tb.Helper()
	m, err := fuzzMuxes()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// FuzzDecodeJSON: any body and content type gets 200 (decoded) or a JSON error with 400, 413 or
// 415 — never a panic, a 500 or a non-JSON answer — and a 400 that names a field names one the
// body holds.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","count":2,"role":"admin","libraries":{"m":["1","2"]},"when":"2026-01-02T03:04:05Z"}`,
		`{"nested":{"A":1,"B":2},"anything":[1,{"x":null}],"on":true,"big":9007199254740993,"ratio":1e308}`,
		`{"count":"two"}`, `{"nope":1}`, `[1,2]`, `{"name":"x"} {"name":"y"}`, `{"when":"yesterday"}`,
		`{"role":"root"}`, `{"count":1e400}`, `{"libraries":{"m":[1]}}`, `{"name":"\ud800"}`, ``, `null`,
		`{"Name":"case"}`, `{"count":-0}`, "{\"name\":\"x\"\x00}",
	} {
		f.Add("application/json", []byte(s))
	}
	f.Add("application/json; charset=utf-8", []byte(`{}`))
	f.Add("text/plain", []byte(`{}`))
	f.Add("application/json; boundary=\"", []byte(`{}`))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		m := fuzzMux(t)
		req := httptest.NewRequest("POST", "/api/v1/in", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer auditor")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%d answer is %q, not JSON", rec.Code, rec.Header().Get("Content-Type"))
		}
		switch rec.Code {
		case http.StatusOK:
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("the decoded value does not encode back as JSON: %s", rec.Body.Bytes())
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			var e ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%d error body %q", rec.Code, rec.Body.Bytes())
			}
			var obj map[string]json.RawMessage
			if e.Field != "" && json.Unmarshal(body, &obj) == nil {
				// encoding/json names an unknown field Go-quoted (`\x7f`): accept that spelling too.
				names := []string{e.Field}
				if u, err := strconv.Unquote(`"` + e.Field + `"`); err == nil {
					names = append(names, u)
				}
				found := false
				for k := range obj {
					for _, n := range names {
						lf, lk := strings.ToLower(n), strings.ToLower(k)
						found = found || lf == lk || strings.HasPrefix(lf, lk+".")
					}
				}
				if !found {
					t.Fatalf("the error names field %q, which the body does not hold", e.Field)
				}
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// FuzzParseForm: any form body gets 200 (parsed), 400 or 413, never a panic or a 500.
func FuzzParseForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("a=1&b=2&b=3"))
	f.Add("application/x-www-form-urlencoded", []byte("%zz=1"))
	f.Add("application/x-www-form-urlencoded", []byte(strings.Repeat("a=b&", 2000)))
	f.Add("multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xyz--\r\n"))
	f.Add("multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n"+strings.Repeat("x", 5000)+"\r\n--xyz--\r\n"))
	f.Add("multipart/form-data", []byte("--\r\n"))
	f.Add("", []byte("a=1"))
	f.Add("text/plain", []byte("a=1"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		m := fuzzMux(t)
		req := httptest.NewRequest("POST", "/form", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.AddCookie(&http.Cookie{Name: "who", Value: "auditor"})
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for a %d-byte %q body", rec.Code, len(body), ctype)
		}
		if rec.Code == http.StatusOK && len(body) > 4<<10 {
			t.Fatalf("a %d-byte body passed the 4 KiB limit", len(body))
		}
	})
}

// browserTarget is what a browser makes of a Location value: it drops ASCII tabs and newlines
// and leading C0 controls and spaces, and reads backslashes as slashes (WHATWG URL parsing).
func browserTarget(loc string) string {
	loc = strings.TrimLeft(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, loc)
}

// FuzzLocalTarget: a target LocalTarget accepts (a ?next= value after sign-in) stays on this
// site and below the base path as a browser reads it.
func FuzzLocalTarget(f *testing.F) {
	for _, s := range []string{"/", "/users?page=2", "//evil.example", "/ /evil.example", "/\x0b/evil.example", "/\\evil.example", "https://evil.example",
		"/manage/users", "/manage//evil.example", "/manage/\\evil", "/x\r\nSet-Cookie: a=b", "/%2f%2fevil", "/./users", "/../users"} {
		f.Add("", s)
		f.Add("/manage", s)
	}
	f.Fuzz(func(t *testing.T, base, target string) {
		if base != "" && base != "/manage" && base != "/a/b" {
			return // base paths are validated by the root package; try the shapes it allows
		}
		m := &Mux{base: base}
		r := m.withEnv(httptest.NewRequest("GET", "/", nil))
		if !LocalTarget(r, target) {
			return
		}
		seen := browserTarget(target)
		u, err := url.Parse(seen)
		if err != nil {
			// The browser would still follow it; judge the raw shape.
			u = &url.URL{Path: seen}
		}
		if u.Scheme != "" || u.Host != "" || strings.HasPrefix(seen, "//") {
			t.Fatalf("LocalTarget(base %q) accepted %q, which a browser reads as %q: another site", base, target, seen)
		}
		if !strings.HasPrefix(seen, base+"/") {
			t.Fatalf("LocalTarget(base %q) accepted %q, which a browser reads as %q: outside the base path", base, target, seen)
		}
	})
}

// FuzzFlashCookie: a flash cookie with any value never breaks a page; a cookie set by the Mux
// carries any message back unchanged; a cookie signed by another key is ignored.
func FuzzFlashCookie(f *testing.F) {
	f.Add("eyJ4Ijox.sig", "hello", FlashSuccess)
	f.Add("", "", "bogus")
	f.Add("W3sia2luZCI6ImVycm9yIiwibWVzc2FnZSI6IngifV0.AAAA", "<script>alert(1)</script>", FlashError)
	f.Fuzz(func(t *testing.T, raw, message, kind string) {
		m := &Mux{base: "", flashKey: []byte("fuzz-flash-key-0123456789abcdef!")}
		// Any cookie value.
		r := m.withEnv(httptest.NewRequest("GET", "/", nil))
		r.AddCookie(&http.Cookie{Name: flashCookieName, Value: raw})
		for _, fl := range m.readFlashes(r) {
			switch fl.Kind {
			case FlashInfo, FlashSuccess, FlashWarning, FlashError:
			default:
				t.Fatalf("accepted a flash of kind %q", fl.Kind)
			}
		}
		// Round trip of a message the Mux set.
		rec := httptest.NewRecorder()
		m.setFlash(rec, r, FlashMessage{Kind: kind, Message: message})
		var cookie *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == flashCookieName {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatal("no flash cookie set")
		}
		next := m.withEnv(httptest.NewRequest("GET", "/", nil))
		next.AddCookie(cookie)
		got := m.readFlashes(next)
		valid := kind == FlashInfo || kind == FlashSuccess || kind == FlashWarning || kind == FlashError
		last := FlashMessage{}
		if len(got) > 0 {
			last = got[len(got)-1]
		}
		if valid && utf8.ValidString(message) && (last.Kind != kind || last.Message != message) {
			t.Fatalf("flash %q/%q came back as %+v", kind, message, got)
		}
		if !valid && len(got) > 0 && last.Message == message && last.Kind == kind {
			t.Fatalf("a flash of unknown kind %q came back", kind)
		}
		// Another Mux (another key) ignores the cookie.
		other := &Mux{flashKey: []byte("another-key-0123456789abcdef0123")}
		if got := other.readFlashes(next); len(got) != 0 {
			t.Fatalf("a cookie signed by another key was accepted: %+v", got)
		}
	})
}

// FuzzURL: URL builds a path below the base path whose segments read back as given, or falls
// back to the base path's root.
func FuzzURL(f *testing.F) {
	f.Add("/users", "42", "x/y")
	f.Add("/invites", "..", "")
	f.Add("//evil", "a", "b")
	f.Add("/a b", "%2e%2e", "?q=1#f")
	f.Fuzz(func(t *testing.T, p, seg1, seg2 string) {
		for _, base := range []string{"", "/manage"} {
			m := &Mux{base: base}
			r := m.withEnv(httptest.NewRequest("GET", "/", nil))
			got := URL(r, p, seg1, seg2)
			if got == base+"/" {
				continue // refused: the base path's root
			}
			if !strings.HasPrefix(got, base+"/") || strings.HasPrefix(got[len(base):], "//") {
				t.Fatalf("URL(%q, %q, %q) under %q = %q", p, seg1, seg2, base, got)
			}
			u, err := url.Parse(got)
			if err != nil || u.Host != "" || u.Scheme != "" || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("URL(%q, %q, %q) = %q does not parse as a plain path: %v", p, seg1, seg2, got, err)
			}
			segs := strings.Split(u.EscapedPath(), "/")
			if len(segs) < 2 {
				t.Fatalf("URL = %q", got)
			}
			a, err1 := url.PathUnescape(segs[len(segs)-2])
			b, err2 := url.PathUnescape(segs[len(segs)-1])
			if err1 != nil || err2 != nil || a != seg1 || b != seg2 {
				t.Fatalf("URL(%q, %q, %q) = %q: segments read back as %q, %q", p, seg1, seg2, got, a, b)
			}
		}
	})
}
