package access

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// plexFriend is a Plex user with an accepted share of s1.
func plexFriend(id int64, keys ...string) plex.User {
	return plex.User{ID: id, Username: fmt.Sprintf("u%d", id), Email: fmt.Sprintf("u%d@example.com", id), Title: fmt.Sprintf("u%d", id),
		Shares: map[string]plex.UserShare{"s1": {ShareID: 900 + id, LibraryKeys: keys}}}
}

// storedFriend is the store's record of plexFriend.
func storedFriend(id int64, keys ...string) storage.User {
	return storage.User{ID: id, Username: fmt.Sprintf("u%d", id), Email: fmt.Sprintf("u%d@example.com", id), Title: fmt.Sprintf("u%d", id),
		Kind: storage.KindFriend, Status: storage.StatusActive,
		Shares: map[string]storage.Share{"s1": {ShareID: 900 + id, Libraries: keys}}}
}

func TestPlanSync(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	settings := Settings{ShrinkPercent: 20, ShrinkMinUsers: 3}
	owner := plex.HomeUser{ID: 1, Title: "owner", Admin: true}
	friends := func(n int) ([]storage.User, []plex.User) {
		var st []storage.User
		var px []plex.User
		for i := range n {
			st = append(st, storedFriend(int64(10+i), "4"))
			px = append(px, plexFriend(int64(10+i), "4"))
		}
		return st, px
	}
	tenStored, tenPlex := friends(10)
	fifteenStored, fifteenPlex := friends(15)
	expiredBack := storedFriend(10, "4")
	expiredBack.Status, expiredBack.ExpiresAt = storage.StatusExpired, tptr(now.Add(-time.Hour))
	sh := expiredBack.Shares["s1"]
	sh.ShareID = 0
	expiredBack.Shares["s1"] = sh
	pendingPlex := plexFriend(20, "4")
	ps := pendingPlex.Shares["s1"]
	ps.Pending = true
	pendingPlex.Shares["s1"] = ps
	pendingStored := storedFriend(20, "4")
	pendingStored.Kind, pendingStored.Status = storage.KindPending, storage.StatusPending
	ss := pendingStored.Shares["s1"]
	ss.Pending = true
	pendingStored.Shares["s1"] = ss
	emailInvite := plex.User{Email: "new@example.com", Shares: map[string]plex.UserShare{"s1": {ShareID: 77, LibraryKeys: []string{"4"}, Pending: true}}}
	windowed := storedFriend(10, "4")
	ws := windowed.Shares["s1"]
	ws.LibraryWindows = map[string]storage.Window{"8": {StartsAt: tptr(now.Add(time.Hour))}, "1": {ExpiresAt: tptr(now.Add(-time.Hour))}}
	windowed.Shares["s1"] = ws

	type want struct {
		actions []string // "action:user"
		held    []int64
		refused bool
	}
	cases := []struct {
		name    string
		stored  []storage.User
		plex    []plex.User
		home    []plex.HomeUser
		foreign []ForeignServer
		known   bool
		busy    map[int64]bool
		confirm *HeldSync
		check   func(t *testing.T, p SyncPlan)
		want    want
	}{
		{name: "adopts friends, pending invitees and email invites", plex: []plex.User{plexFriend(10, "4"), pendingPlex, emailInvite},
			home: []plex.HomeUser{owner},
			want: want{actions: []string{"adopt:10", "adopt:20", fmt.Sprintf("adopt:%d", storage.PendingUserID("new@example.com"))}},
			check: func(t *testing.T, p SyncPlan) {
				kinds := map[int64]string{}
				for _, u := range p.writes {
					kinds[u.ID] = u.Kind + "/" + u.Status
				}
				if kinds[10] != "friend/active" || kinds[20] != "pending/pending" || kinds[storage.PendingUserID("new@example.com")] != "pending/pending" {
					t.Fatalf("kinds = %v", kinds)
				}
			}},
		{name: "Home members and managed users, the owner skipped", plex: []plex.User{{ID: 1, Username: "owner"}, {ID: 30, Title: "Kid", Home: true, Managed: true}},
			home: []plex.HomeUser{owner, {ID: 30, Title: "Kid", Managed: true}, {ID: 31, Title: "Spouse", Username: "sp"}},
			want: want{actions: []string{"adopt:30", "adopt:31"}},
			check: func(t *testing.T, p SyncPlan) {
				if p.writes[0].Kind != storage.KindManaged || p.writes[1].Kind != storage.KindHome || p.writes[1].Status != storage.StatusActive {
					t.Fatalf("writes = %+v", p.writes)
				}
			}},
		{name: "unchanged users are not written", stored: tenStored, plex: tenPlex, want: want{}},
		{name: "a changed share is followed", stored: []storage.User{storedFriend(10, "4")}, plex: []plex.User{plexFriend(10, "4", "8")},
			want: want{actions: []string{"update:10"}},
			check: func(t *testing.T, p SyncPlan) {
				if got := p.writes[0].Shares["s1"].Libraries; !slices.Equal(got, []string{"4", "8"}) {
					t.Fatalf("libraries = %v", got)
				}
				if !slices.ContainsFunc(p.events, func(e syncEvent) bool { return e.typ == EventUserShareChanged }) {
					t.Fatal("no drift event")
				}
			}},
		{name: "an accepted invitation", stored: []storage.User{pendingStored}, plex: []plex.User{plexFriend(20, "4")},
			want: want{actions: []string{"update:20"}},
			check: func(t *testing.T, p SyncPlan) {
				if u := p.writes[0]; u.Kind != storage.KindFriend || u.Status != storage.StatusActive {
					t.Fatalf("user = %+v", u)
				}
			}},
		{name: "an expired user shared again in Plex comes back without the past expiry", stored: []storage.User{expiredBack}, plex: []plex.User{plexFriend(10, "4")},
			want: want{actions: []string{"update:10"}},
			check: func(t *testing.T, p SyncPlan) {
				if u := p.writes[0]; u.Status != storage.StatusActive || u.ExpiresAt != nil || u.Shares["s1"].ShareID != 910 {
					t.Fatalf("user = %+v", u)
				}
			}},
		{name: "library windows that still matter are kept", stored: []storage.User{windowed}, plex: []plex.User{plexFriend(10, "4", "1")},
			want: want{actions: []string{"update:10"}},
			check: func(t *testing.T, p SyncPlan) {
				if got := sortedKeys(p.writes[0].Shares["s1"].LibraryWindows); !slices.Equal(got, []string{"8"}) {
					t.Fatalf("windows = %v", got)
				}
			}},
		{name: "share-back flags known users", stored: []storage.User{storedFriend(10, "4"), storedFriend(11, "4")},
			plex: []plex.User{plexFriend(10, "4"), plexFriend(11, "4")}, foreign: []ForeignServer{{MachineID: "x", OwnerID: 11}}, known: true,
			want: want{actions: []string{"update:11"}},
			check: func(t *testing.T, p SyncPlan) {
				if !p.writes[0].SharesBack {
					t.Fatal("not flagged")
				}
			}},
		{name: "share-back unknown leaves the flags", stored: []storage.User{func() storage.User { u := storedFriend(11, "4"); u.SharesBack = true; return u }()},
			plex: []plex.User{plexFriend(11, "4")}, want: want{}},
		{name: "an empty answer changes nothing", stored: tenStored, want: want{refused: true}},
		{name: "two of ten gone: marked removed", stored: tenStored, plex: tenPlex[2:],
			want: want{actions: []string{"mark_removed:10", "mark_removed:11"}}},
		{name: "three of fifteen (20%, not more) gone: marked removed", stored: fifteenStored, plex: fifteenPlex[3:],
			want: want{actions: []string{"mark_removed:10", "mark_removed:11", "mark_removed:12"}}},
		{name: "four of fifteen gone: held", stored: fifteenStored, plex: fifteenPlex[4:], want: want{held: []int64{10, 11, 12, 13}}},
		{name: "lost shares count toward the shrink", stored: tenStored,
			plex: slices.Concat([]plex.User{{ID: 10, Username: "u10"}, {ID: 11, Username: "u11"}, {ID: 12, Username: "u12"}}, tenPlex[3:]),
			want: want{held: []int64{10, 11, 12}}},
		{name: "confirmed held users are removed, others wait", stored: fifteenStored, plex: fifteenPlex[4:],
			confirm: &HeldSync{ID: "h", UserIDs: []int64{10, 11}},
			want:    want{actions: []string{"mark_removed:10", "mark_removed:11"}}},
		{name: "busy users are left alone", stored: tenStored, plex: tenPlex[1:], busy: map[int64]bool{10: true}, want: want{}},
		{name: "scheduled and expired users absent from Plex stay", stored: []storage.User{
			func() storage.User { u := storedFriend(40, "4"); u.Status = storage.StatusScheduled; return u }(),
			func() storage.User { u := storedFriend(41, "4"); u.Status = storage.StatusExpired; return u }(),
			storedFriend(10, "4")}, plex: []plex.User{plexFriend(10, "4")}, want: want{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanSync(SyncInput{Now: now, Servers: []string{"s1"}, Libraries: map[string][]string{"s1": {"1", "4", "8"}},
				Stored: tc.stored, Plex: tc.plex, Home: tc.home, Foreign: tc.foreign, ForeignKnown: tc.known, Busy: tc.busy,
				Settings: settings, Confirm: tc.confirm})
			var actions []string
			for _, c := range p.Changes {
				actions = append(actions, fmt.Sprintf("%s:%d", c.Action, c.UserID))
			}
			if !slices.Equal(actions, tc.want.actions) {
				t.Fatalf("actions = %v, want %v", actions, tc.want.actions)
			}
			if (p.Refused != "") != tc.want.refused {
				t.Fatalf("refused = %q", p.Refused)
			}
			var held []int64
			if p.Held != nil {
				held = p.Held.UserIDs
			}
			if !slices.Equal(held, tc.want.held) {
				t.Fatalf("held = %v, want %v", held, tc.want.held)
			}
			if len(p.writes) != len(p.Changes) {
				t.Fatalf("%d writes for %d changes", len(p.writes), len(p.Changes))
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// shareBackGateway is the real gateway with a list of servers shared with the owner, or err.
type shareBackGateway struct {
	Gateway
	foreign []ForeignServer
	err     error
}

func (g shareBackGateway) ForeignServers(context.Context) ([]ForeignServer, error) {
	return g.foreign, g.err
}

func TestSyncShareBackExcludesFromPurge(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	svc := h.newService(func(o *Options) {
		o.Plex = shareBackGateway{Gateway: h.gw, foreign: []ForeignServer{{MachineID: "bobs-server", Name: "Bob's", OwnerID: bobID}}}
	})
	rep, err := svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	if !rep.ShareBackChecked || !h.user(bobID).SharesBack || h.user(aliceID).SharesBack {
		t.Fatalf("report %+v bob %+v", rep, h.user(bobID))
	}
	// A gateway that cannot tell: the flags stay.
	blind := h.newService(func(o *Options) {
		o.Plex = shareBackGateway{Gateway: h.gw, err: fmt.Errorf("listing shared servers: %w", ErrUnsupported)}
	})
	rep, err = blind.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync without share-back")
	if rep.ShareBackChecked || !h.user(bobID).SharesBack {
		t.Fatalf("report %+v", rep)
	}
	h.clock.Add(60 * day) // adopted long ago, nobody watched
	plan, err := svc.PurgePreview(h.ctx)
	mustOK(t, err, "preview")
	for _, c := range plan.Candidates {
		if c.UserID == bobID {
			t.Fatal("bob shares back but is a purge candidate")
		}
	}
	if !slices.ContainsFunc(plan.Excluded, func(e PurgeExclusion) bool { return e.UserID == bobID && e.Reason == "shares a server with you" }) {
		t.Fatalf("excluded = %+v", plan.Excluded)
	}
}
