package access

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// enforceLoop returns the Service's enforcement loop.
func enforceLoop(t *testing.T, s *Service) Loop {
	t.Helper()
	for _, l := range s.Loops(Intervals{}) {
		if l.Name == "access_enforce" {
			return l
		}
	}
	t.Fatal("no access_enforce loop")
	return Loop{}
}

func TestEnforceLoopPrunesFinishedIntents(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	// A real change that needed a retry leaves a done intent behind (its id is known while it waits).
	h.fake.Inject(plextest.Fault{Route: shareUpdateRoute, Status: 503, Count: 1})
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"4"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v", err)
	}
	realID := h.pending()[0].ID
	h.clock.Add(2 * time.Minute)
	loop := enforceLoop(t, h.svc)
	mustOK(t, loop.Run(h.ctx), "first run") // retries the change and sweeps: nothing is old yet
	if in, err := h.store.GetIntent(realID); err != nil || in.State != storage.IntentDone {
		t.Fatalf("the retried intent = %+v, %v; want done and kept", in, err)
	}

	put := func(id, state string, age time.Duration) {
		t.Helper()
		at := h.clock.Now().Add(-age)
		in := storage.Intent{ID: id, Kind: ActionShare, UserID: bobID, State: state, CreatedAt: at.Add(-time.Minute), UpdatedAt: at}
		if state == storage.IntentPending {
			in.NotBefore = at.Add(3650 * day) // waiting: the passes leave it alone
		}
		_, err := h.store.PutIntent(in)
		mustOK(t, err, "PutIntent "+id)
	}
	left := func() []string {
		t.Helper()
		var out []string
		for _, id := range []string{realID, "done-31d", "done-29d", "failed-31d", "failed-91d", "pending-200d"} {
			_, err := h.store.GetIntent(id)
			switch {
			case err == nil:
				out = append(out, id)
			case !errors.Is(err, storage.ErrNotFound):
				t.Fatalf("GetIntent %s: %v", id, err)
			}
		}
		return out
	}

	h.clock.Add(31 * day)
	put("done-31d", storage.IntentDone, 31*day)
	put("done-29d", storage.IntentDone, 29*day)
	put("failed-31d", storage.IntentFailed, 31*day)
	put("failed-91d", storage.IntentFailed, 91*day)
	put("pending-200d", storage.IntentPending, 200*day)
	mustOK(t, loop.Run(h.ctx), "run 31 days later")
	if got, want := left(), []string{"done-29d", "failed-31d", "pending-200d"}; !slices.Equal(got, want) {
		t.Fatalf("intents left = %v, want %v (the real change's done intent, %s, is past its retention)", got, want, realID)
	}
	if p := h.pending(); len(p) != 1 || p[0].ID != "pending-200d" {
		t.Fatalf("pending = %s", describePending(p))
	}

	// At most one sweep an hour: a run ten minutes later keeps an intent that just became old.
	h.clock.Add(10 * time.Minute)
	put("done-31d", storage.IntentDone, 31*day)
	mustOK(t, loop.Run(h.ctx), "run 10 minutes later")
	if got := left(); !slices.Contains(got, "done-31d") {
		t.Fatalf("swept again within the hour: %v", got)
	}
	h.clock.Add(time.Hour)
	mustOK(t, loop.Run(h.ctx), "run an hour later")
	if got := left(); slices.Contains(got, "done-31d") {
		t.Fatalf("not swept after an hour: %v", got)
	}
	// Failed intents go once they are older than their own, longer retention; pending ones never.
	h.clock.Add(60 * day)
	mustOK(t, loop.Run(h.ctx), "run 60 days later")
	if got, want := left(), []string{"pending-200d"}; !slices.Equal(got, want) {
		t.Fatalf("intents left = %v, want %v", got, want)
	}
}

func TestRetentionKeepsFailedIntentsAtLeastAsLongAsDoneOnes(t *testing.T) {
	if FailedIntentRetention < IntentRetention || IntentRetention < 24*time.Hour {
		t.Fatalf("failed intents are kept %s, done ones %s", FailedIntentRetention, IntentRetention)
	}
}
