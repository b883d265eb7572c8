package access

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// slowClientService returns a Service on h's store whose Plex client waits a whole minute for an
// answer, with the given per-call bound: only the engine's own deadline can end a hung call early.
func slowClientService(t *testing.T, h *harness, callTimeout time.Duration) *Service {
	t.Helper()
	c, err := plex.New(plex.Config{TVURL: h.fake.URL(), ClientID: "access-test-slow", Retries: -1, Timeout: time.Minute})
	mustOK(t, err, "plex client")
	token := h.fake.OwnerToken()
	return h.newService(func(o *Options) {
		o.Plex = NewPlexGateway(c, func() string { return token })
		o.PlexCallTimeout = callTimeout
	})
}

func TestHungPlexCallDoesNotHoldEditsBehindAPass(t *testing.T) {
	cases := []struct {
		name  string
		route string
		pass  func(s *Service, h *harness) error
	}{
		{"sync", "GET /api/users", func(s *Service, h *harness) error {
			_, err := s.Sync(h.ctx, ActorSystem)
			return err
		}},
		{"enforcement", "DELETE /api/v2/shared_servers/{id}", func(s *Service, h *harness) error {
			rep, err := s.Enforce(h.ctx, ActorSystem)
			if err == nil && (len(rep.Changes) != 1 || rep.Changes[0].Result != ResultRetry) {
				t.Errorf("enforcement changes = %+v, want carol's expiry waiting for a retry", rep.Changes)
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, plextest.Seed{})
			h.seedUsers()
			const bound = 300 * time.Millisecond
			svc := slowClientService(t, h, bound)
			_, err := svc.UpdateUser(h.ctx, "admin:root", carolID, UserPatch{ExpiresAt: tptr(t0.Add(time.Minute))})
			mustOK(t, err, "carol's expiry")
			h.clock.Add(2 * time.Minute)

			h.fake.Inject(plextest.Fault{Route: tc.route, Hang: true, Count: 1})
			start := time.Now()
			passDone := make(chan error, 1)
			go func() { passDone <- tc.pass(svc, h) }()
			waitFor(t, 5*time.Second, "the pass's hung call", func() bool { return h.fake.CallCount(tc.route) == 1 })

			// An admin's edit while the pass waits for Plex: it gets the lock once the hung call reaches
			// its deadline and is made at once.
			ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
			defer cancel()
			_, err = svc.UpdateUser(ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
			mustOK(t, err, "edit during the pass")
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("the edit finished %s after the pass started; a hung call should hold it for about %s", took, bound)
			}
			perr := <-passDone
			if tc.name == "sync" && !errors.Is(perr, context.DeadlineExceeded) {
				t.Fatalf("sync err = %v, want the call's deadline", perr)
			}
			if tc.name == "enforcement" {
				mustOK(t, perr, "enforcement pass")
			}
			if sh, ok := h.shareOf(aliceID); !ok || !sameIDs(sh.SectionIDs, sections("1")) {
				t.Fatalf("alice's share = %+v", sh)
			}
		})
	}
}

func TestEditGivesUpWaitingForTheLockWhenItsTimeIsUp(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	svc := slowClientService(t, h, 2*time.Second)
	h.fake.Inject(plextest.Fault{Route: "GET /api/users", Hang: true, Count: 1})
	passDone := make(chan error, 1)
	go func() {
		_, err := svc.Sync(h.ctx, ActorSystem)
		passDone <- err
	}()
	waitFor(t, 5*time.Second, "the sync's hung call", func() bool { return h.fake.CallCount("GET /api/users") == 1 })

	ctx, cancel := context.WithTimeout(h.ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := svc.UpdateUser(ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
	took := time.Since(start)
	if !errors.Is(err, ErrEngineBusy) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v, want ErrEngineBusy (nothing recorded, no retry promised)", err)
	}
	if took > time.Second {
		t.Fatalf("the edit answered after %s, its limit was 200ms", took)
	}
	if msg := Explain(err); !contains(msg, "nothing was changed") {
		t.Fatalf("explanation %q", msg)
	}
	// Nothing was recorded or sent.
	if len(h.pending()) != 0 || len(h.events(EventUserUpdated)) != 0 {
		t.Fatalf("pending %d, user.updated events %d", len(h.pending()), len(h.events(EventUserUpdated)))
	}
	if a := h.user(aliceID); !sameKeys(a.Shares[srvID].Libraries, []string{"4", "8"}) {
		t.Fatalf("alice's libraries changed: %v", a.Shares[srvID].Libraries)
	}
	if !errors.Is(<-passDone, context.DeadlineExceeded) {
		t.Fatal("the sync did not end at its call's deadline")
	}
	// The lock the abandoned wait took is released: the same edit goes through now.
	_, err = svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
	mustOK(t, err, "the edit after the pass")
	if sh, ok := h.shareOf(aliceID); !ok || !sameIDs(sh.SectionIDs, sections("1")) {
		t.Fatalf("alice's share = %+v", sh)
	}
}

func TestLockCtx(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	lock := &sync.Mutex{}
	svc := h.newService(func(o *Options) { o.PassLock = lock })

	// Free lock, any context.
	mustOK(t, svc.lockCtx(context.Background()), "free lock")
	lock.Unlock()

	// A context that has ended gets nothing, even with the lock free.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := svc.lockCtx(done); !errors.Is(err, ErrEngineBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: err = %v", err)
	}
	if !lock.TryLock() {
		t.Fatal("an ended context left the lock taken")
	}

	// Held lock: the wait ends with the context; the abandoned waiter releases the lock it gets later.
	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := svc.lockCtx(ctx); !errors.Is(err, ErrEngineBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("held lock: err = %v", err)
	}
	lock.Unlock()
	waitFor(t, 5*time.Second, "the abandoned waiter releasing the lock", func() bool {
		if lock.TryLock() {
			lock.Unlock()
			return true
		}
		return false
	})

	// Held lock released in time: the waiter gets it.
	lock.Lock()
	go func() {
		time.Sleep(20 * time.Millisecond)
		lock.Unlock()
	}()
	ctx3, cancel3 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel3()
	mustOK(t, svc.lockCtx(ctx3), "lock released in time")
	if lock.TryLock() {
		t.Fatal("lockCtx returned without holding the lock")
	}
	lock.Unlock()
}

// sameIDs compares two sets of section ids.
func sameIDs(a, b []int64) bool { return slices.Equal(sortedIDs(a), sortedIDs(b)) }

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sameKeys compares two lists of library keys as sets.
func sameKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		found := false
		for _, o := range b {
			found = found || o == k
		}
		if !found {
			return false
		}
	}
	return true
}

func TestGrantOfALeavingInviteeIsKept(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	ctx, cancel := context.WithCancel(h.ctx)
	cancel() // the invitee closed the page
	_, err := h.svc.Grant(ctx, ActorUser(daveID), GrantRequest{UserID: daveID, Username: "dave", Email: "dave@example.com",
		Libraries: map[string][]string{srvID: {"4"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v, want the grant recorded and its share retried", err)
	}
	if p := h.pending(); len(p) != 1 || p[0].UserID != daveID {
		t.Fatalf("pending = %s", describePending(p))
	}
	h.clock.Add(2 * time.Minute)
	_, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	if _, ok := h.shareOf(daveID); !ok {
		t.Fatal("dave's share was not made by the next pass")
	}
}
