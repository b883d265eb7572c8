package users

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// shrinkPlex removes users from Plex behind the store's back (their shares, then the friendship, as
// if an admin had cleaned up in Plex), so the next sync sees a large shrink.
func shrinkPlex(t *testing.T, e *env, ids []int64) {
	t.Helper()
	for _, id := range ids {
		sh, ok := e.shareOf(id)
		if !ok {
			t.Fatalf("user %d has no share", id)
		}
		if err := e.gw.RemoveShare(context.Background(), srvID, sh.ID); err != nil {
			t.Fatalf("removing a share on the fake: %v", err)
		}
		if err := e.gw.RemoveFriend(context.Background(), id); err != nil {
			t.Fatalf("removing a friend on the fake: %v", err)
		}
	}
}

// TestHeldSyncConfirmedOnThePage: a sync that would mark many users removed is held; the sync page
// shows who, a moderator cannot confirm, an admin can, and only then are they marked removed.
func TestHeldSyncConfirmedOnThePage(t *testing.T) {
	seed, ids := bulkSeed(10)
	e := newEnv(t, envOptions{seed: seed})
	gone := ids[:5]
	shrinkPlex(t, e, gone)
	rec := e.srv.Do("POST", "/sync", web.RoleModerator, form())
	wantStatus(t, rec, http.StatusOK, "sync")
	b := rec.Body.String()
	if !strings.Contains(b, "5 removals are held for confirmation") || !strings.Contains(b, "Held: 5 users would be marked removed") ||
		!strings.Contains(b, ">friend00</a>") || strings.Contains(b, "Confirm: mark them removed") {
		t.Fatalf("held sync page (moderator): %s", b)
	}
	for _, id := range gone {
		if u := e.user(id); u.Status != storage.StatusActive {
			t.Fatalf("user %d was marked %s before the confirmation", id, u.Status)
		}
	}
	held, err := e.svc.HeldSync()
	if err != nil || held == nil {
		t.Fatalf("held = %v %v", held, err)
	}
	rec = e.srv.Do("GET", "/sync", web.RoleAdmin, nil)
	if !strings.Contains(rec.Body.String(), `name="held_id" value="`+held.ID+`"`) {
		t.Fatal("the admin gets no confirmation form")
	}
	// Bad confirmations change nothing.
	before := e.snap()
	wantStatus(t, e.srv.Do("POST", "/sync/confirm", web.RoleModerator, form("held_id", held.ID)), http.StatusForbidden, "moderator confirms")
	wantStatus(t, e.srv.Do("POST", "/sync/confirm", web.RoleAdmin, form()), http.StatusBadRequest, "no held id")
	wantStatus(t, e.srv.Do("POST", "/sync/confirm", web.RoleAdmin, form("held_id", "other")), http.StatusConflict, "wrong held id")
	e.unchanged(before, "refused confirmations")

	rec = e.srv.Do("POST", "/sync/confirm", web.RoleAdmin, form("held_id", held.ID))
	wantStatus(t, rec, http.StatusOK, "confirm")
	for _, id := range ids {
		want := storage.StatusActive
		if id <= gone[len(gone)-1] {
			want = storage.StatusRemoved
		}
		if u := e.user(id); u.Status != want {
			t.Errorf("user %d: %s, want %s", id, u.Status, want)
		}
	}
	if h, _ := e.svc.HeldSync(); h != nil {
		t.Error("the hold was not cleared")
	}
}

// TestHeldSyncConfirmedThroughTheAPI is the same through POST /sync and /sync/confirm.
func TestHeldSyncConfirmedThroughTheAPI(t *testing.T) {
	seed, ids := bulkSeed(10)
	e := newEnv(t, envOptions{seed: seed})
	shrinkPlex(t, e, ids[:4])
	rec := e.srv.API("POST", "/sync", web.RoleModerator, "")
	wantStatus(t, rec, http.StatusOK, "sync")
	rep := webtest.Decode[access.SyncReport](t, rec)
	if rep.Held == nil || len(rep.Held.UserIDs) != 4 || rep.Removed != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if rec := e.srv.API("POST", "/sync/confirm", web.RoleModerator, fmt.Sprintf(`{"held_id":%q}`, rep.Held.ID)); rec.Code != http.StatusForbidden {
		t.Errorf("moderator confirm: %d", rec.Code)
	}
	rec = e.srv.API("POST", "/sync/confirm", web.RoleAdmin, fmt.Sprintf(`{"held_id":%q}`, rep.Held.ID))
	wantStatus(t, rec, http.StatusOK, "confirm")
	if rep := webtest.Decode[access.SyncReport](t, rec); rep.Removed != 4 {
		t.Errorf("confirmed report = %+v", rep)
	}
	if u := e.user(ids[0]); u.Status != storage.StatusRemoved {
		t.Errorf("status after confirming = %s", u.Status)
	}
}

func TestPurgePageRefusesDamagedInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := e.snap()
	for _, pairs := range [][]string{{}, {"id", "x"}, {"id", "0"}} {
		rec := e.srv.Do("POST", "/purge", web.RoleAdmin, form(pairs...))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", pairs, rec.Code)
		}
	}
	e.unchanged(before, "damaged purge input")
}
