package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// shareUpdateRoute is the plex.tv route that changes an existing share's libraries.
const shareUpdateRoute = "POST /api/v2/shared_servers/{id}"

// usersRoute is the plex.tv route of the friends listing a sync reads.
const usersRoute = "GET /api/users"

// failSyncOnce injects a failure of plex.tv's friends listing and runs a sync that meets it: plex.tv is
// down as a whole, not only its sharing routes.
func failSyncOnce(t *testing.T, h *harness) {
	t.Helper()
	h.fake.Inject(plextest.Fault{Route: usersRoute, Status: 503, Count: 1})
	if _, err := h.svc.Sync(h.ctx, ActorSystem); err == nil {
		t.Fatal("a sync met no failure during the outage")
	}
}

// describePending summarises intents for a failure message.
func describePending(list []storage.Intent) string {
	var parts []string
	for _, in := range list {
		parts = append(parts, fmt.Sprintf("%s user %d attempts %d not before %s", in.Kind, in.UserID, in.Attempts, in.NotBefore.Format(time.RFC3339)))
	}
	return fmt.Sprintf("%d [%s]", len(list), strings.Join(parts, "; "))
}

// woken reports (and consumes) a pending wake-up of the enforcement loop.
func woken(s *Service) bool {
	select {
	case <-s.wake:
		return true
	default:
		return false
	}
}

func TestWaitingChangesAreRetriedOncePlexAnswersAgain(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	h.fake.Inject(plextest.Fault{Route: shareUpdateRoute, Status: 503})
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1", "4", "8"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("edit during the outage: err = %v, want a scheduled retry", err)
	}
	p := h.pending()
	if len(p) != 1 || !p[0].NotBefore.After(h.clock.Now()) {
		t.Fatalf("pending: %s; want one intent waiting for its backoff", describePending(p))
	}
	backoffEnds := p[0].NotBefore
	woken(h.svc) // nothing should be waiting, but start clean

	// A listing that answers while only the sharing routes fail is not a recovery.
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "Sync while sharing fails")
	if p := h.pending(); len(p) != 1 || !p[0].NotBefore.Equal(backoffEnds) || woken(h.svc) {
		t.Fatalf("pending after a listing answered: %s; want the backoff kept", describePending(p))
	}
	failSyncOnce(t, h) // the listings fail too: plex.tv is down

	// Still in the backoff, nothing answered: the pass leaves the change alone.
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce during the outage")
	if rep.Retried != 0 || h.fake.CallCount(shareUpdateRoute) != 1 {
		t.Fatalf("retried %d, %d share updates: the backoff was not honoured", rep.Retried, h.fake.CallCount(shareUpdateRoute))
	}

	// Plex is back; the next plex.tv call that gets an answer (here a sync) makes the change due.
	h.fake.ClearFaults()
	h.clock.Add(5 * time.Second)
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "Sync after the outage")
	if p := h.pending(); len(p) != 1 || p[0].NotBefore.After(h.clock.Now()) {
		t.Fatalf("pending after Plex answered: %s; want one, due now", describePending(p))
	}
	if !woken(h.svc) {
		t.Fatal("the enforcement loop was not woken")
	}
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce after the outage")
	if !h.clock.Now().Before(backoffEnds) {
		t.Fatal("test bug: the backoff had elapsed")
	}
	if rep.Retried != 1 || len(h.pending()) != 0 {
		t.Fatalf("retried %d, pending: %s", rep.Retried, describePending(h.pending()))
	}
	if sh, ok := h.shareOf(aliceID); !ok || !sameIDs(sh.SectionIDs, sections("1", "4", "8")) {
		t.Fatalf("alice's share on Plex = %+v, want every library", sh)
	}
	// An answer with nothing waiting wakes nobody.
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "quiet sync")
	if woken(h.svc) {
		t.Fatal("woken with nothing waiting")
	}
}

