package events

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestClosedStore checks that every store failure is answered as "try again shortly" (503 with
// Retry-After) on pages, the API and the public status page, while bad input is still refused as
// bad input.
func TestClosedStore(t *testing.T) {
	e := newEnv(t)
	e.seed(t, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC))
	evs, err := e.store.ListEvents(storage.EventQuery{Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	if err := e.store.PutUser(storage.User{ID: 500, Username: "alice", Kind: storage.KindFriend, Status: storage.StatusActive}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.notifier.StatusToken(500, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		public, api              bool
		status                   int
	}{
		{name: "list page", method: "GET", path: "/events", status: 503},
		{name: "detail page", method: "GET", path: "/events/" + evs[0].ID, status: 503},
		{name: "export", method: "GET", path: "/events/export?format=csv", status: 503},
		{name: "retention", method: "POST", path: "/events/retention", body: "retention_days=30", status: 503},
		{name: "retention bad input", method: "POST", path: "/events/retention", body: "retention_days=-1", status: http.StatusSeeOther},
		{name: "notifications save", method: "POST", path: "/notifications", body: "warn_days=3", status: 503},
		{name: "API list", method: "GET", path: "/events", api: true, status: 503},
		{name: "API bad limit", method: "GET", path: "/events?limit=0", api: true, status: 400},
		{name: "public access status", method: "GET", path: "/access/" + tok, public: true, status: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			switch {
			case tt.api:
				rec = e.admin.API(tt.method, tt.path, web.RoleAdmin, tt.body)
			case tt.public:
				rec = e.invite.Do(tt.method, tt.path, web.RoleNone, nil)
			case tt.body != "":
				rec = e.admin.Do(tt.method, tt.path, web.RoleAdmin, strings.NewReader(tt.body))
			default:
				rec = e.admin.Do(tt.method, tt.path, web.RoleAdmin, nil)
			}
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tt.status, body)
			}
			if tt.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if strings.Contains(body, "store is closed") {
				t.Errorf("the answer shows the error: %s", body)
			}
			if tt.public && strings.Contains(body, "alice") {
				t.Errorf("the public page shows the user: %s", body)
			}
		})
	}
}
