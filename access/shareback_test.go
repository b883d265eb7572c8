package access

import (
	"errors"
	"slices"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// shareBackFlags returns the ids of the stored users flagged as sharing back, sorted.
func (h *harness) shareBackFlags() []int64 {
	h.t.Helper()
	var ids []int64
	mustOK(h.t, h.store.View(func(tx *storage.Tx) error {
		users, err := tx.Users().List()
		for _, u := range users {
			if u.SharesBack {
				ids = append(ids, u.ID)
			}
		}
		return err
	}), "listing users")
	slices.Sort(ids)
	return ids
}

// exclusion returns the purge plan's exclusion of a user.
func exclusion(p PurgePlan, id int64) (PurgeExclusion, bool) {
	i := slices.IndexFunc(p.Excluded, func(e PurgeExclusion) bool { return e.UserID == id })
	if i < 0 {
		return PurgeExclusion{}, false
	}
	return p.Excluded[i], true
}

// candidateIDs returns the purge plan's candidates, sorted.
func candidateIDs(p PurgePlan) []int64 {
	var ids []int64
	for _, c := range p.Candidates {
		ids = append(ids, c.UserID)
	}
	slices.Sort(ids)
	return ids
}

func TestPlexGatewayForeignServers(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	list, err := h.gw.ForeignServers(h.ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("nothing shared with the owner: %+v, %v", list, err)
	}
	bobs, _ := h.fake.AddForeignServer(bobID, "")
	daves, _ := h.fake.AddForeignServer(daveID, "Dave's Den")
	list, err = h.gw.ForeignServers(h.ctx)
	mustOK(t, err, "ForeignServers")
	want := []ForeignServer{{MachineID: bobs.MachineID, Name: "bob's Plex", OwnerID: bobID}, {MachineID: daves.MachineID, Name: "Dave's Den", OwnerID: daveID}}
	if !slices.Equal(list, want) {
		t.Fatalf("ForeignServers = %+v, want %+v", list, want)
	}

	// No token: nothing is asked of Plex.
	h.fake.ResetCalls()
	noToken := NewPlexGateway(nil, func() string { return "" })
	if _, err := noToken.ForeignServers(h.ctx); !errors.Is(err, ErrNoToken) {
		t.Fatalf("without a token: %v", err)
	}
	if _, err := NewPlexGateway(nil, nil).ForeignServers(h.ctx); !errors.Is(err, ErrNoToken) {
		t.Fatalf("without a token function: %v", err)
	}
	if n := len(h.fake.Calls()); n != 0 {
		t.Fatalf("%d calls without a token", n)
	}
	// Plex errors come back typed, never as ErrUnsupported.
	h.fake.Inject(plextest.Fault{Route: "GET /api/v2/resources", Status: 401, Count: 1})
	if _, err := h.gw.ForeignServers(h.ctx); !errors.Is(err, plex.ErrUnauthorized) || errors.Is(err, ErrUnsupported) {
		t.Fatalf("refused token: %v", err)
	}
}

func TestSyncShareBackThroughPlex(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "first sync")
	if !rep.ShareBackChecked || rep.Adopted != 3 {
		t.Fatalf("first sync = %+v", rep)
	}
	if ids := h.shareBackFlags(); len(ids) != 0 {
		t.Fatalf("flagged before anybody shares back: %v", ids)
	}

	// bob shares a server of his own with the owner: the next sync flags exactly bob.
	bobs, ok := h.fake.AddForeignServer(bobID, "")
	if !ok {
		t.Fatal("AddForeignServer refused bob")
	}
	h.clock.Add(day)
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync after bob shares back")
	if !rep.ShareBackChecked || rep.Updated != 1 || len(rep.Changes) != 1 || rep.Changes[0].UserID != bobID ||
		rep.Changes[0].After["shares_back"] != true || rep.Changes[0].Before["shares_back"] != false {
		t.Fatalf("sync = %+v", rep)
	}
	if ids := h.shareBackFlags(); !slices.Equal(ids, []int64{bobID}) {
		t.Fatalf("flagged %v, want only bob", ids)
	}
	if evs := h.events(EventUserSharesBack); len(evs) != 1 || evs[0].UserID != bobID {
		t.Fatalf("share-back events = %+v", evs)
	}
	// Nothing new: nothing changes and no second event.
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "steady sync")
	if len(rep.Changes) != 0 || len(h.events(EventUserSharesBack)) != 1 {
		t.Fatalf("steady sync = %+v", rep)
	}

	// Two months later nobody watched: alice and carol are candidates, bob is kept for sharing back.
	h.clock.Add(60 * day)
	plan, err := h.svc.PurgePreview(h.ctx)
	mustOK(t, err, "preview")
	if got := candidateIDs(plan); !slices.Equal(got, []int64{aliceID, carolID}) {
		t.Fatalf("candidates = %v, want alice and carol", got)
	}
	if ex, ok := exclusion(plan, bobID); !ok || ex.Reason != "shares a server with you" {
		t.Fatalf("bob's exclusion = %+v, %t (excluded %+v)", ex, ok, plan.Excluded)
	}
	// Asking for bob anyway removes nothing.
	pr, err := h.svc.Purge(h.ctx, "admin:root", []int64{bobID})
	mustOK(t, err, "purge bob")
	if len(pr.Removed) != 0 || len(pr.Skipped) != 1 || pr.Skipped[0].UserID != bobID {
		t.Fatalf("purge = %+v", pr)
	}
	if _, ok := h.shareOf(bobID); !ok {
		t.Fatal("bob lost his share")
	}

	// bob stops sharing: the flag goes and he becomes a candidate like the others.
	if !h.fake.RemoveForeignServer(bobs.MachineID) {
		t.Fatal("RemoveForeignServer")
	}
	rep, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync after bob unshares")
	if !rep.ShareBackChecked || rep.Updated != 1 || rep.Changes[0].UserID != bobID || rep.Changes[0].After["shares_back"] != false {
		t.Fatalf("sync = %+v", rep)
	}
	if ids := h.shareBackFlags(); len(ids) != 0 {
		t.Fatalf("still flagged: %v", ids)
	}
	plan, err = h.svc.PurgePreview(h.ctx)
	mustOK(t, err, "preview")
	if got := candidateIDs(plan); !slices.Equal(got, sortedIDs([]int64{aliceID, bobID, carolID})) {
		t.Fatalf("candidates = %v", got)
	}
}

