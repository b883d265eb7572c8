package users

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// internalDetail stands in the store errors of these tests; no answer may show it.
const internalDetail = "badger value log 000042.vlog"

// writeRefusingEngine is the real engine whose writes the store refuses: each method that records
// something fails with err wrapped the way the engine wraps a store error, and changes nothing.
type writeRefusingEngine struct {
	Engine
	err error
}

func (e writeRefusingEngine) refused(doing string) error {
	return fmt.Errorf("access: %s: %s: %w", doing, internalDetail, e.err)
}

func (e writeRefusingEngine) UpdateUser(context.Context, string, int64, access.UserPatch) (storage.User, error) {
	return storage.User{}, e.refused("recording the change")
}

func (e writeRefusingEngine) PutSettings(string, access.Settings) (access.Settings, error) {
	return access.Settings{}, e.refused("storing the settings")
}

func (e writeRefusingEngine) Sync(context.Context, string) (access.SyncReport, error) {
	return access.SyncReport{}, e.refused("recording the sync")
}

// refusingServer mounts the feature under /m over e's store with an engine whose writes fail
// with err.
func refusingServer(t *testing.T, e *env, err error) *webtest.Server {
	t.Helper()
	f, ferr := New(Options{Engine: writeRefusingEngine{Engine: e.svc, err: err}, Store: e.store, Now: e.clock.Now})
	if ferr != nil {
		t.Fatal(ferr)
	}
	return webtest.New(t, webtest.Options{BasePath: "/m", Features: []web.Feature{f}})
}

// storeFailureCase is one request against a failing store.
type storeFailureCase struct {
	name, method, path, body string
	api                      bool
	// want is a text the answer must hold.
	want string
}

// do sends the request of c.
func (c storeFailureCase) do(srv *webtest.Server) *httptest.ResponseRecorder {
	switch {
	case c.api:
		return srv.API(c.method, c.path, web.RoleAdmin, c.body)
	case c.body != "":
		return srv.Do(c.method, c.path, web.RoleAdmin, strings.NewReader(c.body))
	}
	return srv.Do(c.method, c.path, web.RoleAdmin, nil)
}

