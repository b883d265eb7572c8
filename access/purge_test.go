package access

import (
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestPlanPurge(t *testing.T) {
	now := t0
	ago := func(days int) *time.Time { return tptr(now.Add(-time.Duration(days) * day)) }
	old := now.Add(-400 * day)
	young := now.Add(-10 * day)
	friend := func(id int64, last *time.Time, created time.Time) storage.User {
		return storage.User{ID: id, Username: "u", Kind: storage.KindFriend, Status: storage.StatusActive, LastActivityAt: last, CreatedAt: created}
	}
	home := friend(5, ago(100), old)
	home.Kind = storage.KindHome
	managed := friend(6, ago(100), old)
	managed.Kind = storage.KindManaged
	back := friend(7, ago(100), old)
	back.SharesBack = true
	white := friend(8, ago(100), old)
	white.Whitelisted = true
	pending := friend(9, nil, old)
	pending.Status = storage.StatusPending
	expired := friend(10, ago(100), old)
	expired.Status = storage.StatusExpired
	// 4 (never watched, joined 10 days ago) is simply not inactive long enough to be listed.
	users := []storage.User{
		friend(1, ago(31), old), // inactive: candidate
		friend(2, ago(29), old), // active
		friend(3, nil, old),     // never watched, old: candidate
		friend(4, nil, young),   // never watched, young: kept (unless never-watched included)
		home, managed, back, white, pending, expired,
		friend(11, ago(30), old),   // exactly 30 days: candidate
		friend(12, ago(60), young), // adopted 10 days ago, history older: kept as young
	}
	cases := []struct {
		name     string
		settings Settings
		want     []int64
		excluded []int64
	}{
		{"default 30 days", Settings{InactiveDays: 30}, []int64{1, 3, 11}, []int64{5, 6, 7, 8, 9, 12}},
		{"never watched included", Settings{InactiveDays: 30, PurgeNeverWatched: true}, []int64{1, 3, 4, 11}, []int64{5, 6, 7, 8, 9, 12}},
		{"90 days", Settings{InactiveDays: 90}, []int64{3}, []int64{5, 6, 7, 8, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanPurge(PurgeInput{Now: now, Users: users, Settings: tc.settings})
			var got, ex []int64
			for _, c := range p.Candidates {
				got = append(got, c.UserID)
				if c.Reason == "" {
					t.Errorf("candidate %d without a reason", c.UserID)
				}
			}
			for _, e := range p.Excluded {
				ex = append(ex, e.UserID)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(ex, tc.excluded) {
				t.Fatalf("candidates %v excluded %v, want %v and %v", got, ex, tc.want, tc.excluded)
			}
		})
	}
}

func TestPurgePreviewThenPurgeRemovesExactlyThose(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	// alice watched yesterday (from the server's history); bob never; carol 40 days ago but whitelisted.
	h.fake.AddHistory(srvID, plextest.HistoryItem{AccountID: aliceID, ViewedAt: t0.Add(-24 * time.Hour), Title: "x"})
	h.fake.AddHistory(srvID, plextest.HistoryItem{AccountID: 1, ViewedAt: t0.Add(-time.Hour), Title: "owner"})
	h.fake.AddHistory(srvID, plextest.HistoryItem{AccountID: carolID, ViewedAt: t0.Add(-40 * day), Title: "y"})
	rep, err := h.svc.HistoryPass(h.ctx)
	mustOK(t, err, "HistoryPass")
	if rep.Error != "" {
		t.Fatalf("history report %+v", rep)
	}
	if a := h.user(aliceID); a.LastActivityAt == nil || !a.LastActivityAt.Equal(t0.Add(-24*time.Hour)) {
		t.Fatalf("alice last activity %v", a.LastActivityAt)
	}
	yes := true
	_, err = h.svc.UpdateUser(h.ctx, "admin:root", carolID, UserPatch{Whitelisted: &yes})
	mustOK(t, err, "whitelist carol")

	plan, err := h.svc.PurgePreview(h.ctx)
	mustOK(t, err, "preview")
	if len(plan.Candidates) != 1 || plan.Candidates[0].UserID != bobID {
		t.Fatalf("preview = %+v", plan)
	}
	if len(plan.Excluded) != 1 || plan.Excluded[0].UserID != carolID || plan.Excluded[0].Reason != "whitelisted" {
		t.Fatalf("excluded = %+v", plan.Excluded)
	}
	// The admin asks for bob and alice; only bob is still eligible.
	h.fake.ResetCalls()
	pr, err := h.svc.Purge(h.ctx, "admin:root", []int64{bobID, aliceID})
	mustOK(t, err, "Purge")
	if !slices.Equal(pr.Removed, []int64{bobID}) || len(pr.Skipped) != 1 || pr.Skipped[0].UserID != aliceID {
		t.Fatalf("purge report = %+v", pr)
	}
	if _, ok := h.shareOf(bobID); ok {
		t.Fatal("bob still shared")
	}
	if _, ok := h.shareOf(aliceID); !ok {
		t.Fatal("alice lost her share")
	}
	if h.user(bobID).Status != storage.StatusRemoved || len(h.events(EventUserPurged)) != 1 {
		t.Fatal("bob not recorded as purged")
	}
	// A second history pass reads only from the watermark on.
	h.fake.ResetCalls()
	_, err = h.svc.HistoryPass(h.ctx)
	mustOK(t, err, "second history pass")
	for _, c := range h.fake.Calls() {
		if c.Route == "GET /status/sessions/history/all" && !contains(c.RawQuery, "viewedAt>=") {
			t.Fatalf("history read without a lower bound: %s", c.RawQuery)
		}
	}
}

func TestAutoPurgeOptInAndCapped(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers() // nobody ever watched; all joined a year ago: three candidates
	rep, err := h.svc.AutoPurge(h.ctx)
	mustOK(t, err, "AutoPurge off")
	if len(rep.Removed) != 0 || len(h.fake.Calls()) != 0 {
		t.Fatalf("auto purge ran while off: %+v", rep)
	}
	_, err = h.svc.PutSettings("admin:root", Settings{AutoPurge: true, RemovalCap: 2})
	mustOK(t, err, "settings")
	// Nobody is removed before the watch history has been read: everyone would look inactive.
	rep, err = h.svc.AutoPurge(h.ctx)
	mustOK(t, err, "AutoPurge before the history pass")
	if len(rep.Removed) != 0 || rep.Capped || !contains(rep.Error, "Basement") || len(h.fake.Calls()) != 0 {
		t.Fatalf("auto purge before the history was read: %+v", rep)
	}
	_, err = h.svc.HistoryPass(h.ctx)
	mustOK(t, err, "HistoryPass")
	rep, err = h.svc.AutoPurge(h.ctx)
	mustOK(t, err, "AutoPurge capped")
	if !rep.Capped || len(rep.Removed) != 0 || len(h.events(EventPurgeCapped)) != 1 {
		t.Fatalf("capped purge = %+v", rep)
	}
	if len(h.fake.SharesFor(srvID)) != 3 {
		t.Fatal("a capped purge removed shares")
	}
	_, err = h.svc.PutSettings("admin:root", Settings{AutoPurge: true, RemovalCap: 5})
	mustOK(t, err, "settings")
	rep, err = h.svc.AutoPurge(h.ctx)
	mustOK(t, err, "AutoPurge")
	if len(rep.Removed) != 3 || len(h.fake.SharesFor(srvID)) != 0 {
		t.Fatalf("purge = %+v", rep)
	}
}
