package plextest

import (
	"slices"
	"testing"
	"time"
)

// resourceView is what the tests read of /api/v2/resources.
type resourceView struct {
	Name             string
	ClientIdentifier string
	Provides         string
	AccessToken      string
	OwnerID          *int64
	SourceTitle      *string
	Owned            bool
	Connections      []struct {
		URI   string
		Local bool
	}
}

// resourcesFor lists the servers /api/v2/resources shows to token.
func resourcesFor(t *testing.T, f *Fake, token string) []resourceView {
	t.Helper()
	r := do(t, f, req{method: "GET", path: "/api/v2/resources?includeHttps=1", token: token, json: true})
	mustStatus(t, r, 200)
	var all []resourceView
	decodeJSON(t, r, &all)
	var out []resourceView
	for _, res := range all {
		if res.Provides == "server" {
			out = append(out, res)
		}
	}
	return out
}

func TestAddForeignServerRefusals(t *testing.T) {
	f := newFake(t, Options{})
	managed := f.AddAccount(Account{Title: "Kid", Managed: true})
	guest := f.AddAccount(Account{Username: "guest", Guest: true, Home: true})
	tests := []struct {
		name    string
		ownerID int64
	}{
		{"unknown account", 99},
		{"the owner", MinimalOwnerID},
		{"a managed user", managed.ID},
		{"the Home guest", guest.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fs, ok := f.AddForeignServer(tt.ownerID, "x"); ok || fs != (ForeignServer{}) {
				t.Fatalf("AddForeignServer = %+v, %t", fs, ok)
			}
		})
	}
	if n := len(f.ForeignServers()); n != 0 {
		t.Fatalf("%d foreign servers after refusals", n)
	}
	// A machine id already in use (an owner's server or another foreign one) is refused.
	f2 := New(Options{Seed: Seed{Owner: minimalOwner(), Servers: []Server{basement()},
		Accounts: []Account{{ID: 5, Username: "eve"}},
		ForeignServers: []ForeignServer{
			{OwnerID: 5, MachineID: MinimalMachineID},
			{OwnerID: 5, MachineID: "abc", Name: "first"},
			{OwnerID: 5, MachineID: "abc", Name: "second"},
		}}})
	if got := f2.ForeignServers(); len(got) != 1 || got[0].Name != "first" {
		t.Fatalf("foreign servers = %+v", got)
	}
}