func TestRecoveryRetriesOneAtATimeAndStopsAtTheNextFailure(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	h.fake.Inject(plextest.Fault{Route: shareUpdateRoute, Status: 503})
	for _, id := range []int64{aliceID, bobID, carolID} {
		_, err := h.svc.UpdateUser(h.ctx, "admin:root", id, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
		if !errors.Is(err, ErrRetryScheduled) {
			t.Fatalf("edit of %d: err = %v", id, err)
		}
	}
	// plex.tv was down as a whole and its listings answer again while sharing still fails: the three
	// changes are due, but the pass that retries them stops at the first one Plex still refuses.
	failSyncOnce(t, h)
	_, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "Sync")
	h.fake.ResetCalls()
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce while the share route still fails")
	if n := h.fake.CallCount(shareUpdateRoute); n != 1 || rep.Retried != 1 {
		t.Fatalf("%d share updates, %d retried: want one attempt, then the pass stops", n, rep.Retried)
	}
	waiting := 0
	for _, in := range h.pending() {
		if in.NotBefore.After(h.clock.Now()) {
			waiting++
			if in.Attempts != 2 {
				t.Fatalf("the retried intent has %d attempts", in.Attempts)
			}
		}
	}
	if waiting != 1 || len(h.pending()) != 3 {
		t.Fatalf("pending: %s; want the retried one back in its backoff, two due", describePending(h.pending()))
	}

	// A restarted engine (a new Service on the same store) also makes the waiting change due at the first
	// answer after Plex is back.
	h.fake.ClearFaults()
	svc := h.newService()
	_, err = svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "Sync after a restart")
	rep, err = svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce after a restart")
	if rep.Retried != 3 || len(h.pending()) != 0 {
		t.Fatalf("retried %d, pending: %s", rep.Retried, describePending(h.pending()))
	}
	for _, id := range []int64{aliceID, bobID, carolID} {
		for _, sh := range h.fake.SharesFor(srvID) {
			if sh.UserID == id && !sameIDs(sh.SectionIDs, sections("1")) {
				t.Fatalf("user %d's share = %v", id, sh.SectionIDs)
			}
		}
	}
}

func TestNotePlexTV(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	h.fake.Inject(plextest.Fault{Route: shareUpdateRoute, Status: 503, Count: 1})
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v", err)
	}
	due := func() bool { return !h.pending()[0].NotBefore.After(h.clock.Now()) }
	cases := []struct {
		name string
		op   string
		err  error
		due  bool
	}{
		{"a cancelled call says nothing", callsSharing, &plex.Error{Kind: plex.ErrOffline, Err: context.Canceled}, false},
		{"an unsupported call says nothing", callsSharing, ErrUnsupported, false},
		{"another failure keeps waiting", callsSharing, &plex.Error{Kind: plex.ErrOffline, Message: "no answer"}, false},
		{"a listing's answer is not the sharing routes'", callsListing, nil, false},
		{"a Home answer is not the sharing routes'", callsHome, nil, false},
		{"a refusal is an answer", callsSharing, &plex.Error{Kind: plex.ErrNotFound, Message: "no such share"}, true},
	}
	for _, tc := range cases {
		h.svc.notePlexTV(tc.op, tc.err)
		if got := due(); got != tc.due {
			t.Fatalf("%s: due = %v, want %v", tc.name, got, tc.due)
		}
	}
}

func TestEnforceLoopWakesWhenPlexAnswersAgain(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	var loop Loop
	for _, l := range h.svc.Loops(Intervals{Enforce: time.Hour}) {
		if l.Name == "access_enforce" {
			loop = l
		}
	}
	ctx, cancel := context.WithCancel(h.ctx)
	served := make(chan error, 1)
	go func() { served <- loop.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	waitFor(t, 5*time.Second, "the loop's first pass", func() bool {
		h, err := h.svc.Health()
		return err == nil && h.LastEnforce != nil
	})

	h.fake.Inject(plextest.Fault{Route: shareUpdateRoute, Status: 503, Count: 1})
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v", err)
	}
	failSyncOnce(t, h)                      // plex.tv is down as a whole
	_, err = h.svc.Sync(h.ctx, ActorSystem) // and answers again
	mustOK(t, err, "Sync")
	// The loop's next pass is an hour away; the wake-up runs it now.
	waitFor(t, 5*time.Second, "the change reaching Plex", func() bool {
		sh, ok := h.shareOf(aliceID)
		return ok && sameIDs(sh.SectionIDs, sections("1"))
	})
	waitFor(t, 5*time.Second, "the intent completing", func() bool { return len(h.pending()) == 0 })
}
