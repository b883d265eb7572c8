package access

import (
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// planServers is the library map of the planner tests: server "s1" with keys 1, 4, 8.
var planServers = map[string]storage.Server{
	"s1": {ID: "s1", Name: "One", Libraries: []storage.Library{
		{Key: "1", SectionID: 101}, {Key: "4", SectionID: 104}, {Key: "8", SectionID: 108},
	}},
	"s2": {ID: "s2", Name: "Two", Libraries: []storage.Library{{Key: "2", SectionID: 202}}},
}

// planUser is an active friend with a share of s1.
func planUser(id int64, libs ...string) storage.User {
	return storage.User{ID: id, Username: "u", Kind: storage.KindFriend, Status: storage.StatusActive,
		Shares: map[string]storage.Share{"s1": {ShareID: 900 + id, Libraries: libs}}}
}

// stepSummary is a compact view of an operation for table tests.
type stepSummary struct {
	Call      string
	Server    string
	Libraries []string
	Sections  []int64
	Keep      bool
}

func summarise(o op) []stepSummary {
	var out []stepSummary
	for _, st := range o.Steps {
		out = append(out, stepSummary{Call: st.Call, Server: st.ServerID, Libraries: st.Libraries, Sections: st.SectionIDs, Keep: st.Keep})
	}
	return out
}

func TestPlanEnforce(t *testing.T) {
	now := time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Minute), now.Add(time.Minute)
	w := func(start, end *time.Time) storage.Window { return storage.Window{StartsAt: start, ExpiresAt: end} }

	expired := planUser(1, "4", "8")
	expired.ExpiresAt = &before

	scheduled := planUser(2, "4")
	scheduled.Status = storage.StatusScheduled
	scheduled.StartsAt = &before
	sh := scheduled.Shares["s1"]
	sh.ShareID = 0
	scheduled.Shares["s1"] = sh
	scheduled.Shares["s2"] = storage.Share{Libraries: []string{"2"}}

	notYet := scheduled.Clone()
	notYet.ID = 3
	notYet.StartsAt = &after

	partial := planUser(4, "1", "4", "8")
	sh = partial.Shares["s1"]
	sh.LibraryWindows = map[string]storage.Window{"8": w(nil, &before), "1": w(nil, &after)}
	partial.Shares["s1"] = sh

	lastLib := planUser(5, "8")
	sh = lastLib.Shares["s1"]
	sh.LibraryWindows = map[string]storage.Window{"8": w(nil, &now)} // ends exactly now
	lastLib.Shares["s1"] = sh

	libStart := planUser(6, "4")
	sh = libStart.Shares["s1"]
	sh.LibraryWindows = map[string]storage.Window{"1": w(&before, nil)}
	libStart.Shares["s1"] = sh

	startAndEndPassed := scheduled.Clone()
	startAndEndPassed.ID = 7
	startAndEndPassed.StartsAt = tptr(now.Add(-2 * time.Hour))
	startAndEndPassed.ExpiresAt = &before

	pendingInvite := planUser(8, "4")
	pendingInvite.ExpiresAt = &before
	sh = pendingInvite.Shares["s1"]
	sh.Pending = true
	pendingInvite.Shares["s1"] = sh

	cases := []struct {
		name  string
		due   []storage.User
		busy  map[int64]bool
		cap   int
		kinds []string
		steps [][]stepSummary
		skip  int
		capd  bool
	}{
		{"expiry removes every share, libraries remembered", []storage.User{expired}, nil, 10,
			[]string{ActionExpire}, [][]stepSummary{{{Call: callRemoveShare, Server: "s1", Keep: true}}}, 0, false},
		{"start shares every server with plex.tv section ids", []storage.User{scheduled}, nil, 10,
			[]string{ActionStart}, [][]stepSummary{{
				{Call: callShare, Server: "s1", Libraries: []string{"4"}, Sections: []int64{104}},
				{Call: callShare, Server: "s2", Libraries: []string{"2"}, Sections: []int64{202}},
			}}, 0, false},
		{"a start not yet due does nothing", []storage.User{notYet}, nil, 10, nil, nil, 0, false},
		{"partial expiry updates the share without the ended library", []storage.User{partial}, nil, 10,
			[]string{ActionLibraryExpire}, [][]stepSummary{{{Call: callUpdateShare, Server: "s1", Libraries: []string{"1", "4"}, Sections: []int64{101, 104}}}}, 0, false},
		{"the last library ending removes the share, never an empty list", []storage.User{lastLib}, nil, 10,
			[]string{ActionLibraryExpire}, [][]stepSummary{{{Call: callRemoveShare, Server: "s1", Keep: true}}}, 0, false},
		{"a library window opening adds the library", []storage.User{libStart}, nil, 10,
			[]string{ActionLibraryStart}, [][]stepSummary{{{Call: callUpdateShare, Server: "s1", Libraries: []string{"1", "4"}, Sections: []int64{101, 104}}}}, 0, false},
		{"a window already over at its start expires without Plex calls", []storage.User{startAndEndPassed}, nil, 10,
			[]string{ActionExpire}, [][]stepSummary{nil}, 0, false},
		{"a pending invitation that expires is cancelled", []storage.User{pendingInvite}, nil, 10,
			[]string{ActionExpire}, [][]stepSummary{{{Call: callCancelInvite, Server: "s1", Keep: true}}}, 0, false},
		{"busy users wait for their retry", []storage.User{expired}, map[int64]bool{1: true}, 10, nil, nil, 1, false},
		{"duplicates in the due lists are planned once", []storage.User{expired, expired}, nil, 10,
			[]string{ActionExpire}, [][]stepSummary{{{Call: callRemoveShare, Server: "s1", Keep: true}}}, 0, false},
		{"above the cap no removal is made, starts still are", []storage.User{expired, partial, lastLib, scheduled}, nil, 2,
			[]string{ActionStart}, [][]stepSummary{{
				{Call: callShare, Server: "s1", Libraries: []string{"4"}, Sections: []int64{104}},
				{Call: callShare, Server: "s2", Libraries: []string{"2"}, Sections: []int64{202}},
			}}, 3, true},
		{"at the cap removals are made", []storage.User{expired, lastLib}, nil, 2,
			[]string{ActionExpire, ActionLibraryExpire}, [][]stepSummary{
				{{Call: callRemoveShare, Server: "s1", Keep: true}}, {{Call: callRemoveShare, Server: "s1", Keep: true}}}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanEnforce(EnforceInput{Now: now, Due: tc.due, Servers: planServers, Busy: tc.busy, Cap: tc.cap})
			var kinds []string
			var steps [][]stepSummary
			for _, o := range p.ops {
				kinds = append(kinds, o.Kind)
				steps = append(steps, summarise(o))
			}
			if !slices.Equal(kinds, tc.kinds) {
				t.Fatalf("kinds = %v, want %v", kinds, tc.kinds)
			}
			if len(steps) != len(tc.steps) {
				t.Fatalf("steps = %+v, want %+v", steps, tc.steps)
			}
			for i := range steps {
				if !slices.EqualFunc(steps[i], tc.steps[i], func(a, b stepSummary) bool {
					return a.Call == b.Call && a.Server == b.Server && slices.Equal(a.Libraries, b.Libraries) &&
						slices.Equal(a.Sections, b.Sections) && a.Keep == b.Keep
				}) {
					t.Fatalf("op %d steps = %+v, want %+v", i, steps[i], tc.steps[i])
				}
			}
			if len(p.Skipped) != tc.skip || p.Capped != tc.capd {
				t.Fatalf("skipped %d capped %v: %+v", len(p.Skipped), p.Capped, p.Skipped)
			}
			if len(p.Planned) != len(p.ops) {
				t.Fatalf("planned %d changes for %d ops", len(p.Planned), len(p.ops))
			}
		})
	}
}