func TestSyncShareBackAdoptsAFriendWhoOnlySharesBack(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	// dave shares with the owner and the owner shares nothing with dave.
	if _, ok := h.fake.AddForeignServer(daveID, ""); !ok {
		t.Fatal("AddForeignServer refused dave")
	}
	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	if !rep.ShareBackChecked {
		t.Fatalf("sync = %+v", rep)
	}
	if ids := h.shareBackFlags(); !slices.Equal(ids, []int64{daveID}) {
		t.Fatalf("flagged %v, want only dave", ids)
	}
	h.clock.Add(60 * day)
	plan, err := h.svc.PurgePreview(h.ctx)
	mustOK(t, err, "preview")
	if d := h.user(daveID); d.Kind != storage.KindFriend || d.Status != storage.StatusActive || len(d.Shares) != 0 {
		t.Fatalf("dave = %+v", d)
	}
	if got := candidateIDs(plan); !slices.Equal(got, sortedIDs([]int64{aliceID, bobID, carolID})) {
		t.Fatalf("candidates = %v, want alice, bob and carol", got)
	}
	if ex, ok := exclusion(plan, daveID); !ok || ex.Reason != "shares a server with you" {
		t.Fatalf("dave's exclusion = %+v, %t", ex, ok)
	}
}

func TestSyncShareBackUnreadableKeepsFlags(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.fake.AddForeignServer(bobID, "")
	_, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "first sync")
	if ids := h.shareBackFlags(); !slices.Equal(ids, []int64{bobID}) {
		t.Fatalf("flagged %v, want bob", ids)
	}
	for _, tc := range []struct {
		name  string
		fault plextest.Fault
	}{
		{"plex.tv down", plextest.Fault{Route: "GET /api/v2/resources", Status: 503, Count: 1}},
		{"unreadable answer", plextest.Fault{Route: "GET /api/v2/resources", Status: 200, Body: `{"not":"a list"}`, Count: 1}},
		{"a shared server without its id", plextest.Fault{Route: "GET /api/v2/resources", Status: 200,
			Body: `[{"provides":"server","owned":false,"ownerId":22522496}]`, Count: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.fake.Inject(tc.fault)
			rep, err := h.svc.Sync(h.ctx, ActorSystem)
			mustOK(t, err, "sync")
			if rep.ShareBackChecked || len(rep.Changes) != 0 {
				t.Fatalf("sync = %+v", rep)
			}
			if ids := h.shareBackFlags(); !slices.Equal(ids, []int64{bobID}) {
				t.Fatalf("flags changed to %v", ids)
			}
		})
	}
	// A shared server whose owner plex.tv does not name flags nobody, and clears what it no longer shows.
	h.fake.Inject(plextest.Fault{Route: "GET /api/v2/resources", Status: 200, Count: 1,
		Body: `[{"provides":"server","owned":false,"ownerId":null,"clientIdentifier":"f00d","name":"Family"}]`})
	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	if !rep.ShareBackChecked {
		t.Fatalf("sync = %+v", rep)
	}
	if ids := h.shareBackFlags(); len(ids) != 0 {
		t.Fatalf("flagged %v for a server without an owner", ids)
	}
}
