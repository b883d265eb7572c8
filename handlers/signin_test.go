package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestSignInAndOut(t *testing.T) {
	hs := newHarness(t, harnessOptions{base: "/m"})
	hs.addAdmin("alice", storage.RoleModerator, true)
	b := hs.browser()

	// An anonymous page request goes to the sign-in page and comes back after it.
	rec := b.get("/account?x=1")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/login?next="+url.QueryEscape("/m/account?x=1") {
		t.Fatalf("anonymous page: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := b.get("/login?next=" + url.QueryEscape("/m/account?x=1")); rec.Code != 200 || !strings.Contains(rec.Body.String(), `value="/m/account?x=1"`) {
		t.Fatalf("login page: %d", rec.Code)
	}
	// A planted session token is worthless after sign-in (fixation).
	planted, _, err := hs.h.core.sessions.Create("someone-else", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	b.cookies["pm_session"] = planted

	for _, tt := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{url.Values{"username": {""}, "password": {""}}, 400, "Enter your username and password."},
		{url.Values{"username": {"alice"}, "password": {"wrong password 1"}}, 401, "Wrong username or password."},
		{url.Values{"username": {"nobody"}, "password": {testPassword}}, 401, "Wrong username or password."},
		{url.Values{"username": {"ALICE"}, "password": {strings.ToUpper(testPassword)}}, 401, "Wrong username or password."},
	} {
		rec := b.post("/login", tt.form)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.msg) {
			t.Errorf("sign-in %v: %d, want %d with %q", tt.form, rec.Code, tt.status, tt.msg)
		}
	}
	rec = b.post("/login", url.Values{"username": {"Alice"}, "password": {testPassword}, "next": {"/m/account?x=1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/account?x=1" {
		t.Fatalf("sign-in: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	token := b.cookies["pm_session"]
	if token == "" || token == planted {
		t.Fatal("sign-in did not issue a new session token")
	}
	if _, err := hs.h.core.sessions.Lookup(planted); err == nil {
		t.Error("the planted session survived the sign-in")
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/m" || cookie.MaxAge != int((7*24*time.Hour).Seconds()) {
		t.Errorf("session cookie %+v", cookie)
	}
	if rec := b.get("/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "alice") {
		t.Errorf("dashboard when signed in: %d", rec.Code)
	}
	// Already signed in: the sign-in page forwards.
	if rec := b.get("/login"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/" {
		t.Errorf("login page when signed in: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// next must stay on this site.
	for _, evil := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "/other-base/x"} {
		b2 := hs.browser()
		rec := b2.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}, "next": {evil}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/" {
			t.Errorf("next=%q: redirected to %q", evil, rec.Header().Get("Location"))
		}
	}
	a, _ := hs.store.AdminByUsername("alice")
	if a.LastLoginAt == nil {
		t.Error("the sign-in time was not recorded")
	}

	// Sign out ends this session only.
	other := hs.browser()
	other.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	rec = b.post("/logout", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/login" || b.cookies["pm_session"] != "" {
		t.Fatalf("sign out: %d %q %v", rec.Code, rec.Header().Get("Location"), b.cookies)
	}
	if _, err := hs.h.core.sessions.Lookup(token); err == nil {
		t.Error("the session survived sign-out")
	}
	if rec := b.get("/"); rec.Code != http.StatusSeeOther {
		t.Errorf("page after sign-out: %d", rec.Code)
	}
	if rec := other.get("/"); rec.Code != 200 {
		t.Errorf("sign-out ended another session: %d", rec.Code)
	}
	// Sign out everywhere.
	third := hs.browser()
	third.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	if rec := other.post("/logout/everywhere", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", rec.Code)
	}
	for i, br := range []*browser{other, third} {
		br.cookies["pm_session"] = map[int]string{0: "x", 1: third.cookies["pm_session"]}[i]
		if rec := br.get("/"); rec.Code != http.StatusSeeOther {
			t.Errorf("session %d after sign out everywhere: %d", i, rec.Code)
		}
	}
	if evs, _ := hs.store.ListEvents(storage.EventQuery{}); len(evs) < 3 {
		t.Errorf("%d audit events for sign-ins and sign-outs", len(evs))
	}
}

func TestSignInThrottle(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	hs.addAdmin("alice", storage.RoleAdmin, true)
	b := hs.browser()
	for i := range 5 {
		if rec := b.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password " + string(rune('a'+i))}}); rec.Code != 401 {
			t.Fatalf("attempt %d: %d", i, rec.Code)
		}
	}
	rec := b.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Too many failed attempts") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("right password while locked: %d", rec.Code)
	}
	hs.clock.Add(61 * time.Second)
	if rec := b.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", rec.Code)
	}
}