func TestPlanEnforceStoredRecords(t *testing.T) {
	now := time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC)
	before := now.Add(-time.Minute)
	u := planUser(1, "4", "8")
	u.ExpiresAt = &before
	p := PlanEnforce(EnforceInput{Now: now, Due: []storage.User{u}, Servers: planServers, Cap: 10})
	if len(p.ops) != 1 || p.ops[0].Final.Status != storage.StatusExpired || p.ops[0].Final.Event != EventUserExpired {
		t.Fatalf("ops = %+v", p.ops)
	}
	// The record written with the intent still has the share on Plex; the step takes it off.
	if got := p.stored[0].Shares["s1"]; got.ShareID != u.Shares["s1"].ShareID || !slices.Equal(got.Libraries, []string{"4", "8"}) {
		t.Fatalf("stored share = %+v", got)
	}
	after := p.stored[0].Clone()
	applyStep(&after, p.ops[0].Steps[0], stepResult{})
	applyFinal(&after, p.ops[0].Final, now)
	if after.Status != storage.StatusExpired || after.Shares["s1"].ShareID != 0 || !slices.Equal(after.Shares["s1"].Libraries, []string{"4", "8"}) {
		t.Fatalf("after the operation: %+v", after)
	}
	if nextUserLibraryBoundary(after) != (time.Time{}) {
		t.Fatal("an expired user is still in the library window index")
	}
}

