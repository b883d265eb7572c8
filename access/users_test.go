package access

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestApplyShareUpdatesExistingShare(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	got, err := h.svc.ApplyShare(h.ctx, "admin:root", aliceID, srvID,
		storage.Share{Libraries: []string{"1", "8"}, AllowDownloads: false, Filters: storage.Filters{Television: "label!=scary"}}, "test")
	mustOK(t, err, "ApplyShare")
	sh, ok := h.shareOf(aliceID)
	if !ok {
		t.Fatal("alice lost her share")
	}
	if !slices.Equal(sortedIDs(sh.SectionIDs), sections("1", "8")) || sh.AllowSync || sh.FilterTelevision != "label!=scary" {
		t.Fatalf("fake share = %+v, want sections 1,8 (plex.tv ids), no sync, TV filter", sh)
	}
	if sh.ID != 907759180 {
		t.Fatalf("share id changed to %d: the share was recreated instead of updated", sh.ID)
	}
	if !slices.Equal(got.Libraries, []string{"1", "8"}) || got.ShareID != 907759180 || got.AllowDownloads {
		t.Fatalf("stored share = %+v", got)
	}
	if n := h.fake.CallCount("POST /api/v2/shared_servers"); n != 0 {
		t.Fatalf("%d share creations, want 0", n)
	}
	if evs := h.events(EventUserShared); len(evs) != 1 || evs[0].UserID != aliceID || evs[0].Actor != "admin:root" {
		t.Fatalf("events = %+v", evs)
	}
	if p := h.pending(); len(p) != 0 {
		t.Fatalf("pending intents left: %+v", p)
	}
}

func TestApplyShareCreatesAndAlreadySharedIsUpdated(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	// dave has no share in Plex; the store knows him without one.
	h.put(storage.User{ID: daveID, Username: "dave", Email: "dave@example.com", Kind: storage.KindFriend, Status: storage.StatusActive})
	got, err := h.svc.ApplyShare(h.ctx, "admin:root", daveID, srvID, storage.Share{Libraries: []string{"4"}, AllowDownloads: true}, "")
	mustOK(t, err, "ApplyShare dave")
	sh, ok := h.shareOf(daveID)
	if !ok || !slices.Equal(sh.SectionIDs, sections("4")) || !sh.AllowSync || !sh.SkipFriendship {
		t.Fatalf("fake share = %+v (found %v)", sh, ok)
	}
	if got.ShareID != sh.ID || !got.Pending {
		t.Fatalf("stored share %+v, want id %d pending", got, sh.ID)
	}

	// The store forgets alice's share id: creating it again gets 422, which must become an update.
	h.seedUsers()
	mustOK(t, h.store.Update(func(tx *storage.Tx) error {
		a, err := tx.Users().Get(aliceID)
		if err != nil {
			return err
		}
		sh := a.Shares[srvID]
		sh.ShareID = 0
		a.Shares[srvID] = sh
		return putUser(tx, a)
	}), "forgetting the share id")
	h.fake.ResetCalls()
	got, err = h.svc.ApplyShare(h.ctx, "admin:root", aliceID, srvID, storage.Share{Libraries: []string{"1"}}, "")
	mustOK(t, err, "ApplyShare alice")
	if got.ShareID != 907759180 {
		t.Fatalf("stored share id %d, want the existing 907759180", got.ShareID)
	}
	as, _ := h.shareOf(aliceID)
	if !slices.Equal(as.SectionIDs, sections("1")) {
		t.Fatalf("alice's share = %v", as.SectionIDs)
	}
	if n := len(h.fake.SharesFor(srvID)); n != 4 {
		t.Fatalf("%d shares on the fake, want 4 (no duplicate)", n)
	}
	if h.fake.CallCount("POST /api/v2/shared_servers") != 1 || h.fake.CallCount("POST /api/v2/shared_servers/{id}") != 1 {
		t.Fatalf("calls: %+v", h.fake.Calls())
	}
}

func TestApplyShareValidation(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	cases := []struct {
		name   string
		server string
		share  storage.Share
		field  string
		target error
	}{
		{"unknown library", srvID, storage.Share{Libraries: []string{"99"}}, "libraries", nil},
		{"no library", srvID, storage.Share{}, "libraries", nil},
		{"bad filter", srvID, storage.Share{Libraries: []string{"4"}, Filters: storage.Filters{Movies: "nonsense"}}, "filters", nil},
		{"unknown server", "nope", storage.Share{Libraries: []string{"4"}}, "", ErrServerNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.fake.ResetCalls()
			_, err := h.svc.ApplyShare(h.ctx, "admin:root", aliceID, tc.server, tc.share, "")
			var fe *Error
			switch {
			case tc.target != nil && !errors.Is(err, tc.target):
				t.Fatalf("err = %v, want %v", err, tc.target)
			case tc.target == nil && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("err = %v, want a field error on %q", err, tc.field)
			}
			if n := len(h.fake.Calls()); n != 0 {
				t.Fatalf("%d Plex calls on invalid input", n)
			}
		})
	}
	if got := h.user(aliceID).Shares[srvID]; !slices.Equal(got.Libraries, []string{"4", "8"}) {
		t.Fatalf("alice changed: %+v", got)
	}
}

