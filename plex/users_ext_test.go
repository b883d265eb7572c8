package plex_test

import (
	"slices"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// seedUsers prepares, on SeedMinimal, a pending invite to dave (an account),
// a pending invite to an address without an account, and a managed user with
// a share; it returns the managed user.
func seedUsers(t *testing.T, e *env) plex.HomeUser {
	t.Helper()
	if _, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave",
		SectionIDs: []int64{plextest.SectionMovies}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "newbie@example.com",
		SectionIDs: []int64{plextest.SectionTVShows}, Settings: plex.ShareSettings{AllowSync: true}}); err != nil {
		t.Fatal(err)
	}
	kid, err := e.client.CreateManagedUser(ctx(t), e.token, "Kid", "little_kid")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, InviteeID: kid.ID,
		SectionIDs: []int64{plextest.SectionMovies}, Settings: plex.ShareSettings{Filters: plex.Filters{Movies: "contentRating=G"}}}); err != nil {
		t.Fatal(err)
	}
	return kid
}

func TestUsers(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	kid := seedUsers(t, e)
	e.fake.ResetCalls()

	users, err := e.client.Users(ctx(t), e.token)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Calls()); n != 3 {
		t.Errorf("Users made %d requests, want 3 (users, pending, one server): %v", n, routes(e.fake.Calls()))
	}
	byID := map[int64]plex.User{}
	var newbie *plex.User
	for i, u := range users {
		if u.ID == 0 {
			newbie = &users[i]
			continue
		}
		byID[u.ID] = u
	}
	if len(users) != 6 {
		t.Errorf("got %d users, want alice, bob, carol, dave, the managed user and the address: %+v", len(users), users)
	}

	alice := byID[aliceID].Shares[machineID]
	if alice.ShareID != 907759180 || !slices.Equal(alice.SectionIDs, []int64{plextest.SectionMovies, plextest.SectionTVShows}) ||
		!slices.Equal(alice.LibraryKeys, []string{"4", "8"}) || !alice.AllowSync || alice.Pending || alice.AllLibraries || alice.AcceptedAt.IsZero() {
		t.Errorf("alice = %+v", alice)
	}
	bob := byID[bobID].Shares[machineID]
	if !bob.AllLibraries || len(bob.SectionIDs) != 3 || bob.Pending {
		t.Errorf("bob = %+v", bob)
	}
	carol := byID[carolID].Shares[machineID]
	if carol.Filters.Movies != "contentRating=G%2CPG|label!=adult" || !slices.Equal(carol.LibraryKeys, []string{"4"}) {
		t.Errorf("carol = %+v", carol)
	}
	dave := byID[daveID]
	if ds := dave.Shares[machineID]; !ds.Pending || ds.ShareID == 0 || !slices.Equal(ds.SectionIDs, []int64{plextest.SectionMovies}) || dave.Username != "dave" {
		t.Errorf("dave = %+v", dave)
	}
	k := byID[kid.ID]
	if ks := k.Shares[machineID]; !k.Managed || !k.Home || k.Username != "" || ks.Pending || ks.Filters.Movies != "contentRating=G" {
		t.Errorf("managed user = %+v", k)
	}
	if newbie == nil {
		t.Fatal("the invitation to an address without an account is missing")
	}
	if ns := newbie.Shares[machineID]; newbie.Email != "newbie@example.com" || !ns.Pending || ns.ShareID == 0 ||
		!slices.Equal(ns.SectionIDs, []int64{plextest.SectionTVShows}) || !ns.AllowSync {
		t.Errorf("newbie = %+v", newbie)
	}

	// Restricting to an unknown server drops every share but keeps the users.
	users, err = e.client.Users(ctx(t), e.token, "0000")
	if err == nil {
		t.Errorf("an unknown server did not fail the listing: %d users", len(users))
	} else {
		wantKind(t, err, plex.ErrNotFound)
	}
}

func TestUsersFailsWhole(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.fake.Inject(plextest.Fault{Route: "GET /api/servers/{machineId}/shared_servers", Status: 500})
	_, err := e.client.Users(ctx(t), e.token)
	wantKind(t, err, plex.ErrOffline)

	e.fake.ClearFaults()
	e.fake.Inject(plextest.Fault{Route: "GET /api/v2/shared_servers/invites/owned/pending", Status: 401,
		Body: `{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`})
	_, err = e.client.Users(ctx(t), e.token)
	wantKind(t, err, plex.ErrUnauthorized)
	_, err = e.client.Users(ctx(t), "")
	wantKind(t, err, plex.ErrInvalidArgument)
}

func TestUsersRequestsAreConstant(t *testing.T) {
	for _, friends := range []int{5, 60} {
		seed := plextest.SeedDemo(plextest.DemoOptions{Servers: 3, Friends: friends, HistoryDays: 1, Seed: 3})
		e := newEnv(t, plextest.Options{Seed: seed})
		users, err := e.client.Users(ctx(t), e.token)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) < friends {
			t.Errorf("%d friends seeded, %d users listed", friends, len(users))
		}
		if n := len(e.fake.Calls()); n != 2+3 {
			t.Errorf("%d friends on 3 servers: %d requests, want 5", friends, n)
		}
	}
}

func TestListPiecesAndHomeUsers(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	kid := seedUsers(t, e)

	shares, err := e.client.ListShares(ctx(t), e.token, machineID)
	if err != nil {
		t.Fatal(err)
	}
	if len(shares) != 6 {
		t.Errorf("got %d shares: %+v", len(shares), shares)
	}
	for _, s := range shares {
		if s.MachineID != machineID || s.ShareID == 0 || len(s.Sections) != 3 {
			t.Errorf("share = %+v", s)
		}
	}
	_, err = e.client.ListShares(ctx(t), e.token, "0000")
	wantKind(t, err, plex.ErrNotFound)

	invites, err := e.client.ListPendingInvites(ctx(t), e.token)
	if err != nil {
		t.Fatal(err)
	}
	if len(invites) != 2 {
		t.Fatalf("got %d pending invites: %+v", len(invites), invites)
	}
	for _, inv := range invites {
		if inv.MachineID != machineID || inv.ShareID == 0 || inv.Accepted || len(inv.SectionIDs) != 1 || inv.InvitedAt.IsZero() {
			t.Errorf("invite = %+v", inv)
		}
	}
	if h := e.lastCall(t, "GET /api/v2/shared_servers/invites/owned/pending").Header.Get("Accept"); h != "application/json" {
		t.Errorf("Accept = %q", h)
	}

	home, err := e.client.HomeUsers(ctx(t), e.token)
	if err != nil {
		t.Fatal(err)
	}
	if len(home) != 2 || !home[0].Admin || home[1].ID != kid.ID || !home[1].Managed || home[1].RestrictionProfile != "little_kid" {
		t.Errorf("home = %+v", home)
	}
	_, err = e.client.HomeUsers(ctx(t), "bad")
	wantKind(t, err, plex.ErrUnauthorized)
}