// TestPlanEnforceClockEdges checks windows given in local time around daylight-saving transitions:
// they are instants stored in UTC, so an expiry at 02:30 local on a DST day is due exactly at its
// instant — not an hour early or late, not twice.
func TestPlanEnforceClockEdges(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("time zone: %v", err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("time zone: %v", err)
	}
	// Go does not promise which of the two readings of a missing or repeated local time it picks, so
	// each case lists both; whichever it is, the stored instant decides and nothing else.
	cases := []struct {
		name    string
		expires time.Time
		either  [2]time.Time
	}{
		{"Berlin fall-back 02:30 (repeated)", time.Date(2025, 10, 26, 2, 30, 0, 0, berlin),
			[2]time.Time{time.Date(2025, 10, 26, 0, 30, 0, 0, time.UTC), time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC)}},
		{"Berlin spring-forward 02:30 (missing)", time.Date(2025, 3, 30, 2, 30, 0, 0, berlin),
			[2]time.Time{time.Date(2025, 3, 30, 0, 30, 0, 0, time.UTC), time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC)}},
		{"New York spring-forward 02:30 (missing)", time.Date(2025, 3, 9, 2, 30, 0, 0, newYork),
			[2]time.Time{time.Date(2025, 3, 9, 6, 30, 0, 0, time.UTC), time.Date(2025, 3, 9, 7, 30, 0, 0, time.UTC)}},
		{"New York fall-back 01:30 (repeated)", time.Date(2025, 11, 2, 1, 30, 0, 0, newYork),
			[2]time.Time{time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC), time.Date(2025, 11, 2, 6, 30, 0, 0, time.UTC)}},
		{"UTC+5:45 Kathmandu, no DST", time.Date(2025, 6, 1, 2, 30, 0, 0, time.FixedZone("NPT", 5*3600+45*60)),
			[2]time.Time{time.Date(2025, 5, 31, 20, 45, 0, 0, time.UTC), time.Date(2025, 5, 31, 20, 45, 0, 0, time.UTC)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.expires.UTC()
			if !want.Equal(tc.either[0]) && !want.Equal(tc.either[1]) {
				t.Fatalf("test premise: %s is %s UTC, not one of %v", tc.expires, want, tc.either)
			}
			wantUTC := want
			u := planUser(1, "4")
			exp := tc.expires // local time, as an admin's browser might send it
			u.ExpiresAt = &exp
			normaliseUser(&u)
			if u.ExpiresAt.Location() != time.UTC || !u.ExpiresAt.Equal(wantUTC) {
				t.Fatalf("stored %v, want %v UTC", u.ExpiresAt, wantUTC)
			}
			for _, at := range []struct {
				now time.Time
				due bool
			}{
				{wantUTC.Add(-time.Second), false},
				{wantUTC, true},
				{wantUTC.Add(time.Hour), true},
			} {
				// The pass runs in any zone; the decision only compares instants.
				p := PlanEnforce(EnforceInput{Now: at.now.In(berlin), Due: []storage.User{u}, Servers: planServers, Cap: 10})
				if got := len(p.ops) == 1 && p.ops[0].Kind == ActionExpire; got != at.due {
					t.Fatalf("at %s (UTC %s): expiry planned = %v, want %v", at.now.In(berlin), at.now.UTC(), got, at.due)
				}
			}
		})
	}
}

