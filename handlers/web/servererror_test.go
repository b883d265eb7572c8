package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestServerStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{storage.ErrDiskFull, http.StatusInsufficientStorage},
		{fmt.Errorf("creating invite: %w", storage.ErrDiskFull), http.StatusInsufficientStorage},
		{errors.Join(errors.New("x"), fmt.Errorf("saving: %w", storage.ErrDiskFull)), http.StatusInsufficientStorage},
		{storage.ErrClosed, http.StatusServiceUnavailable},
		{fmt.Errorf("listing: %w", storage.ErrClosed), http.StatusServiceUnavailable},
		{storage.ErrConflict, http.StatusInternalServerError},
		{storage.ErrNotFound, http.StatusInternalServerError},
		{errors.New("data disk is full"), http.StatusInternalServerError}, // same text, not the sentinel
		{nil, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		if got := ServerStatus(tt.err); got != tt.want {
			t.Errorf("ServerStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestServerError(t *testing.T) {
	// secret stands for whatever an error may carry (a path, a key, input); it must never be shown.
	const secret = "pmk_SECRET_/var/lib/caddy"
	diskFull := fmt.Errorf("saving invite %s: %w", secret, storage.ErrDiskFull)
	closed := fmt.Errorf("reading %s: %w", secret, storage.ErrClosed)
	other := fmt.Errorf("decoding %s: corrupt value", secret)

	tests := []struct {
		name       string
		mode       string
		path       string // requested path (the route is registered for it)
		err        error
		status     int
		json       string   // API: the exact error message
		page       []string // page: texts the page must show
		level      zapcore.Level
		retryAfter bool
	}{
		{name: "page disk full", mode: ModeAdmin, path: "/b/thing", err: diskFull, status: 507,
			page:  []string{"507", "Data disk full", "The server's data disk is full. Nothing was changed. Ask the administrator to free disk space, then try again."},
			level: zapcore.ErrorLevel},
		{name: "API disk full", mode: ModeAdmin, path: "/b/api/v1/thing", err: diskFull, status: 507,
			json: "data disk is full: nothing was changed; free disk space and try again", level: zapcore.ErrorLevel},
		{name: "page closed", mode: ModeAdmin, path: "/b/thing", err: closed, status: 503,
			page: []string{"503", "temporarily unavailable"}, level: zapcore.WarnLevel, retryAfter: true},
		{name: "API closed", mode: ModeAdmin, path: "/b/api/v1/thing", err: closed, status: 503,
			json: apiClosedMessage, level: zapcore.WarnLevel, retryAfter: true},
		{name: "page other", mode: ModeAdmin, path: "/b/thing", err: other, status: 500,
			page: []string{"500", "Something went wrong"}, level: zapcore.ErrorLevel},
		{name: "API other", mode: ModeAdmin, path: "/b/api/v1/thing", err: other, status: 500,
			json: "internal server error", level: zapcore.ErrorLevel},
		// The public invite pages tell visitors to come back later, not how the server is run.
		{name: "public disk full", mode: ModeInvite, path: "/b/thing", err: diskFull, status: 507,
			page:  []string{"507", "Temporarily unavailable", "Please try again later."},
			level: zapcore.ErrorLevel},
		{name: "public closed", mode: ModeInvite, path: "/b/thing", err: closed, status: 503,
			page: []string{"503", "try again shortly"}, level: zapcore.WarnLevel, retryAfter: true},
		{name: "public other", mode: ModeInvite, path: "/b/thing", err: other, status: 500,
			page: []string{"500", "Something went wrong"}, level: zapcore.ErrorLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			fail := func(w http.ResponseWriter, r *http.Request) {
				ServerError(w, r, zap.New(core), "saving the thing", tt.err)
			}
			m := newTestMux(t, Options{Mode: tt.mode, BasePath: "/b", Auth: &testAuth{}}, func(m *Mux) {
				m.Page("POST", "/thing", RoleAuditor, fail)
				m.API("POST", "/thing", RoleAuditor, fail, APIDoc{Summary: "x"})
				m.Public("POST", "/thing", fail)
			})
			headers := map[string]string{"Cookie": "who=admin", "Content-Type": "application/x-www-form-urlencoded"}
			rec := do(m, "POST", tt.path, headers, strings.NewReader("a=b"))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.status, rec.Body.String())
			}
			body := rec.Body.String()
			if strings.Contains(body, "SECRET") || strings.Contains(body, "/var/lib") || strings.Contains(body, "corrupt") {
				t.Errorf("the answer shows the error: %q", body)
			}
			if tt.json != "" {
				var got map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("API answer is not JSON: %q", body)
				}
				if got["error"] != tt.json || len(got) != 1 {
					t.Errorf("API answer %v, want error %q", got, tt.json)
				}
			} else {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("page Content-Type %q", ct)
				}
				text := html.UnescapeString(body)
				for _, want := range tt.page {
					if !strings.Contains(text, want) {
						t.Errorf("page lacks %q:\n%s", want, text)
					}
				}
				if tt.mode == ModeInvite && strings.Contains(strings.ToLower(text), "disk") {
					t.Errorf("the public page tells visitors about the disk:\n%s", text)
				}
			}
			if got := rec.Header().Get("Retry-After") != ""; got != tt.retryAfter {
				t.Errorf("Retry-After set: %v, want %v", got, tt.retryAfter)
			}
			entries := logs.FilterMessage("saving the thing").All()
			if len(entries) != 1 {
				t.Fatalf("%d log entries, want 1: %+v", len(entries), logs.All())
			}
			e := entries[0]
			ctx := e.ContextMap()
			if e.Level != tt.level || ctx["status"] != int64(tt.status) || ctx["route"] != "POST "+tt.path ||
				!strings.Contains(fmt.Sprint(ctx["error"]), "SECRET") {
				t.Errorf("log entry %v %v", e.Level, ctx)
			}
		})
	}
}

