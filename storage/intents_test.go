package storage

import (
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
