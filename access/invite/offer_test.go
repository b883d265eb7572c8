package invite

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// offerEnv is a store with three servers and a service on it, with or without a change counter.
type offerEnv struct {
	store *storage.Store
	clock *testclock.Clock
	gen   atomic.Uint64
	svc   *Service
}

func newOfferEnv(t *testing.T, counted bool) *offerEnv {
	t.Helper()
	st := storetest.Memory(t)
	e := &offerEnv{store: st, clock: testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))}
	for _, srv := range []storage.Server{
		{ID: "b-srv", Name: "Zeta", Libraries: []storage.Library{{Key: "1", Title: "Movies", Type: "movie"}}},
		{ID: "a-srv", Name: "Alpha", Libraries: []storage.Library{{Key: "2", Title: "Shows", Type: "show"}}},
		{ID: "c-srv", Name: "Unnamed", Libraries: []storage.Library{{Key: "3", Title: "Music", Type: "artist"}}},
	} {
		if err := st.PutServer(srv); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{Store: st, Now: e.clock.Now}
	if counted {
		opts.Generation = e.gen.Load
	}
	var err error
	if e.svc, err = New(opts); err != nil {
		t.Fatal(err)
	}
	return e
}

// put stores an invite directly (it may name a server that is not stored) and moves the counter.
func (e *offerEnv) put(t *testing.T, inv storage.Invite) storage.Invite {
	t.Helper()
	if inv.ID == "" {
		inv.ID = storage.NewID()
	}
	if inv.Libraries == nil {
		inv.Libraries = map[string][]string{"b-srv": {"1"}, "a-srv": {"2"}, "gone-srv": {"9"}}
	}
	inv.CreatedAt, inv.UpdatedAt = e.clock.Now(), e.clock.Now()
	if err := e.store.PutInvite(inv); err != nil {
		t.Fatal(err)
	}
	e.gen.Add(1)
	return inv
}

// TestLookupOffer checks LookupOffer against Lookup, with and without a change counter: the same
// invite, only the stored servers it names in id order, and ErrUnusable for every code that
// cannot be used.
func TestLookupOffer(t *testing.T) {
	for _, counted := range []bool{false, true} {
		t.Run(fmt.Sprint("counted=", counted), func(t *testing.T) {
			e := newOfferEnv(t, counted)
			soon := e.clock.Now().Add(time.Hour)
			good := e.put(t, storage.Invite{Code: "good-code", Label: "Good", Enabled: true, ExpiresAt: &soon, MaxUses: 3, Uses: 1})
			e.put(t, storage.Invite{Code: "off-code", Enabled: false})
			past := e.clock.Now().Add(-time.Second)
			e.put(t, storage.Invite{Code: "old-code", Enabled: true, ExpiresAt: &past})
			e.put(t, storage.Invite{Code: "full-code", Enabled: true, MaxUses: 2, Uses: 2})
			for range 2 { // the second round is served from the cache when counted
				for _, code := range []string{"good-code", "GOOD-Code"} {
					inv, servers, err := e.svc.LookupOffer(code)
					if err != nil {
						t.Fatalf("%s: %v", code, err)
					}
					want, err := e.svc.Lookup(code)
					if err != nil || !reflect.DeepEqual(inv, want) || inv.ID != good.ID {
						t.Errorf("%s: invite %+v, Lookup gives %+v (%v)", code, inv, want, err)
					}
					var ids []string
					for _, s := range servers {
						ids = append(ids, s.ID+"="+s.Name)
					}
					if got := strings.Join(ids, ","); got != "a-srv=Alpha,b-srv=Zeta" {
						t.Errorf("%s: servers %s, want the two stored ones it names, by id", code, got)
					}
				}
				for _, code := range []string{"off-code", "old-code", "full-code", "no-such-code", "a.b", "x", "", strings.Repeat("a", MaxCodeLength+1)} {
					if _, servers, err := e.svc.LookupOffer(code); !errors.Is(err, ErrUnusable) || servers != nil {
						t.Errorf("%q: %v with %d servers, want ErrUnusable", code, err, len(servers))
					}
				}
			}
		})
	}
}

