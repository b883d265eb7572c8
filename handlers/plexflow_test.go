package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// beginPlexSignIn posts to path and returns the PIN code and the callback path plex.tv's auth app
// would send the browser back to.
func beginPlexSignIn(t *testing.T, b *browser, path string) (code, callback string) {
	t.Helper()
	rec := b.post(path, nil)
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, b.hs.fake.AuthURL()+"#?") {
		t.Fatalf("POST %s: %d → %q, want the Plex auth app", path, rec.Code, loc)
	}
	frag, err := url.ParseQuery(strings.SplitN(loc, "#?", 2)[1])
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := url.Parse(frag.Get("forwardUrl"))
	if err != nil || fwd.Host != "example.com" || fwd.Query().Get("state") == "" {
		t.Fatalf("forwardUrl %q", frag.Get("forwardUrl"))
	}
	if strings.Contains(loc, b.hs.fake.OwnerToken()) {
		t.Fatal("a token in the auth URL")
	}
	return frag.Get("code"), strings.TrimPrefix(fwd.RequestURI(), b.hs.base)
}

func TestSignInWithPlex(t *testing.T) {
	hs := newHarness(t, harnessOptions{plex: true})
	a := hs.addAdmin("root", storage.RoleAdmin, true)
	a.PlexID = plextest.MinimalOwnerID
	if err := hs.store.PutAdmin(a); err != nil {
		t.Fatal(err)
	}
	b := hs.browser()
	code, callback := beginPlexSignIn(t, b, "/login/plex")
	// Back before signing in on plex.tv: wait, and the sign-in stays usable.
	if rec := b.get(callback); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), "Check again") {
		t.Fatalf("pending PIN: %d", rec.Code)
	}
	// Another browser cannot complete it (the state is bound to the cookie).
	if rec := hs.browser().get(callback); rec.Code != http.StatusBadRequest {
		t.Errorf("callback from another browser: %d", rec.Code)
	}
	if err := hs.fake.ClaimPIN(code, plextest.MinimalOwnerID); err != nil {
		t.Fatal(err)
	}
	hs.clock.Add(2 * time.Second) // plex.tv refuses polls of one PIN closer than a second
	rec := b.get(callback)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" || b.cookies["pm_session"] == "" {
		for _, e := range hs.logs.All() {
			t.Log(e.Message, e.ContextMap())
		}
		t.Fatalf("callback: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := b.get("/"); rec.Code != 200 {
		t.Errorf("signed in with Plex: %d", rec.Code)
	}
	// The sign-in is single use.
	b.cookies[plexStateCookie] = strings.TrimPrefix(callback, plexCallbackPath+"?state=")
	if rec := b.get(callback); rec.Code != http.StatusBadRequest {
		t.Errorf("second use of the callback: %d", rec.Code)
	}

	// A Plex account linked to no admin is refused.
	c := hs.browser()
	code, callback = beginPlexSignIn(t, c, "/login/plex")
	if err := hs.fake.ClaimPIN(code, 22526914); err != nil { // alice
		t.Fatal(err)
	}
	rec = c.get(callback)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "not linked to an admin") || c.cookies["pm_session"] != "" {
		t.Errorf("unlinked account: %d", rec.Code)
	}
}

func TestSetupAndOwnerWithPlex(t *testing.T) {
	hs := newHarness(t, harnessOptions{plex: true})
	b := hs.browser()
	b.post("/setup", url.Values{"code": {hs.setupCode()}})
	code, callback := beginPlexSignIn(t, b, "/setup/admin/plex")
	if err := hs.fake.ClaimPIN(code, plextest.MinimalOwnerID); err != nil {
		t.Fatal(err)
	}
	rec := b.get(callback)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/plex" {
		t.Fatalf("first admin by Plex: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	a, err := hs.store.AdminByPlexID(plextest.MinimalOwnerID)
	if err != nil || a.Username != "owner" || a.PasswordHash != "" || a.Role != storage.RoleAdmin {
		t.Fatalf("first admin %+v %v", a, err)
	}
	// Step 3 by signing in as the owner: the account's token becomes the owner token.
	code, callback = beginPlexSignIn(t, b, "/setup/plex/signin")
	if err := hs.fake.ClaimPIN(code, plextest.MinimalOwnerID); err != nil {
		t.Fatal(err)
	}
	rec = b.get(callback)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/servers" {
		t.Fatalf("owner sign-in: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if tok, _ := PlexOwnerToken(hs.store, hs.sealer); tok != hs.fake.OwnerToken() {
		t.Error("the owner's token was not stored")
	}
	// Unlinking Plex needs a password first (it is this admin's only way in).
	b.post("/account/plex/unlink", nil)
	if a, _ := hs.store.GetAdmin(a.ID); a.PlexID == 0 {
		t.Error("unlinked the only sign-in method")
	}
}

func TestLinkPlexAccount(t *testing.T) {
	hs := newHarness(t, harnessOptions{plex: true})
	b := hs.signedIn("root", storage.RoleAdmin)
	code, callback := beginPlexSignIn(t, b, "/account/plex")
	if err := hs.fake.ClaimPIN(code, 22522496); err != nil { // bob
		t.Fatal(err)
	}
	if rec := b.get(callback); rec.Code != http.StatusSeeOther {
		t.Fatalf("link: %d", rec.Code)
	}
	if a, _ := hs.store.AdminByUsername("root"); a.PlexID != 22522496 {
		t.Errorf("linked %d", a.PlexID)
	}
	// Another admin cannot link the same account.
	o := hs.signedIn("other", storage.RoleAuditor)
	code, callback = beginPlexSignIn(t, o, "/account/plex")
	_ = hs.fake.ClaimPIN(code, 22522496)
	o.get(callback)
	if a, _ := hs.store.AdminByUsername("other"); a.PlexID != 0 {
		t.Error("one Plex account linked to two admins")
	}
	if page := o.get("/account").Body.String(); !strings.Contains(page, "already linked to another admin") {
		t.Error("no message for a taken Plex account")
	}
	// Unlink with a password is fine.
	b.post("/account/plex/unlink", nil)
	if a, _ := hs.store.AdminByUsername("root"); a.PlexID != 0 {
		t.Error("unlink failed")
	}
}