func TestRevokeShareAndNotFoundIsDone(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	mustOK(t, h.svc.RevokeShare(h.ctx, "admin:root", carolID, srvID, "asked to leave"), "RevokeShare")
	if _, ok := h.shareOf(carolID); ok {
		t.Fatal("carol still has a share on the fake")
	}
	if _, ok := h.user(carolID).Shares[srvID]; ok {
		t.Fatal("the store still has carol's share")
	}
	evs := h.events(EventUserUnshared)
	if len(evs) != 1 || evs[0].Data["reason"] != "asked to leave" {
		t.Fatalf("events = %+v", evs)
	}
	// bob's share is already gone in Plex: the removal's 404 counts as done.
	h.fake.Inject(plextest.Fault{Route: "DELETE /api/v2/shared_servers/{id}", Status: 404, Count: 1,
		Body: `{"errors":[{"code":1001,"message":"not found"}]}`})
	mustOK(t, h.svc.RevokeShare(h.ctx, "admin:root", bobID, srvID, ""), "RevokeShare bob")
	if _, ok := h.user(bobID).Shares[srvID]; ok {
		t.Fatal("bob's share still stored")
	}
	if len(h.pending()) != 0 {
		t.Fatal("pending intents left")
	}
}

func TestRemoveUserRevokesEverywhereFirst(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	mustOK(t, h.svc.RemoveUser(h.ctx, "admin:root", aliceID, "left the group"), "RemoveUser")
	if _, ok := h.shareOf(aliceID); ok {
		t.Fatal("alice still shared")
	}
	if acc, _ := h.fake.Account(aliceID); acc.Friend {
		t.Fatal("alice is still a friend")
	}
	u := h.user(aliceID)
	if u.Status != storage.StatusRemoved || u.RemovedAt == nil || len(u.Shares) != 0 {
		t.Fatalf("alice = %+v", u)
	}
	calls := h.fake.Calls()
	var order []string
	for _, c := range calls {
		if c.Method == "DELETE" {
			order = append(order, c.Route)
		}
	}
	if len(order) != 2 || order[0] != "DELETE /api/v2/shared_servers/{id}" || order[1] != "DELETE /api/v2/sharings/{userId}" {
		t.Fatalf("delete order = %v", order)
	}
	if evs := h.events(EventUserRemoved); len(evs) != 1 {
		t.Fatalf("removed events = %d", len(evs))
	}
	// Plex down while removing: nothing is recorded as removed, the intent waits.
	h.fake.Inject(plextest.Fault{Route: "DELETE /api/v2/shared_servers/{id}", Status: 503})
	err := h.svc.RemoveUser(h.ctx, "admin:root", bobID, "")
	if !isRetryLater(err) || !errors.Is(err, plex.ErrOffline) {
		t.Fatalf("err = %v, want a retry-later Plex outage", err)
	}
	if u := h.user(bobID); u.Status != storage.StatusActive {
		t.Fatalf("bob recorded as %s before Plex removed him", u.Status)
	}
	p := h.pending()
	if len(p) != 1 || p[0].UserID != bobID || !p[0].NotBefore.After(h.clock.Now()) {
		t.Fatalf("pending = %+v", p)
	}
	// Plex is back; after the backoff the enforcement pass finishes it.
	h.fake.ClearFaults()
	h.clock.Add(2 * time.Minute)
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	if rep.Retried != 1 || h.user(bobID).Status != storage.StatusRemoved {
		t.Fatalf("report %+v, bob %s", rep, h.user(bobID).Status)
	}
	if _, ok := h.shareOf(bobID); ok {
		t.Fatal("bob still shared")
	}
}

