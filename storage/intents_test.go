package storage

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestIntentsPendingIndex(t *testing.T) {
	s := newMemStore(t)
	for _, bad := range []Intent{
		{ID: "x", Kind: "", State: IntentPending, CreatedAt: base},
		{ID: "x", Kind: "share", State: "later", CreatedAt: base},
		{ID: "x", Kind: "share", State: IntentPending},
	} {
		_, err := s.PutIntent(bad)
		wantErr(t, err, ErrInvalid, "PutIntent invalid")
	}
	wantErr(t, s.Update(func(tx *Tx) error {
		return tx.Intents().Put(Intent{Kind: "share", State: IntentPending, CreatedAt: base})
	}), ErrInvalid, "Intents.Put without id")
	mk := func(id string, minutes int) Intent {
		return Intent{ID: id, Kind: "remove_share", UserID: 7, ServerID: "s1", State: IntentPending,
			CreatedAt: base.Add(time.Duration(minutes) * time.Minute), Payload: []byte(`{"x":1}`)}
	}
	for _, in := range []Intent{mk("c", 3), mk("a", 1), mk("b", 2)} {
		_, err := s.PutIntent(in)
		mustNil(t, err, "PutIntent")
	}
	pendingIDs := func() []string {
		list, err := s.PendingIntents()
		mustNil(t, err, "PendingIntents")
		var out []string
		for _, in := range list {
			out = append(out, in.ID)
		}
		return out
	}
	if got := pendingIDs(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("Pending = %v, want oldest first", got)
	}

	retried, err := s.RetryIntent("a", "plex 503", base.Add(time.Hour), base.Add(10*time.Minute))
	mustNil(t, err, "RetryIntent")
	if retried.Attempts != 1 || retried.State != IntentPending || !retried.NotBefore.Equal(base.Add(time.Hour)) {
		t.Fatalf("RetryIntent = %+v", retried)
	}
	done, err := s.MarkIntentDone("a", base.Add(time.Hour))
	mustNil(t, err, "MarkIntentDone")
	if done.State != IntentDone || done.Attempts != 2 || done.LastError != "plex 503" {
		t.Fatalf("MarkIntentDone = %+v", done)
	}
	failed, err := s.MarkIntentFailed("b", "user gone", base.Add(time.Hour))
	mustNil(t, err, "MarkIntentFailed")
	if failed.State != IntentFailed || failed.LastError != "user gone" {
		t.Fatalf("MarkIntentFailed = %+v", failed)
	}
	if got := pendingIDs(); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("Pending after finishing a and b = %v", got)
	}
	_, err = s.RetryIntent("a", "x", base, base)
	wantErr(t, err, ErrInvalid, "retrying a finished intent")
	_, err = s.MarkIntentDone("missing", base)
	wantErr(t, err, ErrNotFound, "MarkIntentDone missing")

	got, err := s.GetIntent("c")
	mustNil(t, err, "GetIntent")
	if string(got.Payload) != `{"x":1}` {
		t.Fatalf("payload = %s", got.Payload)
	}
	mustNil(t, s.Update(func(tx *Tx) error { return tx.Intents().Delete("c") }), "Delete")
	if keys := keysUnder(t, s, "v1/idx/intent/"); len(keys) != 0 {
		t.Fatalf("pending index left: %v", keys)
	}
	generated, err := s.PutIntent(Intent{Kind: "share", State: IntentPending, CreatedAt: base})
	mustNil(t, err, "PutIntent without id")
	if generated.ID == "" {
		t.Fatal("no id generated")
	}
}

