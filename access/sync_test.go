package access

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestSyncAdoptsUpdatesAndMarksRemoved(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "first sync")
	if rep.Adopted != 3 || rep.Updated != 0 || rep.Removed != 0 || rep.Refused != "" {
		t.Fatalf("first sync report = %+v", rep)
	}
	a := h.user(aliceID)
	if a.Kind != storage.KindFriend || a.Status != storage.StatusActive || a.Shares[srvID].ShareID != 907759180 ||
		!slices.Equal(a.Shares[srvID].Libraries, []string{"4", "8"}) || !a.Shares[srvID].AllowDownloads {
		t.Fatalf("alice = %+v", a)
	}
	b := h.user(bobID)
	if !b.Shares[srvID].AllLibraries || !slices.Equal(b.Shares[srvID].Libraries, []string{"1", "4", "8"}) {
		t.Fatalf("bob = %+v", b.Shares)
	}
	if c := h.user(carolID); c.Shares[srvID].Filters.Movies != "contentRating=G%2CPG|label!=adult" {
		t.Fatalf("carol = %+v", c.Shares)
	}
	if n := len(h.events(EventUserAdopted)); n != 3 {
		t.Fatalf("%d adopted events", n)
	}
	if calls := h.fake.CallCount("GET /api/users"); calls != 1 {
		t.Fatalf("GET /api/users called %d times", calls)
	}

	// A second sync with nothing new changes nothing.
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "second sync")
	if len(rep.Changes) != 0 {
		t.Fatalf("second sync changes = %+v", rep.Changes)
	}

	// Changes made in Plex directly: alice loses TV Shows, dave is invited (pending), carol is removed.
	c, err := plex.New(plex.Config{TVURL: h.fake.URL(), ClientID: "other-tool", Retries: -1})
	mustOK(t, err, "client")
	tok := h.fake.OwnerToken()
	mustOK(t, c.UpdateShare(h.ctx, tok, srvID, 907759180, []int64{plextest.SectionMovies}, plex.ShareSettings{AllowSync: true}), "update alice")
	_, err = c.Share(h.ctx, tok, plex.ShareRequest{MachineID: srvID, Invitee: "dave", SectionIDs: []int64{plextest.SectionMusic}})
	mustOK(t, err, "share dave")
	mustOK(t, c.RemoveFriend(h.ctx, tok, carolID), "remove carol")

	h.clock.Add(time.Hour)
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "third sync")
	if rep.Adopted != 1 || rep.Updated != 1 || rep.Removed != 1 || rep.Held != nil {
		t.Fatalf("third sync = %+v", rep)
	}
	if a := h.user(aliceID); !slices.Equal(a.Shares[srvID].Libraries, []string{"4"}) {
		t.Fatalf("alice not updated: %+v", a.Shares)
	}
	d := h.user(daveID)
	if d.Kind != storage.KindPending || d.Status != storage.StatusPending || !d.Shares[srvID].Pending {
		t.Fatalf("dave = %+v", d)
	}
	if c := h.user(carolID); c.Status != storage.StatusRemoved || c.RemovedAt == nil {
		t.Fatalf("carol = %+v", c)
	}
	if evs := h.events(EventUserShareChanged); len(evs) != 1 || evs[0].UserID != aliceID {
		t.Fatalf("share events = %+v", evs)
	}
	if evs := h.events(EventUserRemovedInPlex); len(evs) != 1 || evs[0].UserID != carolID {
		t.Fatalf("removed events = %+v", evs)
	}
	passes, err := h.svc.RecentPasses(10)
	mustOK(t, err, "RecentPasses")
	// The sync that changed nothing is not stored as a report, but counts as the last sync.
	if len(passes) != 2 || passes[0].Kind != "sync" || passes[0].Changes != 3 {
		t.Fatalf("passes = %+v", passes)
	}
	health, err := h.svc.Health()
	mustOK(t, err, "Health")
	if health.LastSync == nil || !health.LastSync.Equal(t0.Add(time.Hour)) {
		t.Fatalf("last sync %v", health.LastSync)
	}
}