func TestPlanTransitionExtendShortenWhitelist(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	active := planUser(1, "4")
	active.ExpiresAt = tptr(now.Add(24 * time.Hour))
	expired := planUser(2, "4", "8")
	expired.Status = storage.StatusExpired
	expired.ExpiresAt = tptr(now.Add(-time.Hour))
	sh := expired.Shares["s1"]
	sh.ShareID = 0
	expired.Shares["s1"] = sh

	patch := func(u storage.User, p UserPatch) storage.User {
		next, _, err := applyPatch(u, p, planServers)
		if err != nil {
			t.Fatalf("applyPatch: %v", err)
		}
		return next
	}
	yes := true
	cases := []struct {
		name  string
		cur   storage.User
		next  storage.User
		final string
		calls []string
	}{
		{"extend an active window: nothing on Plex", active, patch(active, UserPatch{ExpiresAt: tptr(now.Add(48 * time.Hour))}), finalKeep, nil},
		{"shorten into the past: shares off, expired", active, patch(active, UserPatch{ExpiresAt: tptr(now.Add(-time.Second))}), storage.StatusExpired, []string{callRemoveShare}},
		{"extend an expired window: shared again", expired, patch(expired, UserPatch{ExpiresAt: tptr(now.Add(time.Hour))}), finalDerive, []string{callShare}},
		{"move the start ahead: shares off until then", active, patch(active, UserPatch{StartsAt: tptr(now.Add(time.Hour))}), storage.StatusScheduled, []string{callRemoveShare}},
		{"whitelist only: nothing on Plex", active, patch(active, UserPatch{Whitelisted: &yes}), finalKeep, nil},
		{"clear the expiry of an expired user: shared again", expired, patch(expired, UserPatch{ClearExpiresAt: true}), finalDerive, []string{callShare}},
		{"drop a server: its share is removed", active, patch(active, UserPatch{Libraries: map[string][]string{"s1": {}}}), finalKeep, []string{callRemoveShare}},
		{"add a server: shared there", active, patch(active, UserPatch{Libraries: map[string][]string{"s2": {"2"}}}), finalKeep, []string{callShare}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := planTransition(tc.cur, tc.next, planServers, now)
			if err != nil {
				t.Fatalf("planTransition: %v", err)
			}
			var calls []string
			for _, st := range tr.Steps {
				calls = append(calls, st.Call)
			}
			if tr.Final != tc.final || !slices.Equal(calls, tc.calls) {
				t.Fatalf("final %q calls %v, want %q %v", tr.Final, calls, tc.final, tc.calls)
			}
		})
	}
}

func TestReconcileLibraries(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := tptr(now.Add(-time.Hour)), tptr(now.Add(time.Hour))
	cases := []struct {
		name    string
		share   storage.Share
		libs    []string
		added   []string
		removed []string
		windows []string
	}{
		{"no windows", storage.Share{Libraries: []string{"8", "4", "10"}}, []string{"4", "8", "10"}, nil, nil, nil},
		{"ended window drops the library and the window", storage.Share{Libraries: []string{"4", "8"},
			LibraryWindows: map[string]storage.Window{"8": {ExpiresAt: past}}}, []string{"4"}, nil, []string{"8"}, nil},
		{"open window adds a library", storage.Share{Libraries: []string{"4"},
			LibraryWindows: map[string]storage.Window{"1": {StartsAt: past, ExpiresAt: future}}}, []string{"1", "4"}, []string{"1"}, nil, []string{"1"}},
		{"future window waits", storage.Share{Libraries: []string{"4"},
			LibraryWindows: map[string]storage.Window{"1": {StartsAt: future}}}, []string{"4"}, nil, nil, []string{"1"}},
		{"window over before it was applied", storage.Share{Libraries: []string{"4"},
			LibraryWindows: map[string]storage.Window{"1": {StartsAt: tptr(now.Add(-2 * time.Hour)), ExpiresAt: past}}}, []string{"4"}, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := reconcileLibraries(tc.share, now)
			if !slices.Equal(got.Libraries, tc.libs) || !slices.Equal(got.Added, tc.added) || !slices.Equal(got.Removed, tc.removed) ||
				!slices.Equal(sortedKeys(got.Windows), tc.windows) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}
