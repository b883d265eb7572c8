package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// stopKinds are the ways a loop's context is stopped while a Plex call is in flight: cancelled (Caddy
// stopping or reloading: every reload stops the old config's loops). A caller's deadline is not a stop
// but a timeout (TestCallersDeadlineIsAPlexTimeout).
var stopKinds = []struct {
	name     string
	deadline bool
}{
	{"cancelled", false},
}

// stop is a context that ends while a hung Plex call is in flight.
type stop struct {
	ctx    context.Context
	route  string
	before int
}

// stopDuring makes the next call on route hang and returns a context that ends while that call waits:
// cancelled once the call reaches the fake, or (deadline) at its own deadline, well before the
// client's 2 s timeout or the engine's per-call bound.
func (h *harness) stopDuring(route string, deadline bool) stop {
	h.t.Helper()
	h.fake.Inject(plextest.Fault{Route: route, Hang: true, Count: 1})
	st := stop{route: route, before: h.fake.CallCount(route)}
	if deadline {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		h.t.Cleanup(cancel)
		st.ctx = ctx
		return st
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	go func() {
		for h.fake.CallCount(route) <= st.before && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel() // the stop arrives while Plex is being asked
	}()
	st.ctx = ctx
	return st
}

// check fails the test unless the stop ended the context while the call on its route was in flight,
// and err (what the stopped work returned) says so.
func (st stop) check(t *testing.T, err error) {
	t.Helper()
	if st.ctx.Err() == nil {
		t.Fatal("the context did not end")
	}
	if !errors.Is(err, st.ctx.Err()) {
		t.Errorf("err = %v, want the context's %v", err, st.ctx.Err())
	}
}

// reached fails the test unless the hung call on the stop's route was made.
func (h *harness) reached(st stop) {
	h.t.Helper()
	if h.fake.CallCount(st.route) <= st.before {
		h.t.Fatalf("no call on %s was in flight when the context ended", st.route)
	}
}

// outageNoted reports whether the Service took some plex.tv call for failing (see notePlexTV).
func (s *Service) outageNoted() bool {
	s.tvMu.Lock()
	defer s.tvMu.Unlock()
	return len(s.tvFailing) > 0
}

// TestStopDuringAChangeLeavesTheIntentAsItWas: a change whose Plex call is cut short by a stop counts
// no attempt, moves no backoff, records no retry or failure, and notes no outage; the intent stays
// pending and due, and the next pass carries it on.
func TestStopDuringAChangeLeavesTheIntentAsItWas(t *testing.T) {
	cases := []struct {
		name  string
		route string
		run   func(h *harness, ctx context.Context) error
		done  func(h *harness) bool
	}{
		{"enforcement pass", "DELETE /api/v2/shared_servers/{id}", func(h *harness, ctx context.Context) error {
			rep, err := h.svc.Enforce(ctx, ActorSystem)
			if len(rep.Changes) != 1 || rep.Changes[0].Result != ResultSkipped {
				h.t.Errorf("changes = %+v, want carol's expiry skipped", rep.Changes)
			}
			return err
		}, func(h *harness) bool {
			_, shared := h.shareOf(carolID)
			return !shared && h.user(carolID).Status == storage.StatusExpired
		}},
		{"admin's edit", "POST /api/v2/shared_servers/{id}", func(h *harness, ctx context.Context) error {
			_, err := h.svc.UpdateUser(ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
			if !errors.Is(err, ErrRetryScheduled) {
				h.t.Errorf("edit err = %v, want ErrRetryScheduled (the next pass makes the change)", err)
			}
			return err
		}, func(h *harness) bool {
			sh, ok := h.shareOf(aliceID)
			return ok && sameIDs(sh.SectionIDs, sections("1"))
		}},
	}
	for _, tc := range cases {
		for _, sk := range stopKinds {
			t.Run(tc.name+"/"+sk.name, func(t *testing.T) {
				h := newHarness(t, plextest.Seed{})
				h.seedUsers()
				_, err := h.svc.UpdateUser(h.ctx, "admin:root", carolID, UserPatch{ExpiresAt: tptr(t0.Add(time.Minute))})
				mustOK(t, err, "carol's expiry")
				h.clock.Add(2 * time.Minute)

				st := h.stopDuring(tc.route, sk.deadline)
				err = tc.run(h, st.ctx)
				h.reached(st)
				if tc.name == "admin's edit" {
					st.check(t, err)
				} else {
					mustOK(t, err, "the stopped pass") // the pass itself did not fail
				}
				p := h.pending()
				if len(p) != 1 {
					t.Fatalf("pending intents = %+v, want the interrupted one", p)
				}
				if in := p[0]; in.Attempts != 0 || in.LastError != "" || in.NotBefore.After(h.clock.Now()) {
					t.Errorf("intent after the stop = %+v; want it as it was: no attempt, no error, due", in)
				}
				for _, typ := range []string{EventIntentRetry, EventIntentFailed} {
					if n := len(h.events(typ)); n != 0 {
						t.Errorf("%d %s events after a stop", n, typ)
					}
				}
				if h.svc.outageNoted() {
					t.Error("a stop was noted as a plex.tv outage")
				}
				if tc.done(h) {
					t.Fatal("the change was made although its call was cut short")
				}

				// The next pass, not stopped, carries the change on.
				rep, err := h.svc.Enforce(h.ctx, ActorSystem)
				mustOK(t, err, "the next pass")
				if rep.Retried != 1 || len(h.pending()) != 0 || !tc.done(h) {
					t.Fatalf("next pass = %+v, pending %d; want the interrupted change made", rep, len(h.pending()))
				}
			})
		}
	}
}

// TestStoppedPlexTVCallIsNoOutage: a plex.tv call cut short by a stop does not mark its calls as
// failing, so the next answer is no "recovery" that makes every change waiting for its backoff due.
func TestStoppedPlexTVCallIsNoOutage(t *testing.T) {
	for _, sk := range stopKinds {
		t.Run(sk.name, func(t *testing.T) {
			h := newHarness(t, plextest.Seed{})
			h.seedUsers()
			_, err := h.svc.UpdateUser(h.ctx, "admin:root", carolID, UserPatch{ExpiresAt: tptr(t0.Add(time.Minute))})
			mustOK(t, err, "carol's expiry")
			h.clock.Add(2 * time.Minute)
			// Plex's sharing fails: carol's expiry waits for its backoff.
			h.fake.Inject(plextest.Fault{Route: "DELETE /api/v2/shared_servers/{id}", Status: 503, Count: 1})
			_, err = h.svc.Enforce(h.ctx, ActorSystem)
			mustOK(t, err, "Enforce")
			p := h.pending()
			if len(p) != 1 || !p[0].NotBefore.After(h.clock.Now()) {
				t.Fatalf("pending = %+v, want carol's expiry waiting for its backoff", p)
			}
			notBefore := p[0].NotBefore

			st := h.stopDuring("GET /api/users", sk.deadline)
			_, err = h.svc.Sync(st.ctx, ActorSystem)
			h.reached(st)
			st.check(t, err)
			// The listing answers: it never failed, so this is no recovery.
			_, err = h.svc.Sync(h.ctx, ActorSystem)
			mustOK(t, err, "Sync")
			if p := h.pending(); len(p) != 1 || !p[0].NotBefore.Equal(notBefore) {
				t.Errorf("pending = %+v; want carol's expiry still waiting until %s", p, notBefore)
			}
		})
	}
}

// TestCallersDeadlineIsAPlexTimeout: when the caller's own deadline (an admin edit gives Plex 20 s) ends
// while Plex does not answer, that is a Plex timeout, not a stop: the change waits for its backoff and
// plex.tv is noted as failing, so the next pass does not retry it at once against the same hung Plex
// while holding the engine lock.
func TestCallersDeadlineIsAPlexTimeout(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	st := h.stopDuring("POST /api/v2/shared_servers/{id}", true)
	_, err := h.svc.UpdateUser(st.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
	h.reached(st)
	if !errors.Is(err, ErrRetryScheduled) || isStopped(err) {
		t.Errorf("edit err = %v, want a scheduled retry that is not a stop", err)
	}
	p := h.pending()
	if len(p) != 1 {
		t.Fatalf("pending intents = %+v, want the timed-out one", p)
	}
	if in := p[0]; in.Attempts != 1 || in.LastError == "" || !in.NotBefore.After(h.clock.Now()) {
		t.Errorf("intent after the timeout = %+v; want one attempt with its error, waiting for its backoff", in)
	}
	if !h.svc.outageNoted() {
		t.Error("the timed-out plex.tv call was not noted as failing")
	}
}