func TestUpdateUserValidationChangesNothing(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	before := h.user(aliceID)
	future := t0.Add(48 * time.Hour)
	past := t0.Add(-48 * time.Hour)
	notes := "x"
	limit := 500
	cases := []struct {
		name  string
		patch UserPatch
		field string
	}{
		{"unknown library names it", UserPatch{Libraries: map[string][]string{srvID: {"4", "77"}}, Notes: &notes}, "libraries"},
		{"unknown server", UserPatch{Libraries: map[string][]string{"zzz": {"4"}}}, "libraries"},
		{"expiry before start", UserPatch{StartsAt: &future, ExpiresAt: &past}, "expires_at"},
		{"set and clear", UserPatch{ExpiresAt: &future, ClearExpiresAt: true}, "expires_at"},
		{"stream limit", UserPatch{StreamLimit: &limit}, "stream_limit"},
		{"bad filter", UserPatch{Filters: &storage.Filters{Music: "contentRating=G"}}, "filters"},
		{"window on unknown library", UserPatch{LibraryWindows: map[string]map[string]storage.Window{srvID: {"55": {ExpiresAt: &future}}}}, "library_windows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.fake.ResetCalls()
			_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, tc.patch)
			var fe *Error
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want field %q", err, tc.field)
			}
			if tc.field == "libraries" && tc.name == "unknown library names it" && !strings.Contains(fe.Message, `"77"`) {
				t.Fatalf("message %q does not name the key", fe.Message)
			}
			if len(h.fake.Calls()) != 0 {
				t.Fatal("Plex was called")
			}
		})
	}
	if !storedEqual(before, h.user(aliceID)) {
		t.Fatalf("alice changed:\n%+v\n%+v", before, h.user(aliceID))
	}
	if len(h.pending()) != 0 {
		t.Fatal("intents written")
	}
}

func TestUpdateUserPushesAtOnce(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	no := false
	notes := "VIP"
	u, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{
		Libraries: map[string][]string{srvID: {"1", "4", "8"}}, AllowDownloads: &no, Notes: &notes,
	})
	mustOK(t, err, "UpdateUser")
	sh, _ := h.shareOf(aliceID)
	if !slices.Equal(sortedIDs(sh.SectionIDs), sections("1", "4", "8")) || sh.AllowSync {
		t.Fatalf("fake share = %+v", sh)
	}
	if u.Notes != "VIP" || !slices.Equal(u.Shares[srvID].Libraries, []string{"1", "4", "8"}) {
		t.Fatalf("stored = %+v", u)
	}
	ev := h.events(EventUserUpdated)
	if len(ev) != 1 {
		t.Fatalf("events %+v", ev)
	}

	// Shortening the window into the past removes the share at once (libraries remembered).
	past := t0.Add(-time.Minute)
	u, err = h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{ExpiresAt: &past})
	mustOK(t, err, "shorten")
	if _, ok := h.shareOf(aliceID); ok {
		t.Fatal("share still on Plex after the window ended")
	}
	if u.Status != storage.StatusExpired || u.Shares[srvID].ShareID != 0 || len(u.Shares[srvID].Libraries) != 3 {
		t.Fatalf("alice = %+v", u)
	}
	// Extending it again gives access back at once.
	future := t0.Add(30 * 24 * time.Hour)
	u, err = h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{ExpiresAt: &future})
	mustOK(t, err, "extend")
	sh, ok := h.shareOf(aliceID)
	if !ok || !slices.Equal(sortedIDs(sh.SectionIDs), sections("1", "4", "8")) {
		t.Fatalf("share after extension = %+v (%v)", sh, ok)
	}
	if u.Status != storage.StatusPending && u.Status != storage.StatusActive {
		t.Fatalf("status %s", u.Status)
	}
	if u.Shares[srvID].ShareID != sh.ID {
		t.Fatalf("stored share id %d, fake %d", u.Shares[srvID].ShareID, sh.ID)
	}
}

func TestPlainEditsWhileAChangeWaitsAndActivityIsKept(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers/{id}", Status: 503})
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"4"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v", err)
	}
	notes := "waiting"
	_, err = h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Notes: &notes})
	mustOK(t, err, "notes while a change waits")
	_, err = h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"8"}}})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("a second Plex edit: %v", err)
	}
	// Activity recorded meanwhile survives the retry's write.
	mustOK(t, h.svc.MarkActivity(aliceID, t0.Add(time.Minute)), "activity")
	h.fake.ClearFaults()
	h.clock.Add(5 * time.Minute)
	_, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	u := h.user(aliceID)
	if u.Notes != "waiting" || !slices.Equal(u.Shares[srvID].Libraries, []string{"4"}) || u.LastActivityAt == nil {
		t.Fatalf("alice = %+v", u)
	}
}

func TestPutUserNeverMovesActivityBack(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	stale := h.user(aliceID) // read before the activity arrives
	mustOK(t, h.svc.MarkActivity(aliceID, t0), "activity")
	stale.Notes = "planned from an old read"
	mustOK(t, h.store.Update(func(tx *storage.Tx) error { return putUser(tx, stale) }), "put")
	u := h.user(aliceID)
	if u.LastActivityAt == nil || !u.LastActivityAt.Equal(t0) || u.Notes != "planned from an old read" {
		t.Fatalf("alice = %+v", u)
	}
}
