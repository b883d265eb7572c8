package streams

import (
	"context"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestStoredTargets(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	key, err := storage.LoadOrCreateKey(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := key.Seal(plextest.MinimalServerToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []storage.Server{
		{ID: machineID, Name: "Basement", URL: e.fake.ServerURL(machineID), Token: sealed},
		{ID: "no-url", Name: "Nowhere"},
	} {
		if err := e.store.PutServer(s); err != nil {
			t.Fatal(err)
		}
	}
	list := StoredTargets(e.store, e.client, func() string { return "owner-token-unused" }, key.Open)
	targets, err := list(context.Background())
	if err != nil || len(targets) != 1 || targets[0].Name != "Basement" {
		t.Fatalf("targets = %+v, %v", targets, err)
	}
	e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	sessions, err := targets[0].Source.Sessions(context.Background())
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions through the stored server = %v, %v", sessions, err)
	}
	if calls := e.fake.Calls(); calls[len(calls)-1].Header.Get("X-Plex-Token") != plextest.MinimalServerToken {
		t.Error("the server's own token was not used")
	}

	// Without a stored token the owner's is used; a sealed token that cannot be opened fails.
	if err := e.store.PutServer(storage.Server{ID: machineID, Name: "Basement", URL: e.fake.ServerURL(machineID)}); err != nil {
		t.Fatal(err)
	}
	targets, _ = StoredTargets(e.store, e.client, func() string { return e.token }, nil)(context.Background())
	if _, err := targets[0].Source.Sessions(context.Background()); err != nil {
		t.Errorf("owner token: %v", err)
	}
	other, _ := storage.LoadOrCreateKey(t.TempDir() + "/other")
	if err := e.store.PutServer(storage.Server{ID: machineID, URL: e.fake.ServerURL(machineID), Token: sealed}); err != nil {
		t.Fatal(err)
	}
	if _, err := StoredTargets(e.store, e.client, func() string { return "" }, other.Open)(context.Background()); err == nil {
		t.Error("a token sealed with another key was accepted")
	}
}