func TestSyncNeverRemovesOnFailedOrEmptyAnswers(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	_, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "first sync")

	h.fake.Inject(plextest.Fault{Route: "GET /api/servers/{machineId}/shared_servers", Status: 500, Count: 1})
	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	if !errors.Is(err, plex.ErrOffline) || len(rep.Changes) != 0 {
		t.Fatalf("sync with a failing list: err %v, report %+v", err, rep)
	}
	h.fake.Inject(plextest.Fault{Route: "GET /api/users", Status: 200, Count: 1,
		Body: `<?xml version="1.0" encoding="UTF-8"?><MediaContainer friendlyName="myPlex" size="0"></MediaContainer>`})
	h.fake.Inject(plextest.Fault{Route: "GET /api/servers/{machineId}/shared_servers", Status: 200, Count: 1,
		Body: `<?xml version="1.0" encoding="UTF-8"?><MediaContainer friendlyName="myPlex" size="0"></MediaContainer>`})
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync with an empty answer")
	if rep.Refused == "" || len(rep.Changes) != 0 {
		t.Fatalf("empty answer report = %+v", rep)
	}
	for _, id := range []int64{aliceID, bobID, carolID} {
		if u := h.user(id); u.Status != storage.StatusActive || len(u.Shares) != 1 {
			t.Fatalf("user %d changed: %+v", id, u)
		}
	}
	if n := len(h.events(EventSyncRefused)); n != 1 {
		t.Fatalf("%d refused events", n)
	}
}

func TestSyncHoldsBigShrinkUntilConfirmed(t *testing.T) {
	h := newHarness(t, seedWithMovieFriends(7, 50000000, "f"))
	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "first sync")
	if rep.Adopted != 10 {
		t.Fatalf("adopted %d", rep.Adopted)
	}
	// Three of ten friends vanish (30% > 20%, and 3 ≥ 3): held.
	c, err := plex.New(plex.Config{TVURL: h.fake.URL(), ClientID: "other-tool", Retries: -1})
	mustOK(t, err, "client")
	for _, id := range []int64{50000000, 50000001, 50000002} {
		mustOK(t, c.RemoveFriend(h.ctx, h.fake.OwnerToken(), id), "remove")
	}
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "shrinking sync")
	if rep.Held == nil || rep.Removed != 0 || !slices.Equal(rep.Held.UserIDs, []int64{50000000, 50000001, 50000002}) {
		t.Fatalf("report = %+v", rep)
	}
	if u := h.user(50000000); u.Status != storage.StatusActive {
		t.Fatalf("held user marked %s", u.Status)
	}
	held, err := h.svc.HeldSync()
	mustOK(t, err, "HeldSync")
	if held == nil || held.ID != rep.Held.ID {
		t.Fatalf("held = %+v", held)
	}
	health, err := h.svc.Health()
	mustOK(t, err, "Health")
	if health.Held == nil || len(health.Alerts) == 0 {
		t.Fatalf("health = %+v", health)
	}
	// The same shrink again does not record a second sync.held event.
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "again")
	if n := len(h.events(EventSyncHeld)); n != 1 {
		t.Fatalf("%d held events", n)
	}
	if _, err := h.svc.ConfirmHeldSync(h.ctx, "admin:root", "wrong"); !errors.Is(err, ErrNoHeldSync) {
		t.Fatalf("confirm with a wrong id: %v", err)
	}
	// One of them comes back before the admin confirms: only two are removed.
	_, err = c.Share(h.ctx, h.fake.OwnerToken(), plex.ShareRequest{MachineID: srvID, InviteeID: 50000001, SectionIDs: []int64{plextest.SectionMovies}})
	mustOK(t, err, "share back")
	rep, err = h.svc.ConfirmHeldSync(h.ctx, "admin:root", held.ID)
	mustOK(t, err, "confirm")
	if rep.Removed != 2 {
		t.Fatalf("confirmed report = %+v", rep)
	}
	if h.user(50000000).Status != storage.StatusRemoved || h.user(50000002).Status != storage.StatusRemoved {
		t.Fatal("confirmed users not removed")
	}
	if h.user(50000001).Status == storage.StatusRemoved {
		t.Fatal("the user back in Plex was removed")
	}
	if held, _ := h.svc.HeldSync(); held != nil {
		t.Fatalf("hold not cleared: %+v", held)
	}
}

func TestSyncHomeAndManagedUsers(t *testing.T) {
	seed := plextest.SeedMinimal()
	seed.Accounts = append(seed.Accounts,
		plextest.Account{ID: 60000001, Username: "spouse", Email: "spouse@example.com", Home: true},
		plextest.Account{ID: 60000002, Title: "Kids", Managed: true, RestrictionProfile: "little_kid"})
	seed.Shares = append(seed.Shares, plextest.Share{MachineID: srvID, UserID: 60000002, SectionIDs: []int64{plextest.SectionMovies}})
	h := newHarness(t, seed)
	_, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	if u := h.user(60000001); u.Kind != storage.KindHome || u.Status != storage.StatusActive {
		t.Fatalf("home member = %+v", u)
	}
	if u := h.user(60000002); u.Kind != storage.KindManaged || u.Status != storage.StatusActive || u.Title != "Kids" {
		t.Fatalf("managed = %+v", u)
	}
	if _, err := h.store.GetUser(plextest.MinimalOwnerID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the owner was adopted: %v", err)
	}
}