func TestPruneIntents(t *testing.T) {
	s := newMemStore(t)
	doneCut, failedCut := base.Add(-30*24*time.Hour), base.Add(-90*24*time.Hour)
	put := func(id, state string, updated time.Time) {
		t.Helper()
		_, err := s.PutIntent(Intent{ID: id, Kind: "share", UserID: 7, State: state,
			CreatedAt: updated.Add(-time.Hour), UpdatedAt: updated, Payload: []byte(`{"steps":[]}`)})
		mustNil(t, err, "PutIntent "+id)
	}
	put("done-old", IntentDone, doneCut.Add(-time.Second))
	put("done-edge", IntentDone, doneCut) // not before the cut-off: kept
	put("done-new", IntentDone, base.Add(-time.Hour))
	put("failed-very-old", IntentFailed, failedCut.Add(-time.Minute))
	put("failed-old", IntentFailed, doneCut.Add(-24*time.Hour)) // older than done ones may be, kept
	put("pending-old", IntentPending, failedCut.Add(-365*24*time.Hour))
	// Enough old done intents to need several batches.
	const many = 2*intentBatch + 7
	for i := range many {
		put(fmt.Sprintf("bulk-%05d", i), IntentDone, doneCut.Add(-time.Duration(i+1)*time.Minute))
	}

	n, err := s.PruneIntents(doneCut, failedCut)
	mustNil(t, err, "PruneIntents")
	if n != many+2 {
		t.Fatalf("PruneIntents deleted %d, want %d", n, many+2)
	}
	var left []string
	for _, k := range keysUnder(t, s, "v1/intent/") {
		left = append(left, k[len("v1/intent/"):])
	}
	slices.Sort(left)
	if want := []string{"done-edge", "done-new", "failed-old", "pending-old"}; !slices.Equal(left, want) {
		t.Fatalf("intents left = %v, want %v", left, want)
	}
	pending, err := s.PendingIntents()
	mustNil(t, err, "PendingIntents")
	if len(pending) != 1 || pending[0].ID != "pending-old" {
		t.Fatalf("pending after prune = %+v", pending)
	}
	if keys := keysUnder(t, s, "v1/idx/intent/"); len(keys) != 1 {
		t.Fatalf("pending index = %v", keys)
	}

	// A second sweep finds nothing; zero cut-offs delete nothing.
	n, err = s.PruneIntents(doneCut, failedCut)
	mustNil(t, err, "second PruneIntents")
	if n != 0 {
		t.Fatalf("second PruneIntents deleted %d", n)
	}
	n, err = s.PruneIntents(time.Time{}, time.Time{})
	mustNil(t, err, "PruneIntents with zero cut-offs")
	if n != 0 {
		t.Fatalf("zero cut-offs deleted %d", n)
	}
	// The cut-offs apply per state: a far cut-off for failed ones only deletes failed ones.
	n, err = s.PruneIntents(time.Time{}, base)
	mustNil(t, err, "PruneIntents failed only")
	if n != 1 {
		t.Fatalf("failed-only prune deleted %d, want 1", n)
	}
	if _, err := s.GetIntent("failed-old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed-old still there: %v", err)
	}
	if _, err := s.GetIntent("pending-old"); err != nil {
		t.Fatalf("a pending intent was pruned: %v", err)
	}
}

func TestPruneIntentsClosedStore(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	mustNil(t, err, "Open")
	mustNil(t, s.Close(), "Close")
	_, err = s.PruneIntents(base, base)
	wantErr(t, err, ErrClosed, "PruneIntents on a closed store")
	_, err = s.ExpediteIntents(base)
	wantErr(t, err, ErrClosed, "ExpediteIntents on a closed store")
}

func TestExpediteIntents(t *testing.T) {
	s := newMemStore(t)
	now := base
	mk := func(id, state string, created int, notBefore time.Time) {
		t.Helper()
		_, err := s.PutIntent(Intent{ID: id, Kind: "share", State: state, CreatedAt: base.Add(time.Duration(created) * time.Minute),
			UpdatedAt: base, NotBefore: notBefore, Attempts: 1})
		mustNil(t, err, "PutIntent "+id)
	}
	mk("waiting-1", IntentPending, -3, now.Add(time.Hour))
	mk("waiting-2", IntentPending, -2, now.Add(time.Minute))
	mk("due", IntentPending, -1, now.Add(-time.Minute))
	mk("fresh", IntentPending, 0, time.Time{})
	mk("done", IntentDone, -4, now.Add(time.Hour))

	// The transaction-level call honours its limit, oldest first.
	var n int
	mustNil(t, s.Update(func(tx *Tx) error {
		var err error
		n, err = tx.Intents().Expedite(now, 1)
		return err
	}), "Expedite with a limit")
	if n != 1 {
		t.Fatalf("Expedite(limit 1) changed %d", n)
	}
	if in, _ := s.GetIntent("waiting-1"); !in.NotBefore.Equal(now) {
		t.Fatalf("oldest waiting intent not expedited first: %+v", in)
	}
	if in, _ := s.GetIntent("waiting-2"); !in.NotBefore.Equal(now.Add(time.Minute)) {
		t.Fatalf("limit exceeded: %+v", in)
	}

	n, err := s.ExpediteIntents(now)
	mustNil(t, err, "ExpediteIntents")
	if n != 1 {
		t.Fatalf("ExpediteIntents changed %d, want 1 (waiting-2)", n)
	}
	want := map[string]time.Time{"waiting-1": now, "waiting-2": now, "due": now.Add(-time.Minute), "fresh": {}, "done": now.Add(time.Hour)}
	for id, nb := range want {
		in, err := s.GetIntent(id)
		mustNil(t, err, "GetIntent "+id)
		if !in.NotBefore.Equal(nb) || in.Attempts != 1 || !in.UpdatedAt.Equal(base) {
			t.Errorf("%s after ExpediteIntents = not_before %v attempts %d updated %v; want not_before %v, the rest unchanged",
				id, in.NotBefore, in.Attempts, in.UpdatedAt, nb)
		}
	}
	pending, err := s.PendingIntents()
	mustNil(t, err, "PendingIntents")
	if len(pending) != 4 || pending[0].ID != "waiting-1" {
		t.Fatalf("pending order changed: %+v", pending)
	}
	if n, err := s.ExpediteIntents(now); err != nil || n != 0 {
		t.Fatalf("second ExpediteIntents = %d, %v", n, err)
	}
}