func TestForeignServerInResources(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f := newFake(t, Options{Now: func() time.Time { return now }})
	const bob, dave = 22522496, 41234567
	fs, ok := f.AddForeignServer(bob, "")
	if !ok || fs.Name != "bob's Plex" || len(fs.MachineID) != 40 || fs.OwnerID != bob || fs.AccessToken == "" || fs.Address == "" {
		t.Fatalf("AddForeignServer = %+v, %t", fs, ok)
	}

	// The owner sees Basement (owned) and bob's server (shared by bob).
	res := resourcesFor(t, f, owner)
	if len(res) != 2 || !res[0].Owned || res[0].OwnerID != nil || res[0].ClientIdentifier != MinimalMachineID {
		t.Fatalf("owner's resources = %+v", res)
	}
	b := res[1]
	if b.Owned || b.OwnerID == nil || *b.OwnerID != bob || b.SourceTitle == nil || *b.SourceTitle != "bob" ||
		b.ClientIdentifier != fs.MachineID || b.Name != fs.Name || b.AccessToken != fs.AccessToken ||
		len(b.Connections) != 1 || b.Connections[0].Local {
		t.Fatalf("bob's server for the owner = %+v", b)
	}
	// Bob sees it as his own, next to the owner's Basement shared with him.
	res = resourcesFor(t, f, "bob-token")
	i := slices.IndexFunc(res, func(r resourceView) bool { return r.ClientIdentifier == fs.MachineID })
	if len(res) != 2 || i < 0 || !res[i].Owned || res[i].OwnerID != nil {
		t.Fatalf("bob's resources = %+v", res)
	}
	// Alice sees only Basement.
	if res = resourcesFor(t, f, "alice-token"); len(res) != 1 || res[0].ClientIdentifier != MinimalMachineID {
		t.Fatalf("alice's resources = %+v", res)
	}
	// The XML form carries the owner too.
	x := decodeXML(t, do(t, f, req{method: "GET", path: "/api/v2/resources", token: owner}))
	found := false
	for _, r := range x.all("resource") {
		if r.attr("clientIdentifier") == fs.MachineID {
			found = r.attr("owned") == "0" && r.attr("ownerId") == "22522496" && r.attr("sourceTitle") == "bob"
		}
	}
	if !found {
		t.Fatalf("XML resources = %+v", x)
	}

	// dave had no relation to the owner; sharing a server makes him a friend without shares.
	if _, ok := f.AddForeignServer(dave, "Dave's Den"); !ok {
		t.Fatal("AddForeignServer refused dave")
	}
	if a, _ := f.Account(dave); !a.Friend {
		t.Fatal("dave is not a friend after sharing his server")
	}
	users := decodeXML(t, do(t, f, req{method: "GET", path: "/api/users", token: owner}))
	if !slices.ContainsFunc(users.all("User"), func(u xmlElem) bool { return u.attr("id") == "41234567" && len(u.all("Server")) == 0 }) {
		t.Fatalf("dave missing from /api/users or with a share: %+v", users)
	}
	if got := f.ForeignServers(); len(got) != 2 || got[0] != fs || got[1].Name != "Dave's Den" {
		t.Fatalf("ForeignServers = %+v", got)
	}

	// Unsharing takes it off the owner's list; the friendship stays.
	if !f.RemoveForeignServer(fs.MachineID) || f.RemoveForeignServer(fs.MachineID) {
		t.Fatal("RemoveForeignServer did not report the first removal only")
	}
	res = resourcesFor(t, f, owner)
	if slices.ContainsFunc(res, func(r resourceView) bool { return r.ClientIdentifier == fs.MachineID }) || len(res) != 2 {
		t.Fatalf("owner's resources after unsharing = %+v", res)
	}
	if a, _ := f.Account(bob); !a.Friend {
		t.Fatal("bob stopped being a friend")
	}
}

func TestSeedDemoShareBacks(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	seed := SeedDemo(DemoOptions{Servers: 2, Friends: 20, HistoryDays: 120, Seed: 3, Now: now})
	if len(seed.ForeignServers) != 2 {
		t.Fatalf("demo share-backs = %+v", seed.ForeignServers)
	}
	again := SeedDemo(DemoOptions{Servers: 2, Friends: 20, HistoryDays: 120, Seed: 3, Now: now})
	if !slices.Equal(seed.ForeignServers, again.ForeignServers) {
		t.Fatal("demo share-backs differ for the same seed")
	}
	f := newFake(t, Options{Seed: seed, Now: func() time.Time { return now }})
	lastView := map[int64]time.Time{}
	for _, s := range f.Servers() {
		for _, h := range f.History(s.MachineID) {
			if h.ViewedAt.After(lastView[h.AccountID]) {
				lastView[h.AccountID] = h.ViewedAt
			}
		}
	}
	inactive, active := seed.ForeignServers[0].OwnerID, seed.ForeignServers[1].OwnerID
	if last, ok := lastView[inactive]; ok && now.Sub(last) < 30*24*time.Hour {
		t.Errorf("the first share-back friend watched %v, want a month ago or never", last)
	}
	if last := lastView[active]; now.Sub(last) > 8*24*time.Hour {
		t.Errorf("the second share-back friend last watched %v, want within a week", last)
	}
	res := resourcesFor(t, f, owner)
	var owners []int64
	for _, r := range res {
		if !r.Owned {
			owners = append(owners, *r.OwnerID)
		}
		if r.Owned && r.OwnerID != nil {
			t.Errorf("owned server with an owner: %+v", r)
		}
	}
	if !slices.Equal(owners, []int64{inactive, active}) || len(res) != 4 {
		t.Fatalf("owner's resources: %d servers, shared by %v", len(res), owners)
	}
	for _, id := range owners {
		if a, ok := f.Account(id); !ok || !a.Friend || a.Home {
			t.Errorf("share-back account %d = %+v", id, a)
		}
	}
	// Without friends there is nobody to share back.
	if fs := SeedDemo(DemoOptions{Friends: -1, HistoryDays: 1, Now: now}).ForeignServers; len(fs) != 0 {
		t.Fatalf("share-backs without friends: %+v", fs)
	}
}
