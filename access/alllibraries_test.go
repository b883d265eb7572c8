package access

import (
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Bob (seedUsers, plextest.SeedMinimal) has a share of every library of the server, libraries added
// later included. These tests go through the real plex client against plextest and check both the
// record and the fake's share.

// wantEveryLibrary fails unless bob's share is a share of every library, in the store and on the fake.
func wantEveryLibrary(t *testing.T, h *harness) plextest.Share {
	t.Helper()
	sh, ok := h.shareOf(bobID)
	if !ok || !sh.AllLibraries {
		t.Fatalf("bob's share on the fake lost every library: %+v (found %v)", sh, ok)
	}
	if st := h.user(bobID).Shares[srvID]; !st.AllLibraries {
		t.Fatalf("bob's stored share lost every library: %+v", st)
	}
	return sh
}

// everyLibraryBefore fails unless d shows bob's share of every library turning into the list want.
func everyLibraryBefore(t *testing.T, d FieldDiff, ok bool, want []string) {
	t.Helper()
	before, isAll := d.Before.(EveryLibrary)
	after, isList := d.After.([]string)
	if !ok || !isAll || !before.All || !slices.Equal(before.Libraries, []string{"1", "4", "8"}) || !isList || !slices.Equal(after, want) {
		t.Fatalf("libraries diff = %#v (present %v), want every library → %v", d, ok, want)
	}
}

func TestBulkAddLibrariesKeepsEveryLibrary(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	yes := true

	// Adding a library alone changes nothing for bob (alice gets it).
	add := BulkOp{AddLibraries: map[string][]string{srvID: {"1"}}}
	prev, err := h.svc.BulkPreview(h.ctx, []int64{aliceID, bobID}, add)
	mustOK(t, err, "preview add")
	bi := slices.IndexFunc(prev.Items, func(it BulkItem) bool { return it.UserID == bobID })
	if prev.Changed != 1 || prev.Items[bi].Result != ResultSkipped || len(prev.Items[bi].Diff) != 0 {
		t.Fatalf("preview = %+v", prev)
	}

	// With downloads: only downloads change, and Plex keeps every library.
	add.AllowDownloads = &yes
	prev, err = h.svc.BulkPreview(h.ctx, []int64{bobID}, add)
	mustOK(t, err, "preview add + downloads")
	if d := prev.Items[0].Diff; len(d) != 1 || d["allow_downloads."+srvID] != (FieldDiff{false, true}) {
		t.Fatalf("bob's preview diff = %+v", d)
	}
	h.fake.ResetCalls()
	rep, err := h.svc.BulkApply(h.ctx, "admin:root", []int64{bobID}, add)
	mustOK(t, err, "apply")
	if rep.Changed != 1 || rep.Failed != 0 || len(rep.Items[0].Diff) != 1 {
		t.Fatalf("apply = %+v", rep)
	}
	if sh := wantEveryLibrary(t, h); !sh.AllowSync {
		t.Fatalf("downloads not pushed: %+v", sh)
	}
	calls := h.fake.Calls()
	if len(calls) != 1 || calls[0].Route != "POST /api/v2/shared_servers/{id}" || !contains(string(calls[0].Body), `"librarySectionIds":[]`) {
		t.Fatalf("plex calls = %+v", calls)
	}

	// An unknown library is still refused, for a share of every library too.
	prev, err = h.svc.BulkPreview(h.ctx, []int64{bobID}, BulkOp{AddLibraries: map[string][]string{srvID: {"99"}}})
	mustOK(t, err, "preview unknown")
	if prev.Failed != 1 || !contains(prev.Items[0].Error, "99") {
		t.Fatalf("unknown library preview = %+v", prev)
	}
}

func TestEditsDroppingEveryLibraryShowIt(t *testing.T) {
	for _, c := range []struct {
		name     string
		op       BulkOp
		want     []string
		sections []int64
	}{
		{"remove a library", BulkOp{RemoveLibraries: map[string][]string{srvID: {"1"}}}, []string{"4", "8"}, sections("4", "8")},
		{"set today's libraries", BulkOp{Libraries: map[string][]string{srvID: {"1", "4", "8"}}}, []string{"1", "4", "8"}, sections("1", "4", "8")},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, plextest.Seed{})
			h.seedUsers()
			prev, err := h.svc.BulkPreview(h.ctx, []int64{bobID}, c.op)
			mustOK(t, err, "preview")
			d, ok := prev.Items[0].Diff["libraries."+srvID]
			everyLibraryBefore(t, d, ok, c.want)
			if prev.Changed != 1 {
				t.Fatalf("preview = %+v", prev)
			}
			rep, err := h.svc.BulkApply(h.ctx, "admin:root", []int64{bobID}, c.op)
			mustOK(t, err, "apply")
			d, ok = rep.Items[0].Diff["libraries."+srvID]
			everyLibraryBefore(t, d, ok, c.want)
			sh, _ := h.shareOf(bobID)
			if sh.AllLibraries || !slices.Equal(sortedIDs(sh.SectionIDs), c.sections) {
				t.Fatalf("fake share = %+v, want the list %v", sh, c.sections)
			}
			if st := h.user(bobID).Shares[srvID]; st.AllLibraries || !slices.Equal(st.Libraries, c.want) {
				t.Fatalf("stored share = %+v", st)
			}
		})
	}
}

