package users

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestPagesRenderEveryBranch renders the pages with the optional parts filled in: a user with a
// Discord link, an invite, library windows and a schedule; a removed user; a capped enforcement.
func TestPagesRenderEveryBranch(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	res, err := e.svc.Grant(ctx, "admin:test", access.GrantRequest{UserID: daveID, Username: "dave", Email: "dave@example.com",
		Libraries: map[string][]string{srvID: {"4"}}, InviteID: "inv123", DiscordID: "80351110224678912", DiscordName: "dave#1"})
	if err != nil {
		t.Fatalf("Grant: %v", err)
	}
	later := t0.Add(72 * time.Hour)
	if _, err := e.svc.UpdateUser(ctx, "admin:test", aliceID, access.UserPatch{ExpiresAt: &later,
		LibraryWindows: map[string]map[string]storage.Window{srvID: {"1": {StartsAt: &later}}}}); err != nil {
		t.Fatalf("library window: %v", err)
	}
	if err := e.svc.RemoveUser(ctx, "admin:test", carolID, "test"); err != nil {
		t.Fatal(err)
	}

	rec := e.srv.Do("GET", fmt.Sprintf("/users/%d", res.User.ID), web.RoleAuditor, nil)
	wantStatus(t, rec, http.StatusOK, "dave")
	b := rec.Body.String()
	for _, want := range []string{`href="https://discord.com/users/80351110224678912"`, "dave#1", `href="/m/invites/inv123"`, "invitation pending"} {
		if !strings.Contains(b, want) {
			t.Errorf("dave's page lacks %q", want)
		}
	}
	rec = e.srv.Do("GET", fmt.Sprintf("/users/%d", aliceID), web.RoleModerator, nil)
	if b := rec.Body.String(); !strings.Contains(b, "Music: from") || !strings.Contains(b, "Expires <time") {
		t.Errorf("alice's page lacks the library window or the expiry")
	}
	rec = e.srv.Do("GET", fmt.Sprintf("/users/%d", carolID), web.RoleModerator, nil)
	if b := rec.Body.String(); !strings.Contains(b, "<dt>Removed</dt>") || strings.Contains(b, ">Remove…</a>") {
		t.Error("the removed user's page is wrong")
	}
	for _, p := range []string{"/schedule", "/"} {
		rec = e.srv.Do("GET", p, web.RoleAuditor, nil)
		if b := rec.Body.String(); !strings.Contains(b, "library opens") && !strings.Contains(b, "gets Music") {
			t.Errorf("%s does not show the library window: %d", p, rec.Code)
		}
	}

	// A capped pass: two expiries, a cap of one.
	if _, err := e.svc.PutSettings("admin:test", access.Settings{RemovalCap: 1}); err != nil {
		t.Fatal(err)
	}
	soon := t0.Add(time.Minute)
	for _, id := range []int64{aliceID, bobID} {
		if _, err := e.svc.UpdateUser(ctx, "admin:test", id, access.UserPatch{ExpiresAt: &soon}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(time.Hour)
	rec = e.srv.Do("POST", "/enforce", web.RoleAdmin, form())
	wantStatus(t, rec, http.StatusOK, "capped pass")
	if b := rec.Body.String(); !strings.Contains(b, "Nothing was removed: the pass would remove more than the cap of 1.") || !strings.Contains(b, "capped: nothing was removed") {
		t.Errorf("capped pass page: %s", b)
	}
	if _, ok := e.shareOf(aliceID); !ok {
		t.Error("a capped pass removed a share")
	}
	rec = e.srv.Do("POST", "/enforce", web.RoleAdmin, form("ignore_cap", "on"))
	wantStatus(t, rec, http.StatusOK, "pass above the cap")
	if _, ok := e.shareOf(aliceID); ok {
		t.Error("lifting the cap did not remove the expired share")
	}
}
