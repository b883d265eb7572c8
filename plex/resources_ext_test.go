package plex_test

import (
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

func TestSharedResources(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	none, err := e.client.SharedResources(ctx(t), e.token)
	if err != nil || len(none) != 0 {
		t.Fatalf("nothing shared with the owner yet: %+v, %v", none, err)
	}
	bobs, ok := e.fake.AddForeignServer(bobID, "")
	if !ok {
		t.Fatal("AddForeignServer refused bob")
	}
	daves, ok := e.fake.AddForeignServer(daveID, "Dave's Den")
	if !ok {
		t.Fatal("AddForeignServer refused dave")
	}

	shared, err := e.client.SharedResources(ctx(t), e.token)
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) != 2 {
		t.Fatalf("got %d shared servers: %+v", len(shared), shared)
	}
	for i, want := range []struct {
		fs    plextest.ForeignServer
		title string
	}{{bobs, "bob"}, {daves, "dave"}} {
		r := shared[i]
		if r.MachineID != want.fs.MachineID || r.Name != want.fs.Name || r.OwnerID != want.fs.OwnerID || r.SourceTitle != want.title ||
			r.Owned || r.AccessToken != want.fs.AccessToken || len(r.Connections) != 1 || r.Connections[0].Address != want.fs.Address {
			t.Errorf("shared server %d = %+v, want %+v", i, r, want.fs)
		}
	}
	// The owner's own list is unchanged.
	own, err := e.client.Resources(ctx(t), e.token)
	if err != nil || len(own) != 1 || own[0].MachineID != machineID || own[0].OwnerID != 0 {
		t.Fatalf("Resources = %+v, %v", own, err)
	}
	// For bob, the owner's Basement is the shared one and his server is his own.
	bobShared, err := e.client.SharedResources(ctx(t), "bob-token")
	if err != nil || len(bobShared) != 1 || bobShared[0].MachineID != machineID || bobShared[0].OwnerID != e.fake.OwnerID() {
		t.Fatalf("bob's shared servers = %+v, %v", bobShared, err)
	}
	bobOwn, err := e.client.Resources(ctx(t), "bob-token")
	if err != nil || len(bobOwn) != 1 || bobOwn[0].MachineID != bobs.MachineID {
		t.Fatalf("bob's own servers = %+v, %v", bobOwn, err)
	}
	if q := e.lastCall(t, "GET /api/v2/resources").RawQuery; q != "includeHttps=1&includeRelay=1&includeIPv6=1" {
		t.Errorf("query = %q", q)
	}
}

func TestSharedResourcesErrors(t *testing.T) {
	e := newEnv(t, plextest.Options{}, func(c *plex.Config) { c.Retries = -1 })
	tests := []struct {
		name  string
		token string
		fault *plextest.Fault
		kind  plex.Kind
	}{
		{name: "no token", kind: plex.ErrInvalidArgument},
		{name: "bad token", token: "wrong-token", kind: plex.ErrUnauthorized},
		{name: "server error", token: e.token, fault: &plextest.Fault{Route: "GET /api/v2/resources", Status: 503, Count: 1}, kind: plex.ErrOffline},
		{name: "not a list", token: e.token, fault: &plextest.Fault{Route: "GET /api/v2/resources", Status: 200, Body: `{"errors":"x"}`, Count: 1}, kind: plex.ErrBadResponse},
		{name: "server without id", token: e.token, fault: &plextest.Fault{Route: "GET /api/v2/resources", Status: 200,
			Body: `[{"provides":"server","owned":false,"ownerId":7}]`, Count: 1}, kind: plex.ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				e.fake.Inject(*tt.fault)
			}
			list, err := e.client.SharedResources(ctx(t), tt.token)
			if list != nil {
				t.Errorf("a list came with the error: %+v", list)
			}
			wantKind(t, err, tt.kind)
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("token in the error: %v", err)
			}
		})
	}
}