func TestUpdateUserKeepsEveryLibrary(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	yes := true
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", bobID, UserPatch{AllowDownloads: &yes})
	mustOK(t, err, "downloads")
	if sh := wantEveryLibrary(t, h); !sh.AllowSync {
		t.Fatalf("downloads not pushed: %+v", sh)
	}
	f := storage.Filters{Television: "label!=adult"}
	_, err = h.svc.UpdateUser(h.ctx, "admin:root", bobID, UserPatch{Filters: &f})
	mustOK(t, err, "filters")
	if sh := wantEveryLibrary(t, h); sh.FilterTelevision != f.Television {
		t.Fatalf("filters not pushed: %+v", sh)
	}

	// Access ends (the share leaves Plex, its libraries remembered) and is given back: every library again.
	_, err = h.svc.UpdateUser(h.ctx, "admin:root", bobID, UserPatch{ExpiresAt: tptr(t0.Add(-time.Hour))})
	mustOK(t, err, "expire")
	if _, ok := h.shareOf(bobID); ok {
		t.Fatal("bob still shared after the expiry")
	}
	if st := h.user(bobID).Shares[srvID]; !st.AllLibraries || st.ShareID != 0 {
		t.Fatalf("remembered share = %+v", st)
	}
	_, err = h.svc.UpdateUser(h.ctx, "admin:root", bobID, UserPatch{ClearExpiresAt: true})
	mustOK(t, err, "renew")
	if sh := wantEveryLibrary(t, h); !sh.AllowSync || sh.FilterTelevision != f.Television {
		t.Fatalf("renewed share = %+v", sh)
	}

	// A library window limits one library: the share becomes a list, and the diff says so.
	u, err := h.svc.UpdateUser(h.ctx, "admin:root", bobID, UserPatch{LibraryWindows: map[string]map[string]storage.Window{
		srvID: {"1": {ExpiresAt: tptr(t0.Add(24 * time.Hour))}}}})
	mustOK(t, err, "window")
	if sh, _ := h.shareOf(bobID); sh.AllLibraries || u.Shares[srvID].AllLibraries {
		t.Fatalf("a windowed share still claims every library: fake %+v, stored %+v", sh, u.Shares[srvID])
	}
	shown := false
	for _, ev := range h.events(EventUserUpdated) {
		diff, _ := ev.Data["diff"].(map[string]any)
		if _, window := diff["library_windows."+srvID]; window {
			_, shown = diff["libraries."+srvID]
		}
	}
	if !shown {
		t.Fatal("the window's event does not show the libraries change")
	}
}

func TestGrantAndApplyShareKeepEveryLibrary(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	// An invite redeemed by bob adds nothing to every library.
	_, err := h.svc.Grant(h.ctx, "admin:root", GrantRequest{UserID: bobID, Username: "bob", AllowDownloads: true,
		Libraries: map[string][]string{srvID: {"4"}}})
	mustOK(t, err, "Grant")
	if sh := wantEveryLibrary(t, h); !sh.AllowSync {
		t.Fatalf("grant settings not pushed: %+v", sh)
	}

	// ApplyShare with every library (the undo of a failed redemption sends one back) makes one on Plex…
	h.put(storage.User{ID: daveID, Username: "dave", Email: "dave@example.com", Kind: storage.KindFriend, Status: storage.StatusActive})
	got, err := h.svc.ApplyShare(h.ctx, "admin:root", daveID, srvID, storage.Share{AllLibraries: true}, "")
	mustOK(t, err, "ApplyShare every library")
	first, ok := h.shareOf(daveID)
	if !ok || !first.AllLibraries || !got.AllLibraries || !slices.Equal(got.Libraries, []string{"1", "4", "8"}) {
		t.Fatalf("fake share %+v (found %v), stored %+v", first, ok, got)
	}
	// …which a resent invitation keeps.
	mustOK(t, h.svc.ResendInvite(h.ctx, "admin:root", daveID, srvID), "ResendInvite")
	second, ok := h.shareOf(daveID)
	if !ok || second.ID == first.ID || !second.AllLibraries {
		t.Fatalf("resent invitation = %+v (first %d)", second, first.ID)
	}

	// A list given to ApplyShare replaces every library.
	got, err = h.svc.ApplyShare(h.ctx, "admin:root", bobID, srvID, storage.Share{Libraries: []string{"4"}}, "")
	mustOK(t, err, "ApplyShare list")
	if sh, _ := h.shareOf(bobID); sh.AllLibraries || got.AllLibraries || !slices.Equal(sh.SectionIDs, sections("4")) {
		t.Fatalf("fake share %+v, stored %+v", sh, got)
	}
}