// TestDiskFullAnswers507: a change the store refuses because the data disk is full is answered
// 507 on the pages (the form again with the reason, or the error page) and in the API, never as a
// 500 or a Plex failure, without the store's error text, and nothing changes.
func TestDiskFullAnswers507(t *testing.T) {
	e := newEnv(t, envOptions{})
	srv := refusingServer(t, e, storage.ErrDiskFull)
	settingsBefore := e.engineSettings()
	tests := []storeFailureCase{
		{"user access form", "POST", fmt.Sprintf("/users/%d/access", aliceID), "allow_downloads=on&stream_limit=3", false,
			"data disk is full, so the change could not be saved"},
		{"engine settings form", "POST", "/schedule/settings", formBody(settingsForm()...), false,
			"data disk is full. Nothing was changed."},
		{"sync page", "POST", "/sync", "", false, "The sync failed: The server&#39;s data disk is full"},
		{"API user patch", "PATCH", fmt.Sprintf("/users/%d", aliceID), `{"allow_downloads":true}`, true,
			`"error":"data disk is full: nothing was changed; free disk space and try again"`},
		{"API engine settings", "PUT", "/settings/access", settingsJSON(t, nil), true,
			`"error":"data disk is full: nothing was changed`},
		{"API sync", "POST", "/sync", "", true, `"error":"The server's data disk is full, so the change could not be saved.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snap()
			rec := tt.do(srv)
			body := rec.Body.String()
			if rec.Code != http.StatusInsufficientStorage {
				t.Fatalf("status %d, want 507: %.600s", rec.Code, body)
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("the answer does not say %q: %.2000s", tt.want, body)
			}
			if strings.Contains(body, internalDetail) {
				t.Errorf("the answer shows the store's error: %.2000s", body)
			}
			if tt.api != strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
			e.unchanged(before, tt.name)
		})
	}
	if got := e.engineSettings(); got != settingsBefore {
		t.Errorf("the engine settings changed: %+v, were %+v", got, settingsBefore)
	}
	// The refused user form keeps what was submitted.
	rec := srv.Do("POST", fmt.Sprintf("/users/%d/access", aliceID), web.RoleAdmin, strings.NewReader("allow_downloads=on&stream_limit=3"))
	if !strings.Contains(rec.Body.String(), `value="3"`) {
		t.Error("the user page lost the submitted stream limit")
	}
}

// TestClosedStoreAnswers503: with the store closed (Caddy stopping or reloading), pages, forms
// and the API answer 503 with Retry-After, not 500, and do not show the store's error.
func TestClosedStoreAnswers503(t *testing.T) {
	e := newEnv(t, envOptions{})
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []storeFailureCase{
		{"user list", "GET", "/users", "", false, "temporarily unavailable"},
		{"user page", "GET", fmt.Sprintf("/users/%d", aliceID), "", false, "temporarily unavailable"},
		{"user access form", "POST", fmt.Sprintf("/users/%d/access", aliceID), "allow_downloads=on", false, "temporarily unavailable"},
		{"engine settings form", "POST", "/schedule/settings", formBody(settingsForm()...), false, "temporarily unavailable"},
		{"API user list", "GET", "/users", "", true, "try again shortly"},
		{"API user patch", "PATCH", fmt.Sprintf("/users/%d", aliceID), `{"allow_downloads":true}`, true, "try again shortly"},
		{"API engine settings", "GET", "/settings/access", "", true, "try again shortly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.do(e.srv)
			body := rec.Body.String()
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("status %d (Retry-After %q), want 503: %.600s", rec.Code, rec.Header().Get("Retry-After"), body)
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("the answer does not say %q: %.2000s", tt.want, body)
			}
			if strings.Contains(strings.ToLower(body), "closed") {
				t.Errorf("the answer shows the store's error: %.2000s", body)
			}
		})
	}
}

// TestStoreFailureStatus: the status and the page text of an engine error that wraps a store
// failure, next to the other errors they must not be confused with.
func TestStoreFailureStatus(t *testing.T) {
	f := newEnv(t, envOptions{noSync: true}).feature
	for _, tc := range []struct {
		name   string
		err    error
		status int
		pass   int
	}{
		{"disk full", fmt.Errorf("storing: %w", storage.ErrDiskFull), http.StatusInsufficientStorage, http.StatusInsufficientStorage},
		{"closed", fmt.Errorf("reading: %w", storage.ErrClosed), http.StatusServiceUnavailable, http.StatusServiceUnavailable},
		{"not found", fmt.Errorf("reading: %w", storage.ErrNotFound), http.StatusNotFound, http.StatusBadGateway},
		{"unknown", fmt.Errorf("something else"), http.StatusInternalServerError, http.StatusBadGateway},
		{"engine busy", fmt.Errorf("editing: %w (%w)", access.ErrEngineBusy, context.DeadlineExceeded), http.StatusConflict, http.StatusConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorStatus(tc.err); got != tc.status {
				t.Errorf("errorStatus = %d, want %d", got, tc.status)
			}
			_, msg, status, ok := f.outcome(tc.err, "done")
			if ok || status != tc.status {
				t.Errorf("outcome = %d, %v; want %d, false", status, ok, tc.status)
			}
			if serverFailure(tc.status) && strings.Contains(msg, tc.err.Error()) {
				t.Errorf("outcome shows the error: %q", msg)
			}
			if got, _ := f.passError(tc.err, ""); got != tc.pass {
				t.Errorf("passError = %d, want %d", got, tc.pass)
			}
		})
	}
	if status, msg := f.passError(nil, "kept"); status != http.StatusOK || msg != "kept" {
		t.Errorf("passError(nil) = %d, %q", status, msg)
	}
}
