package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// snapshot captures what the admin forms may change, to prove bad input changes nothing.
func (hs *harness) snapshot() string {
	hs.t.Helper()
	admins, _ := hs.store.ListAdmins()
	keys, _ := hs.store.ListAPIKeys()
	app, _ := LoadAppSettings(hs.store)
	tok, _ := PlexOwnerToken(hs.store, hs.sealer)
	for i := range admins {
		admins[i].LastLoginAt = nil // sign-ins are not what the forms change
	}
	b, _ := json.Marshal([]any{admins, keys, app, tok})
	return string(b)
}

func TestFormsRefuseBadInputAndChangeNothing(t *testing.T) {
	hs := newHarness(t, harnessOptions{plex: true})
	b := hs.signedIn("root", storage.RoleAdmin)
	other := hs.addAdmin("other", storage.RoleModerator, true)
	long := strings.Repeat("x", 70)
	tests := []struct {
		path  string
		form  url.Values
		field string // id of the field-error paragraph
	}{
		{"/admins", url.Values{"username": {""}, "role": {"admin"}, "password": {testPassword}, "confirm": {testPassword}}, "new-username"},
		{"/admins", url.Values{"username": {"a b"}, "role": {"admin"}, "password": {testPassword}, "confirm": {testPassword}}, "new-username"},
		{"/admins", url.Values{"username": {long}, "role": {"admin"}, "password": {testPassword}, "confirm": {testPassword}}, "new-username"},
		{"/admins", url.Values{"username": {"Root"}, "role": {"admin"}, "password": {testPassword}, "confirm": {testPassword}}, "new-username"},
		{"/admins", url.Values{"username": {"newbie"}, "role": {"owner"}, "password": {testPassword}, "confirm": {testPassword}}, "new-role"},
		{"/admins", url.Values{"username": {"newbie"}, "role": {""}, "password": {testPassword}, "confirm": {testPassword}}, "new-role"},
		{"/admins", url.Values{"username": {"newbie"}, "role": {"admin"}, "password": {"tooshort1"}, "confirm": {"tooshort1"}}, "new-password"},
		{"/admins", url.Values{"username": {"newbie"}, "role": {"admin"}, "password": {"qwertyuiop123"}, "confirm": {"qwertyuiop123"}}, "new-password"},
		{"/admins", url.Values{"username": {"newbie"}, "role": {"admin"}, "password": {testPassword}, "confirm": {"different"}}, "new-confirm"},
		{"/api-keys", url.Values{"name": {""}, "role": {"auditor"}}, "key-name"},
		{"/api-keys", url.Values{"name": {long}, "role": {"auditor"}}, "key-name"},
		{"/api-keys", url.Values{"name": {"tab\tname"}, "role": {"auditor"}}, "key-name"},
		{"/api-keys", url.Values{"name": {"ci"}, "role": {"superuser"}}, "key-role"},
		{"/settings", url.Values{"app_name": {long}, "public_url": {""}, "session_idle_hours": {"12"}, "session_absolute_hours": {"168"}}, "app_name"},
		{"/settings", url.Values{"app_name": {"bad\x01name"}, "public_url": {""}, "session_idle_hours": {"12"}, "session_absolute_hours": {"168"}}, "app_name"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {"not a url"}, "session_idle_hours": {"12"}, "session_absolute_hours": {"168"}}, "public_url"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {"javascript:alert(1)"}, "session_idle_hours": {"12"}, "session_absolute_hours": {"168"}}, "public_url"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {""}, "session_idle_hours": {"abc"}, "session_absolute_hours": {"168"}}, "session_idle_hours"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {""}, "session_idle_hours": {"0"}, "session_absolute_hours": {"168"}}, "session_idle_hours"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {""}, "session_idle_hours": {"-3"}, "session_absolute_hours": {"168"}}, "session_idle_hours"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {""}, "session_idle_hours": {"NaN"}, "session_absolute_hours": {"168"}}, "session_idle_hours"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {""}, "session_idle_hours": {"12"}, "session_absolute_hours": {"99999"}}, "session_absolute_hours"},
		{"/settings", url.Values{"app_name": {"PM"}, "public_url": {""}, "session_idle_hours": {"48"}, "session_absolute_hours": {"24"}}, "session_absolute_hours"},
		{"/settings/plex-token", url.Values{"token": {""}}, "token"},
		{"/settings/plex-token", url.Values{"token": {"has space"}}, "token"},
		{"/settings/plex-token", url.Values{"token": {"rejected-by-plex"}}, "token"},
		{"/account/password", url.Values{"current": {"wrong one"}, "password": {testPassword + "2"}, "confirm": {testPassword + "2"}}, "current"},
		{"/account/password", url.Values{"current": {testPassword}, "password": {"short"}, "confirm": {"short"}}, "password"},
		{"/account/password", url.Values{"current": {testPassword}, "password": {"root-is-me-2024"}, "confirm": {"root-is-me-2024"}}, "password"},
		{"/account/password", url.Values{"current": {testPassword}, "password": {testPassword + "2"}, "confirm": {testPassword + "3"}}, "confirm"},
	}
	for _, tt := range tests {
		before := hs.snapshot()
		rec := b.post(tt.path, tt.form)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("POST %s %v: %d, want 400", tt.path, tt.form, rec.Code)
			continue
		}
		if msg := fieldError(rec.Body.String(), tt.field); msg == "" {
			t.Errorf("POST %s %v: no message for %s", tt.path, tt.form, tt.field)
		} else if !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
			t.Errorf("POST %s: message %q is not a sentence", tt.path, msg)
		}
		if !strings.Contains(rec.Body.String(), `aria-invalid="true"`) {
			t.Errorf("POST %s: the field is not marked invalid", tt.path)
		}
		if after := hs.snapshot(); after != before {
			t.Errorf("POST %s %v changed the store", tt.path, tt.form)
		}
	}
	// Row actions with bad input: a message, nothing changed.
	before := hs.snapshot()
	rec := b.post("/admins/"+other.ID+"/role", url.Values{"role": {"owner"}})
	if rec.Code != http.StatusSeeOther || hs.snapshot() != before {
		t.Errorf("bad role change: %d", rec.Code)
	}
	if page := b.get("/admins").Body.String(); !strings.Contains(page, "Choose admin, moderator or auditor.") {
		t.Error("no message for a bad role change")
	}
	if rec := b.post("/admins/nope/role", url.Values{"role": {"admin"}}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown admin: %d", rec.Code)
	}
}

