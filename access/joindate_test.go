package access

import (
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// frankID is a friend the join-date tests add to SeedMinimal.
const frankID int64 = 51234567

func TestFirstSyncTakesJoinDatesFromPlex(t *testing.T) {
	accepted := t0.Add(-200 * day).Truncate(time.Second)
	seed := plextest.SeedMinimal()
	seed.Accounts = append(seed.Accounts, plextest.Account{ID: frankID, Username: "frank", Email: "frank@example.com", Token: "frank-token"})
	seed.Shares = append(seed.Shares, plextest.Share{ID: 907759190, MachineID: srvID, UserID: frankID,
		SectionIDs: []int64{plextest.SectionMovies}, InvitedAt: accepted.Add(-48 * time.Hour), AcceptedAt: accepted})
	h := newHarness(t, seed)
	_, err := h.svc.PutSettings("admin", Settings{InactiveDays: 30})
	mustOK(t, err, "PutSettings")

	rep, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "first sync")
	if rep.Adopted != 4 {
		t.Fatalf("first sync adopted %d, want 4", rep.Adopted)
	}
	if got := h.user(frankID).CreatedAt; !got.Equal(accepted) {
		t.Fatalf("frank joined %v, want Plex's acceptedAt %v", got, accepted)
	}
	plan, err := h.svc.PurgePreview(h.ctx)
	mustOK(t, err, "PurgePreview")
	var found *PurgeCandidate
	for i, c := range plan.Candidates {
		if c.UserID == frankID {
			found = &plan.Candidates[i]
		}
	}
	if found == nil {
		t.Fatalf("frank (never watched, joined 200 days ago) is not a purge candidate: candidates %+v, excluded %+v",
			plan.Candidates, plan.Excluded)
	}
	if !contains(found.Reason, accepted.Format("2006-01-02")) {
		t.Fatalf("reason %q does not name the join date", found.Reason)
	}

	// A later sync leaves the date alone.
	h.clock.Add(time.Hour)
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "second sync")
	if got := h.user(frankID).CreatedAt; !got.Equal(accepted) {
		t.Fatalf("frank's join date moved to %v", got)
	}
}

func TestSyncKeepsJoinDatesOfKnownUsers(t *testing.T) {
	seed := plextest.SeedMinimal()
	seed.Accounts = append(seed.Accounts, plextest.Account{ID: frankID, Username: "frank", Email: "frank@example.com", Token: "frank-token"})
	seed.Shares = append(seed.Shares, plextest.Share{ID: 907759190, MachineID: srvID, UserID: frankID,
		SectionIDs: []int64{plextest.SectionMovies}, AcceptedAt: t0.Add(-200 * day)})
	h := newHarness(t, seed)
	known := t0.Add(-5 * day)
	h.put(storage.User{ID: frankID, Username: "frank", Email: "frank@example.com", Kind: storage.KindFriend,
		Status: storage.StatusActive, CreatedAt: known,
		Shares: map[string]storage.Share{srvID: {ShareID: 907759190, Libraries: []string{"4"}}}})
	_, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	if got := h.user(frankID).CreatedAt; !got.Equal(known) {
		t.Fatalf("a known user's join date changed from %v to %v (only adoption sets it)", known, got)
	}
}

func TestPlexJoinDate(t *testing.T) {
	now := t0
	d := func(days int) time.Time { return now.Add(-time.Duration(days) * day) }
	share := func(accepted, invited time.Time) plex.UserShare {
		return plex.UserShare{ShareID: 1, AcceptedAt: accepted, InvitedAt: invited}
	}
	cases := []struct {
		name   string
		shares map[string]plex.UserShare
		read   []string
		want   time.Time
		ok     bool
	}{
		{"accepted", map[string]plex.UserShare{"s1": share(d(200), d(201))}, []string{"s1"}, d(200), true},
		{"earliest acceptance of several servers", map[string]plex.UserShare{"s1": share(d(50), d(60)), "s2": share(d(300), d(301))},
			[]string{"s1", "s2"}, d(300), true},
		{"acceptance wins over an older invitation", map[string]plex.UserShare{"s1": share(d(50), d(60)), "s2": share(time.Time{}, d(400))},
			[]string{"s1", "s2"}, d(50), true},
		{"invitation when nothing is accepted", map[string]plex.UserShare{"s1": share(time.Time{}, d(12))}, []string{"s1"}, d(12), true},
		{"servers not read are ignored", map[string]plex.UserShare{"s1": share(d(50), d(60)), "s2": share(d(300), d(301))},
			[]string{"s1"}, d(50), true},
		{"future dates are ignored", map[string]plex.UserShare{"s1": share(now.Add(time.Hour), now.Add(time.Hour))}, []string{"s1"}, time.Time{}, false},
		{"Unix zero is unknown", map[string]plex.UserShare{"s1": share(time.Unix(0, 0), time.Unix(0, 0))}, []string{"s1"}, time.Time{}, false},
		{"no dates", map[string]plex.UserShare{"s1": {ShareID: 1}}, []string{"s1"}, time.Time{}, false},
		{"no shares", nil, []string{"s1"}, time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			read := map[string]bool{}
			for _, s := range tc.read {
				read[s] = true
			}
			m := mirrorUser(plex.User{ID: 10, Username: "u", Shares: tc.shares}, 10, nil, read, nil)
			got, ok := plexJoinDate(m, now)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("plexJoinDate = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPlanSyncJoinDateOfAdoptedAndMergedUsers(t *testing.T) {
	now := t0
	accepted := now.Add(-200 * day)
	friend := plexFriend(10, "4")
	fs := friend.Shares["s1"]
	fs.AcceptedAt, fs.InvitedAt = accepted, accepted.Add(-time.Hour)
	friend.Shares["s1"] = fs
	in := SyncInput{Now: now, Servers: []string{"s1"}, Plex: []plex.User{friend}, Settings: Settings{ShrinkPercent: 20, ShrinkMinUsers: 3}}

	plan := PlanSync(in)
	if len(plan.writes) != 1 || !plan.writes[0].CreatedAt.Equal(accepted) {
		t.Fatalf("adopted record = %+v, want created_at %v", plan.writes, accepted)
	}

	// An email invitation this manager sent earlier keeps its (earlier) date when the invitee accepts.
	invitedHere := now.Add(-300 * day)
	pending := storage.User{ID: storage.PendingUserID("u10@example.com"), Email: "u10@example.com", Kind: storage.KindPending,
		Status: storage.StatusPending, CreatedAt: invitedHere}
	in.Stored = []storage.User{pending}
	plan = PlanSync(in)
	if len(plan.writes) != 1 || plan.writes[0].ID != 10 || !plan.writes[0].CreatedAt.Equal(invitedHere) {
		t.Fatalf("merged record = %+v, want created_at %v (never later)", plan.writes, invitedHere)
	}
	// A merged record younger than Plex's date takes Plex's.
	pending.CreatedAt = now.Add(-time.Hour)
	in.Stored = []storage.User{pending}
	plan = PlanSync(in)
	if len(plan.writes) != 1 || !plan.writes[0].CreatedAt.Equal(accepted) {
		t.Fatalf("merged record = %+v, want created_at %v", plan.writes, accepted)
	}
}