// TestLookupOfferCounter checks what a change counter changes: reads are kept while it holds
// (so a write it did not count goes unseen — the counter must count every write), read again when
// it moves, expiry is still exact to the clock, and unknown codes are never kept.
func TestLookupOfferCounter(t *testing.T) {
	e := newOfferEnv(t, true)
	expires := e.clock.Now().Add(time.Minute)
	inv := e.put(t, storage.Invite{Code: "kept-code", Label: "Before", Enabled: true, ExpiresAt: &expires, MaxUses: 1})
	label := func() string {
		t.Helper()
		got, _, err := e.svc.LookupOffer("kept-code")
		if err != nil {
			t.Fatalf("lookup: %v", err)
		}
		return got.Label
	}
	if got := label(); got != "Before" {
		t.Fatalf("label %q", got)
	}
	inv.Label = "After"
	if err := e.store.PutInvite(inv); err != nil { // not counted
		t.Fatal(err)
	}
	if got := label(); got != "Before" {
		t.Errorf("with the counter unchanged the invite was read again: %q", got)
	}
	e.gen.Add(1)
	if got := label(); got != "After" {
		t.Errorf("after the counter moved: %q", got)
	}

	// A use taken (a counted write) makes it used up at once.
	if _, err := e.store.ReserveInviteUse(inv.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.gen.Add(1)
	if _, _, err := e.svc.LookupOffer("kept-code"); !errors.Is(err, ErrUnusable) {
		t.Errorf("used up: %v", err)
	}
	if _, err := e.store.ReleaseInviteUse(inv.ID); err != nil {
		t.Fatal(err)
	}
	e.gen.Add(1)
	if _, _, err := e.svc.LookupOffer("kept-code"); err != nil {
		t.Errorf("use released: %v", err)
	}

	// Expiry needs no write: the kept invite stops working at its instant.
	e.clock.Add(time.Minute - time.Nanosecond)
	if _, _, err := e.svc.LookupOffer("kept-code"); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	e.clock.Add(time.Nanosecond)
	if _, _, err := e.svc.LookupOffer("kept-code"); !errors.Is(err, ErrUnusable) {
		t.Errorf("at expiry: %v", err)
	}

	// Renaming a server shows once counted.
	srv, err := e.store.GetServer("a-srv")
	if err != nil {
		t.Fatal(err)
	}
	srv.Name = "Alpha Prime"
	if err := e.store.PutServer(srv); err != nil {
		t.Fatal(err)
	}
	later := e.clock.Now().Add(time.Hour)
	inv.ExpiresAt = &later
	e.put(t, inv)
	if _, servers, err := e.svc.LookupOffer("kept-code"); err != nil || len(servers) != 2 || servers[0].Name != "Alpha Prime" {
		t.Errorf("after a counted rename: %v %+v", err, servers)
	}

	// Unknown and malformed codes are not kept.
	for _, code := range []string{"unknown-one", "unknown-two", "bad.code"} {
		if _, _, err := e.svc.LookupOffer(code); !errors.Is(err, ErrUnusable) {
			t.Errorf("%s: %v", code, err)
		}
	}
	e.svc.offers.mu.RLock()
	n := len(e.svc.offers.entries)
	e.svc.offers.mu.RUnlock()
	if n != 1 {
		t.Errorf("%d codes kept, want only the known one", n)
	}
}

func TestOfferCacheBounds(t *testing.T) {
	c := newOfferCache(3)
	for i := range 3 {
		c.put(fmt.Sprint("code-", i), 7, offer{inv: storage.Invite{Label: fmt.Sprint(i)}})
	}
	if o, ok := c.get("CODE-2", 7); !ok || o.inv.Label != "2" {
		t.Errorf("case-insensitive get: %v %q", ok, o.inv.Label)
	}
	if _, ok := c.get("code-2", 8); ok {
		t.Error("an offer of another generation was served")
	}
	c.put("code-3", 7, offer{})
	if len(c.entries) != 1 {
		t.Errorf("a full cache holds %d entries after one more put, want 1 (dropped, then the new one)", len(c.entries))
	}
	c.put("code-4", 9, offer{})
	if _, ok := c.get("code-3", 9); ok || len(c.entries) != 1 || c.gen != 9 {
		t.Errorf("a put of a new generation kept older offers: %d entries at %d", len(c.entries), c.gen)
	}
}

// TestLookupOfferConcurrent looks up while the invite changes and the counter moves (run with
// -race): every answer is one of the invite's stored versions, and the last one wins.
func TestLookupOfferConcurrent(t *testing.T) {
	e := newOfferEnv(t, true)
	inv := e.put(t, storage.Invite{Code: "busy-code", Label: "v0", Enabled: true})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, _, err := e.svc.LookupOffer("busy-code")
				if err != nil || !strings.HasPrefix(got.Label, "v") {
					t.Errorf("lookup: %q %v", got.Label, err)
					return
				}
			}
		})
	}
	for i := 1; i <= 50; i++ {
		inv.Label = fmt.Sprint("v", i)
		e.put(t, inv)
	}
	close(stop)
	wg.Wait()
	if got, _, err := e.svc.LookupOffer("busy-code"); err != nil || got.Label != "v50" {
		t.Errorf("after the writes: %q %v", got.Label, err)
	}
}