func TestDisabledAndDeletedAdminsLoseAccess(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	hs.addAdmin("root", storage.RoleAdmin, true)
	b := hs.signedIn("bob", storage.RoleModerator)
	bob, _ := hs.store.AdminByUsername("bob")
	root := hs.browser()
	root.post("/login", url.Values{"username": {"root"}, "password": {testPassword}})
	if rec := root.post("/admins/"+bob.ID+"/disable", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", rec.Code)
	}
	if rec := b.get("/"); rec.Code != http.StatusSeeOther {
		t.Errorf("disabled admin's session still works: %d", rec.Code)
	}
	if rec := hs.browser().post("/login", url.Values{"username": {"bob"}, "password": {testPassword}}); rec.Code != 401 {
		t.Errorf("disabled admin signed in: %d", rec.Code)
	}
	root.post("/admins/"+bob.ID+"/enable", nil)
	b = hs.browser()
	if rec := b.post("/login", url.Values{"username": {"bob"}, "password": {testPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("enabled admin cannot sign in: %d", rec.Code)
	}
	root.post("/admins/"+bob.ID+"/delete", nil)
	if rec := b.get("/"); rec.Code != http.StatusSeeOther {
		t.Errorf("deleted admin's session still works: %d", rec.Code)
	}
}

func TestSessionExpiryThroughHandler(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	b := hs.signedIn("root", storage.RoleAdmin)
	hs.clock.Add(auth.DefaultIdleTimeout - time.Minute)
	if rec := b.get("/"); rec.Code != 200 {
		t.Fatalf("before the idle timeout: %d", rec.Code)
	}
	hs.clock.Add(auth.DefaultIdleTimeout + time.Minute)
	if rec := b.get("/"); rec.Code != http.StatusSeeOther {
		t.Fatalf("after the idle timeout: %d", rec.Code)
	}
	// Shorter lifetimes from the settings apply at once.
	b = hs.browser()
	b.post("/login", url.Values{"username": {"root"}, "password": {testPassword}})
	if _, err := updateAppSettings(hs.store, func(a *AppSettings) error { a.SessionIdleMinutes = 30; return nil }); err != nil {
		t.Fatal(err)
	}
	hs.clock.Add(31 * time.Minute)
	if rec := b.get("/"); rec.Code != http.StatusSeeOther {
		t.Fatalf("after a 30-minute idle timeout set in the settings: %d", rec.Code)
	}
}

func TestCrossOriginPostsRefused(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	b := hs.signedIn("root", storage.RoleAdmin)
	before := hs.countAdmins()
	for _, tt := range []struct{ path string }{{"/login"}, {"/logout"}, {"/admins"}, {"/api-keys"}, {"/settings"}, {"/setup"}} {
		rec := b.do("POST", tt.path, url.Values{"username": {"evil"}, "password": {testPassword}, "confirm": {testPassword}, "role": {"admin"}, "name": {"evil"}},
			"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if rec.Code != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d", tt.path, rec.Code)
		}
	}
	if hs.countAdmins() != before {
		t.Error("a cross-site POST created an admin")
	}
	if keys, _ := hs.store.ListAPIKeys(); len(keys) != 0 {
		t.Error("a cross-site POST created an API key")
	}
	if rec := b.get("/"); rec.Code != 200 {
		t.Error("a cross-site POST to /logout signed the admin out")
	}
	// The API with a session cookie is protected the same way.
	rec := b.do("POST", "/api/v1/api-keys", nil, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json")
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site API POST: %d", rec.Code)
	}
}
