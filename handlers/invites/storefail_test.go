package invites

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// TestClosedStoreAnswers503 checks that a closed store (Caddy stopping or reloading) is answered
// as "try again shortly" on the admin pages and the API, not as a 500 or as bad input.
func TestClosedStoreAnswers503(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Enabled: true})
	srv := e.admin(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		api                      bool
	}{
		{"list page", "GET", "/invites", "", false},
		{"detail page", "GET", "/invites/" + inv.ID, "", false},
		{"create form", "POST", "/invites", "label=x&lib_" + testServerID + "=4&enabled=on", false},
		{"API list", "GET", "/invites", "", true},
		{"API get", "GET", "/invites/" + inv.ID, "", true},
		{"API create", "POST", "/invites", `{"label":"x","libraries":{"` + testServerID + `":["4"]}}`, true},
		{"API delete", "DELETE", "/invites/" + inv.ID, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			switch {
			case tt.api:
				rec = srv.API(tt.method, tt.path, web.RoleAdmin, tt.body)
			case tt.body != "":
				rec = srv.Do(tt.method, tt.path, web.RoleAdmin, strings.NewReader(tt.body))
			default:
				rec = srv.Do(tt.method, tt.path, web.RoleAdmin, nil)
			}
			code, body, retry := rec.Code, rec.Body.String(), rec.Header().Get("Retry-After")
			if code != http.StatusServiceUnavailable || retry == "" {
				t.Fatalf("%d (Retry-After %q), want 503: %s", code, retry, body)
			}
			if !tt.api && (strings.Contains(body, "closed") || !strings.Contains(body, "temporarily unavailable")) {
				t.Errorf("the page shows the error: %s", body)
			}
			if tt.api && !strings.Contains(body, "try again shortly") {
				t.Errorf("API answer %s", body)
			}
		})
	}
}

// TestPublicFlowClosedStore checks that the public sign-in flow answers a store failure with the
// "try again later" page (503 and a way back to the invite), not "something went wrong".
func TestPublicFlowClosedStore(t *testing.T) {
	fe := newFlowEnv(t)
	inv := fe.create(t, invite.Spec{Enabled: true, Libraries: map[string][]string{plextest.MinimalMachineID: {"4"}}})
	b := &browser{t: t, fe: fe, cookies: map[string]string{}}
	_, fwd := b.join(inv.Code)
	if err := fe.store.Close(); err != nil {
		t.Fatal(err)
	}
	rec := b.do("GET", fwd, nil)
	body := html.UnescapeString(rec.Body.String())
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(body, unavailableReason) {
		t.Fatalf("flow step on a closed store: %d %q\n%s", rec.Code, rec.Header().Get("Retry-After"), body)
	}
	for _, leak := range []string{"closed", "store", "disk", "Something went wrong"} {
		if strings.Contains(body, leak) {
			t.Errorf("the public page says %q:\n%s", leak, body)
		}
	}
}