func TestServerErrorUsesTheHandlerLoggerAndWorksOutsideAMux(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	m := newTestMux(t, Options{Mode: ModeAdmin, Logger: zap.New(core), Auth: &testAuth{}}, func(m *Mux) {
		m.API("GET", "/thing", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			ServerError(w, r, nil, "reading the thing", storage.ErrDiskFull)
		}, APIDoc{Summary: "x", Response: []string{}})
	})
	rec := do(m, "GET", "/api/v1/thing", map[string]string{"Authorization": "Bearer auditor"}, nil)
	if rec.Code != 507 || logs.FilterMessage("reading the thing").Len() != 1 {
		t.Errorf("nil logger: %d, logs %+v", rec.Code, logs.All())
	}

	// Outside a Mux (a plain handler in a test): plain text, nothing logged, no panic.
	rec = httptest.NewRecorder()
	ServerError(rec, httptest.NewRequest("GET", "/x", nil), nil, "x", storage.ErrClosed)
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "closed") {
		t.Errorf("outside a Mux: %d %q", rec.Code, rec.Body.String())
	}
}

func TestErrorPageOf507(t *testing.T) {
	// web.Error(w, r, 507) itself answers the same fixed texts (pages and API).
	m := newTestMux(t, Options{Mode: ModeAdmin, Auth: &testAuth{}}, func(m *Mux) {
		h := func(w http.ResponseWriter, r *http.Request) { Error(w, r, http.StatusInsufficientStorage) }
		m.Page("GET", "/p", RoleAuditor, h)
		m.API("GET", "/a", RoleAuditor, h, APIDoc{Summary: "x", Response: []string{}})
	})
	cookie := map[string]string{"Cookie": "who=admin"}
	if rec := do(m, "GET", "/p", cookie, nil); rec.Code != 507 || !strings.Contains(html.UnescapeString(rec.Body.String()), "Ask the administrator to free disk space") {
		t.Errorf("page: %d %q", rec.Code, rec.Body.String())
	}
	if rec := do(m, "GET", "/api/v1/a", cookie, nil); rec.Code != 507 || !strings.Contains(rec.Body.String(), apiDiskFullMessage) {
		t.Errorf("API: %d %q", rec.Code, rec.Body.String())
	}
}

// failingAuth fails every lookup with err, as the real Authenticator does when the store fails.
type failingAuth struct{ err error }

func (a failingAuth) Session(*http.Request) (Principal, error)        { return Principal{}, a.err }
func (a failingAuth) Bearer(*http.Request, string) (Principal, error) { return Principal{}, a.err }
func (a failingAuth) SetupPending(*http.Request) (bool, error)        { return false, a.err }

func TestGuardsAnswerStoreFailures(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("reading the session: %w", storage.ErrClosed), http.StatusServiceUnavailable},
		{fmt.Errorf("reading the session: %w", storage.ErrDiskFull), http.StatusInsufficientStorage},
		{errors.New("corrupt session"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		ran := false
		m := newTestMux(t, Options{Mode: ModeAdmin, Auth: failingAuth{tt.err}}, func(m *Mux) {
			ok := func(http.ResponseWriter, *http.Request) { ran = true }
			m.Page("GET", "/p", RoleAuditor, ok)
			m.API("GET", "/a", RoleAuditor, ok, APIDoc{Summary: "x", Response: []string{}})
		})
		page := do(m, "GET", "/p", map[string]string{"Cookie": "who=admin"}, nil)
		api := do(m, "GET", "/api/v1/a", map[string]string{"Authorization": "Bearer admin"}, nil)
		if page.Code != tt.status || api.Code != tt.status || ran {
			t.Errorf("%v: page %d, API %d, want %d (handler ran: %v)", tt.err, page.Code, api.Code, tt.status, ran)
		}
		if !strings.HasPrefix(api.Header().Get("Content-Type"), "application/json") || strings.Contains(api.Body.String(), "corrupt") {
			t.Errorf("%v: API answer %q", tt.err, api.Body.String())
		}
	}
}
