package invites

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
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
		{"create form", "POST", "/invites", "label=x&lib=" + testServerID + "%2F4&enabled=on", false},
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

// TestDiskFull checks the answers when the store refuses writes because the data disk is full:
// admin pages and the API say so (507, nothing changed), reads keep working, and the public
// sign-in says only "try again later" with a way back to the invite.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(storage.Options{Dir: dir, ReserveBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	seeded := newFlowEnvOn(t, st, true)
	inv := seeded.create(t, invite.Spec{Enabled: true, Label: "kept", Libraries: map[string][]string{plextest.MinimalMachineID: {"4"}}})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	fe := newFlowEnvOn(t, storetest.FullDisk(t, dir), false)
	admin := fe.admin(t)

	// Admin page: the form is refused with the disk-full page.
	rec := admin.Do("POST", "/invites", web.RoleAdmin, form("label", "new", "lib", plextest.MinimalMachineID+"/4", "enabled", "on"))
	page := html.UnescapeString(rec.Body.String())
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(page, "The server's data disk is full. Nothing was changed.") {
		t.Fatalf("create form on a full disk: %d\n%s", rec.Code, page)
	}
	// API: the fixed JSON message.
	rec = admin.API("POST", "/invites", web.RoleAdmin, `{"label":"new","libraries":{"`+plextest.MinimalMachineID+`":["4"]}}`)
	if rec.Code != http.StatusInsufficientStorage ||
		strings.TrimSpace(rec.Body.String()) != `{"error":"data disk is full: nothing was changed; free disk space and try again"}` {
		t.Fatalf("API create on a full disk: %d %s", rec.Code, rec.Body.String())
	}
	rec = admin.API("DELETE", "/invites/"+inv.ID, web.RoleAdmin, "")
	if rec.Code != http.StatusInsufficientStorage {
		t.Fatalf("API delete on a full disk: %d %s", rec.Code, rec.Body.String())
	}
	// Reads work and nothing changed.
	rec = admin.API("GET", "/invites", web.RoleAuditor, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"kept"`) || strings.Contains(rec.Body.String(), `"new"`) {
		t.Fatalf("API list on a full disk: %d %s", rec.Code, rec.Body.String())
	}
	if rec := admin.Do("GET", "/invites", web.RoleAuditor, nil); rec.Code != http.StatusOK {
		t.Fatalf("list page on a full disk: %d", rec.Code)
	}

	// Public: the invite page shows (a read); joining needs to store the sign-in: try again later.
	if rec := fe.srv.Do("GET", "/"+inv.Code, web.RoleNone, nil); rec.Code != http.StatusOK {
		t.Fatalf("invite page on a full disk: %d", rec.Code)
	}
	b := &browser{t: t, fe: fe, cookies: map[string]string{}}
	rec = b.do("POST", "/j/"+inv.Code+"/join", strings.NewReader(""))
	body := html.UnescapeString(rec.Body.String())
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(body, unavailableReason) ||
		!strings.Contains(body, `href="/j/`+inv.Code+`"`) {
		t.Fatalf("join on a full disk: %d\n%s", rec.Code, body)
	}
	for _, leak := range []string{"disk", "store", "Something went wrong"} {
		if strings.Contains(body, leak) {
			t.Errorf("the public page says %q:\n%s", leak, body)
		}
	}
}

// TestPublicPagesClosedStore checks that the invite page and joining answer a store that cannot be
// read with "try again shortly" (503 and Retry-After), the same for every code, and never with the
// page that says the invite cannot be used.
func TestPublicPagesClosedStore(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Enabled: true})
	srv := e.public(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{inv.Code, "unknown-code-123"} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/" + code},
			{"POST", "/" + code + "/join"},
		} {
			rec := srv.Do(req.method, req.path, web.RoleNone, strings.NewReader(""))
			body := html.UnescapeString(rec.Body.String())
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s %s on a closed store: %d (Retry-After %q), want 503\n%s", req.method, req.path, rec.Code, rec.Header().Get("Retry-After"), body)
				continue
			}
			if !strings.Contains(body, "try again") {
				t.Errorf("%s %s: the page does not say to try again:\n%s", req.method, req.path, body)
			}
			for _, leak := range []string{"can't be used", "cannot be used", "closed", "store", "Something went wrong"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s %s: the page says %q:\n%s", req.method, req.path, leak, body)
				}
			}
		}
	}
	if len(e.slept) != 0 {
		t.Errorf("store failures waited the unusable-code delay: %v", e.slept)
	}
}