func TestAdminManagementRules(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	root := hs.signedIn("root", storage.RoleAdmin)
	rootAdmin, _ := hs.store.AdminByUsername("root")
	// Create with a role.
	rec := root.post("/admins", url.Values{"username": {"mod"}, "role": {"moderator"}, "password": {testPassword}, "confirm": {testPassword}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	mod, err := hs.store.AdminByUsername("mod")
	if err != nil || mod.Role != storage.RoleModerator {
		t.Fatalf("created admin %+v %v", mod, err)
	}
	// Change role.
	root.post("/admins/"+mod.ID+"/role", url.Values{"role": {"admin"}})
	if mod, _ = hs.store.GetAdmin(mod.ID); mod.Role != storage.RoleAdmin {
		t.Errorf("role change: %s", mod.Role)
	}
	// Self-protection: no own role change, disable or delete.
	for _, p := range []string{"/role", "/disable", "/delete"} {
		root.post("/admins/"+rootAdmin.ID+p, url.Values{"role": {"auditor"}})
	}
	if a, err := hs.store.GetAdmin(rootAdmin.ID); err != nil || a.Role != storage.RoleAdmin || a.Disabled {
		t.Errorf("an admin changed their own account: %+v %v", a, err)
	}
	// With two admins, one may be disabled; then the other is the last enabled admin.
	if rec := root.post("/admins/"+mod.ID+"/disable", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", rec.Code)
	}
	if m, _ := hs.store.GetAdmin(mod.ID); !m.Disabled {
		t.Fatal("the second admin was not disabled")
	}
	// The last enabled admin cannot be demoted, disabled or deleted, not even by an admin key.
	key := hs.apiKey(storage.RoleAdmin)
	for _, tt := range []struct{ method, body string }{
		{"PATCH", `{"role":"moderator"}`}, {"PATCH", `{"disabled":true}`}, {"DELETE", ""},
	} {
		rec := hs.api(tt.method, "/admins/"+rootAdmin.ID, key, tt.body)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "no enabled admin") {
			t.Errorf("%s last admin %s: %d %s", tt.method, tt.body, rec.Code, rec.Body.String())
		}
	}
	if a, _ := hs.store.GetAdmin(rootAdmin.ID); a.Role != storage.RoleAdmin || a.Disabled {
		t.Errorf("the last admin was changed: %+v", a)
	}
	// Delete another admin: their sessions end.
	if rec := root.post("/admins/"+mod.ID+"/delete", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if _, err := hs.store.GetAdmin(mod.ID); err == nil {
		t.Error("the admin still exists")
	}
}

func TestAdminsAndKeysAPI(t *testing.T) {
	hs := newHarness(t, harnessOptions{bootstrap: "caddyfile-bootstrap-key-0123456789"})
	boot := "caddyfile-bootstrap-key-0123456789"
	hs.addAdmin("root", storage.RoleAdmin, true)
	rec := hs.api("POST", "/admins", boot, `{"username":"ops","role":"auditor","password":"`+testPassword+`"}`)
	if rec.Code != http.StatusCreated || strings.Contains(rec.Body.String(), "argon2") || strings.Contains(rec.Body.String(), "password_hash") {
		t.Fatalf("create admin: %d %s", rec.Code, rec.Body.String())
	}
	var created adminJSON
	_ = json.Unmarshal(rec.Body.Bytes(), &created)
	if created.Username != "ops" || created.Role.String() != "auditor" || !created.HasPassword {
		t.Errorf("created %+v", created)
	}
	for _, tt := range []struct {
		body, field string
	}{
		{`{"username":"","role":"auditor","password":"` + testPassword + `"}`, "username"},
		{`{"username":"x y","role":"auditor","password":"` + testPassword + `"}`, "username"},
		{`{"username":"ok","role":"god","password":"` + testPassword + `"}`, "role"},
		{`{"username":"ok","role":"auditor","password":"short"}`, "password"},
		{`{"username":"ok","role":"auditor","password":"` + testPassword + `","admin":true}`, "admin"},
		{`{"username":42,"role":"auditor","password":"` + testPassword + `"}`, "username"},
		{`{"username":"ops","role":"auditor","password":"` + testPassword + `"}`, "username"},
	} {
		rec := hs.api("POST", "/admins", boot, tt.body)
		var e struct{ Error, Field string }
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != 400 || e.Field != tt.field || !strings.HasPrefix(e.Error, tt.field+": ") {
			t.Errorf("POST /admins %s: %d %s, want 400 naming %s", tt.body, rec.Code, rec.Body.String(), tt.field)
		}
	}
	if rec := hs.api("POST", "/admins", boot, `not json`); rec.Code != 400 {
		t.Errorf("malformed JSON: %d", rec.Code)
	}
	if n := hs.countAdmins(); n != 2 {
		t.Errorf("%d admins after bad requests, want 2", n)
	}
	rec = hs.api("PATCH", "/admins/"+created.ID, boot, `{"role":"moderator"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"role":"moderator"`) {
		t.Errorf("patch: %d %s", rec.Code, rec.Body.String())
	}
	if rec := hs.api("PATCH", "/admins/nope", boot, `{"role":"moderator"}`); rec.Code != 404 {
		t.Errorf("patch unknown: %d", rec.Code)
	}
	// API keys: created once, listed without secrets, revoked.
	rec = hs.api("POST", "/api-keys", boot, `{"name":"ci","role":"moderator"}`)
	var ck apiKeyCreated
	_ = json.Unmarshal(rec.Body.Bytes(), &ck)
	if rec.Code != 201 || !strings.HasPrefix(ck.Key, "pmk_") || ck.APIKey.Role.String() != "moderator" {
		t.Fatalf("create key: %d %s", rec.Code, rec.Body.String())
	}
	if rec := hs.api("GET", "/me", ck.Key, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"role":"moderator"`) || !strings.Contains(rec.Body.String(), `"via":"apikey"`) {
		t.Errorf("me with the new key: %d %s", rec.Code, rec.Body.String())
	}
	if rec := hs.api("GET", "/admins", ck.Key, ""); rec.Code != 403 {
		t.Errorf("moderator key on an admin route: %d", rec.Code)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"name":"","role":"auditor"}`, "name"},
		{`{"name":"` + strings.Repeat("k", 65) + `","role":"auditor"}`, "name"},
		{`{"name":"ok","role":"root"}`, "role"},
		{`{"name":"ok","role":"auditor","expires":1}`, "expires"},
		{`{"name":["a"],"role":"auditor"}`, "name"},
	} {
		rec := hs.api("POST", "/api-keys", boot, tt.body)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"`+tt.field+`"`) {
			t.Errorf("POST /api-keys %s: %d %s", tt.body, rec.Code, rec.Body.String())
		}
	}
	if rec := hs.api("POST", "/api-keys", boot, ""); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("POST /api-keys without a body: %d", rec.Code)
	}
	list := hs.api("GET", "/api-keys", boot, "").Body.String()
	if n := strings.Count(list, `"id"`); n != 1 {
		t.Errorf("%d keys after bad requests, want 1", n)
	}
	if strings.Contains(list, ck.Key[12:]) || strings.Contains(list, `"hash"`) || !strings.Contains(list, ck.Key[:12]) {
		t.Errorf("key list leaks or lacks the prefix: %s", list)
	}
	if rec := hs.api("DELETE", "/api-keys/"+ck.APIKey.ID, boot, ""); rec.Code != 204 {
		t.Errorf("revoke: %d", rec.Code)
	}
	if rec := hs.api("GET", "/me", ck.Key, ""); rec.Code != 401 {
		t.Errorf("revoked key: %d", rec.Code)
	}
	if rec := hs.api("DELETE", "/api-keys/nope", boot, ""); rec.Code != 404 {
		t.Errorf("revoke unknown: %d", rec.Code)
	}
	// Settings through the API.
	rec = hs.api("PATCH", "/settings", boot, `{"app_name":"My Plex","session_idle_minutes":60}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"app_name":"My Plex"`) || !strings.Contains(rec.Body.String(), `"session_idle_minutes":60`) {
		t.Errorf("patch settings: %d %s", rec.Code, rec.Body.String())
	}
	for _, tt := range []struct{ body, field string }{
		{`{"session_idle_minutes":1}`, "session_idle_minutes"},
		{`{"session_absolute_minutes":30}`, "session_absolute_minutes"},
		{`{"public_url":"ftp://x"}`, "public_url"},
		{`{"app_name":"` + strings.Repeat("n", 65) + `"}`, "app_name"},
		{`{"nope":1}`, "nope"},
	} {
		rec := hs.api("PATCH", "/settings", boot, tt.body)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"`+tt.field+`"`) {
			t.Errorf("PATCH /settings %s: %d %s", tt.body, rec.Code, rec.Body.String())
		}
	}
	if rec := hs.api("GET", "/settings", boot, ""); !strings.Contains(rec.Body.String(), `"session_idle_minutes":60`) {
		t.Errorf("bad patches changed the settings: %s", rec.Body.String())
	}
	if rec := hs.api("GET", "/status", boot, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"version":"v-test"`) || !strings.Contains(rec.Body.String(), `"counts"`) {
		t.Errorf("status: %d %s", rec.Code, rec.Body.String())
	}
}

func TestStoredXSSRendersInert(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	// Names that did not pass the UI's rules (restored, or a Plex username) still render inert.
	a := storage.Admin{ID: storage.NewID(), Username: evil, Role: storage.RoleAdmin, PasswordHash: ""}
	if err := hs.store.PutAdmin(a); err != nil {
		t.Fatal(err)
	}
	b := hs.signedIn("root", storage.RoleAdmin)
	// API key names accept any printable text.
	if rec := b.post("/api-keys", url.Values{"name": {evil}, "role": {"auditor"}}); rec.Code != http.StatusCreated {
		t.Fatalf("creating a key: %d", rec.Code)
	}
	if rec := b.post("/settings", url.Values{"app_name": {`"><script>alert(3)</script>`}, "public_url": {""}, "session_idle_hours": {"12"}, "session_absolute_hours": {"168"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("app name: %d", rec.Code)
	}
	evilSession, _, _ := hs.h.core.sessions.Create(a.ID, "", "", "")
	eb := hs.browser()
	eb.cookies["pm_session"] = evilSession
	pages := map[string]string{
		"admins":   b.get("/admins").Body.String(),
		"api keys": b.get("/api-keys").Body.String(),
		"settings": b.get("/settings").Body.String(),
		"own menu": eb.get("/").Body.String(),
	}
	for name, body := range pages {
		for _, bad := range []string{"<script>alert", "<img src=x", `"><script>`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s page contains %q", name, bad)
			}
		}
	}
	if !strings.Contains(pages["admins"], "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the admin name is not shown escaped")
	}
	if !strings.Contains(pages["own menu"], "&lt;script&gt;alert(1)") {
		t.Error("the signed-in name is not shown escaped in the menu")
	}
	rec := hs.api("GET", "/admins", hs.apiKey("admin"), "")
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Errorf("JSON not HTML-escaped: %s", rec.Body.String())
	}
}
