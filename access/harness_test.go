package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Seed users of plextest.SeedMinimal.
const (
	aliceID int64 = plextest.MinimalAliceID
	bobID   int64 = plextest.MinimalBobID
	carolID int64 = plextest.MinimalCarolID
	daveID  int64 = plextest.MinimalDaveID
	srvID         = plextest.MinimalMachineID
)

// t0 is the tests' reference time.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// harness is a Service on an in-memory store talking to plextest through the real plex client.
type harness struct {
	t     testing.TB
	fake  *plextest.Fake
	store *storage.Store
	gw    Gateway
	clock *testclock.Clock
	svc   *Service
	lock  *sync.Mutex
	ctx   context.Context
}

// newHarness starts a fake with seed (zero: SeedMinimal), stores its servers and returns a Service.
func newHarness(t testing.TB, seed plextest.Seed, opts ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: testclock.New(t0), lock: &sync.Mutex{}, ctx: context.Background()}
	h.fake = plextest.NewServer(t, plextest.Options{Seed: seed, Now: h.clock.Now})
	st := storetest.Memory(t)
	h.store = st
	c, err := plex.New(plex.Config{TVURL: h.fake.URL(), ClientID: "access-test", Retries: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("plex client: %v", err)
	}
	token := h.fake.OwnerToken()
	h.gw = NewPlexGateway(c, func() string { return token })
	for _, fs := range h.fake.Servers() {
		srv := storage.Server{ID: fs.MachineID, Name: fs.Name, URL: fs.URL, Online: true}
		for _, l := range fs.Libraries {
			srv.Libraries = append(srv.Libraries, storage.Library{Key: l.Key, SectionID: l.SectionID, Title: l.Title, Type: l.Type})
		}
		if err := st.PutServer(srv); err != nil {
			t.Fatalf("storing server: %v", err)
		}
	}
	h.svc = h.newService(opts...)
	return h
}

// newService returns another Service on the same store, fake and lock (a restart or a second config).
func (h *harness) newService(opts ...func(*Options)) *Service {
	h.t.Helper()
	o := Options{Store: h.store, Plex: h.gw, Now: h.clock.Now, PassLock: h.lock}
	for _, f := range opts {
		f(&o)
	}
	svc, err := New(o)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	return svc
}

// put stores a user.
func (h *harness) put(u storage.User) {
	h.t.Helper()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = h.clock.Now().Add(-365 * 24 * time.Hour)
	}
	if err := h.store.Update(func(tx *storage.Tx) error { return putUser(tx, u) }); err != nil {
		h.t.Fatalf("storing user %d: %v", u.ID, err)
	}
}

// user reads a user.
func (h *harness) user(id int64) storage.User {
	h.t.Helper()
	u, err := h.store.GetUser(id)
	if err != nil {
		h.t.Fatalf("reading user %d: %v", id, err)
	}
	return u
}

// shareOf returns the fake's share of a user on the first server.
func (h *harness) shareOf(userID int64) (plextest.Share, bool) {
	return h.fake.ShareOf(srvID, userID)
}

// events returns the stored events of a type, newest first.
func (h *harness) events(typ string) []storage.Event {
	h.t.Helper()
	evs, err := h.store.ListEvents(storage.EventQuery{Type: typ, Limit: 1000})
	if err != nil {
		h.t.Fatalf("listing events: %v", err)
	}
	return evs
}

// pending returns the pending intents.
func (h *harness) pending() []storage.Intent {
	h.t.Helper()
	in, err := h.store.PendingIntents()
	if err != nil {
		h.t.Fatalf("pending intents: %v", err)
	}
	return in
}

// seedUsers stores the SeedMinimal friends as the store would have them after a sync.
func (h *harness) seedUsers() {
	h.t.Helper()
	h.put(storage.User{ID: aliceID, Username: "alice", Email: "alice@example.com", Kind: storage.KindFriend, Status: storage.StatusActive,
		Shares: map[string]storage.Share{srvID: {ShareID: 907759180, Libraries: []string{"4", "8"}, AllowDownloads: true}}})
	h.put(storage.User{ID: bobID, Username: "bob", Email: "bob@example.com", Kind: storage.KindFriend, Status: storage.StatusActive,
		Shares: map[string]storage.Share{srvID: {ShareID: 907759181, Libraries: []string{"1", "4", "8"}, AllLibraries: true}}})
	h.put(storage.User{ID: carolID, Username: "carol", Email: "carol@example.com", Kind: storage.KindFriend, Status: storage.StatusActive,
		Shares: map[string]storage.Share{srvID: {ShareID: 907759182, Libraries: []string{"4"},
			Filters: storage.Filters{Movies: "contentRating=G%2CPG|label!=adult"}}}})
}

// seedWithMovieFriends is SeedMinimal plus n friends who share Movies on the first server: ids
// firstID, firstID+1, …, named prefix0, prefix1, … with emails prefix0@example.com, ….
func seedWithMovieFriends(n int, firstID int64, prefix string) plextest.Seed {
	seed := plextest.SeedMinimal()
	for i := range n {
		id := firstID + int64(i)
		name := fmt.Sprintf("%s%d", prefix, i)
		seed.Accounts = append(seed.Accounts, plextest.Account{ID: id, Username: name, Email: name + "@example.com"})
		seed.Shares = append(seed.Shares, plextest.Share{MachineID: srvID, UserID: id, SectionIDs: []int64{plextest.SectionMovies}})
	}
	return seed
}

// sections maps library keys of the first server to plex.tv ids, sorted.
func sections(keys ...string) []int64 { return plextest.MinimalSectionIDs(keys...) }

// sortedIDs returns a sorted copy.
func sortedIDs(ids []int64) []int64 {
	c := slices.Clone(ids)
	slices.Sort(c)
	return c
}

// tptr returns a pointer to a UTC time.
func tptr(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// mustOK fails on an error.
func mustOK(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// contains reports whether s contains sub.
func contains(s, sub string) bool { return strings.Contains(s, sub) }
