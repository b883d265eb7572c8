package streams

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Seed identities of plextest.SeedMinimal.
const (
	machineID = plextest.MinimalMachineID
	ownerID   = plextest.MinimalOwnerID
	aliceID   = plextest.MinimalAliceID
	bobID     = plextest.MinimalBobID
	carolID   = plextest.MinimalCarolID
)

// activity records MarkActivity calls.
type activity struct {
	mu    sync.Mutex
	calls map[int64][]time.Time
}

func (a *activity) MarkActivity(userID int64, at time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.calls == nil {
		a.calls = map[int64][]time.Time{}
	}
	a.calls[userID] = append(a.calls[userID], at)
	return nil
}

func (a *activity) of(userID int64) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls[userID])
}

// env is a plextest fake, a real plex client on it, a store with the fake's friends as users and
// a poller over it.
type env struct {
	fake     *plextest.Fake
	client   *plex.Client
	store    *storage.Store
	clock    *testclock.Clock
	activity *activity
	poller   *Poller
	token    string
}

// newEnv builds an env; adjust changes the poller options before NewPoller.
func newEnv(t *testing.T, fo plextest.Options, adjust ...func(*Options)) *env {
	t.Helper()
	f := plextest.NewServer(t, fo)
	client, err := plex.New(plex.Config{
		TVURL: f.TVURL(), ClientID: "streams-test", Timeout: 2 * time.Second, Retries: 1,
		BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.Memory(t)
	for _, u := range []storage.User{
		{ID: aliceID, Username: "alice", Kind: storage.KindFriend, Status: storage.StatusActive},
		{ID: bobID, Username: "bob", Kind: storage.KindFriend, Status: storage.StatusActive},
		{ID: carolID, Username: "carol", Kind: storage.KindFriend, Status: storage.StatusActive},
	} {
		if err := store.PutUser(u); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{fake: f, client: client, store: store, token: f.OwnerToken(), activity: &activity{},
		clock: testclock.New(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC))}
	opts := Options{
		Store:    store,
		Servers:  e.servers,
		Activity: e.activity,
		OwnerID:  func() int64 { return ownerID },
		Now:      e.clock.Now,
	}
	for _, fn := range adjust {
		fn(&opts)
	}
	if e.poller, err = NewPoller(opts); err != nil {
		t.Fatal(err)
	}
	return e
}

// servers lists the fake's servers with the owner token.
func (e *env) servers(context.Context) ([]Target, error) {
	var out []Target
	for _, s := range e.fake.Servers() {
		out = append(out, Target{ID: s.MachineID, Name: s.Name, Source: e.client.Server(e.fake.ServerURL(s.MachineID), e.token)})
	}
	return out, nil
}

// poll runs one poll and fails the test on error.
func (e *env) poll(t *testing.T) Report {
	t.Helper()
	rep, err := e.poller.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return rep
}

// events lists the stored events of a type, oldest first.
func (e *env) events(t *testing.T, typ string) []storage.Event {
	t.Helper()
	evs, err := e.store.ListEvents(storage.EventQuery{Type: typ, Limit: storage.MaxEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

// endSession makes a session disappear from the fake the way a player stopping does not exist
// in plextest: through the PMS terminate route (so it also shows in Terminations).
func (e *env) endSession(t *testing.T, id string) {
	t.Helper()
	if err := e.client.Server(e.fake.URL(), e.token).Terminate(context.Background(), id, "test ends it"); err != nil {
		t.Fatalf("ending session %s: %v", id, err)
	}
}

// sessionIDs lists the fake's live session ids.
func (e *env) sessionIDs() []string {
	var ids []string
	for _, s := range e.fake.Sessions(machineID) {
		ids = append(ids, s.ID)
	}
	return ids
}
