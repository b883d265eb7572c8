package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Intents is the outbox repository of a transaction: each Plex change is written as a pending intent
// before the call and marked done or failed after it, so a crash in between is found by Pending at
// the next start.
type Intents struct{ tx *Tx }

// Intents returns the intent repository of tx.
func (tx *Tx) Intents() Intents { return Intents{tx} }

// intentKey is the record key of intent id.
func intentKey(id string) []byte { return keyOf("intent", id) }

// intentPendingKey is the pending-index entry of in (oldest first).
func intentPendingKey(in Intent) []byte {
	return keyOf("idx", "intent", "pending", timeKey(in.CreatedAt), in.ID)
}

// validateIntent checks an intent's integrity at the storage boundary.
func validateIntent(in Intent) error {
	if err := checkSegment("intent id", in.ID); err != nil {
		return err
	}
	if in.Kind == "" {
		return fmt.Errorf("intent %s: kind is required: %w", in.ID, ErrInvalid)
	}
	if in.CreatedAt.IsZero() {
		return fmt.Errorf("intent %s: created_at is required: %w", in.ID, ErrInvalid)
	}
	return checkOneOf("intent state", in.State, IntentPending, IntentDone, IntentFailed)
}

// Get returns intent id.
func (r Intents) Get(id string) (Intent, error) {
	var in Intent
	if err := r.tx.getJSON(intentKey(id), &in); err != nil {
		return Intent{}, fmt.Errorf("intent %s: %w", id, err)
	}
	return in, nil
}

// Put creates or replaces an intent; it is in the pending index exactly while its State is pending.
func (r Intents) Put(in Intent) error {
	if err := validateIntent(in); err != nil {
		return err
	}
	old, err := r.Get(in.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err == nil && old.State == IntentPending && (in.State != IntentPending || !old.CreatedAt.Equal(in.CreatedAt)) {
		if err := r.tx.del(intentPendingKey(old)); err != nil {
			return err
		}
	}
	if in.State == IntentPending {
		if err := r.tx.set(badger.NewEntry(intentPendingKey(in), nil)); err != nil {
			return err
		}
	}
	return r.tx.putJSON(intentKey(in.ID), in)
}

// Delete removes intent id.
func (r Intents) Delete(id string) error {
	old, err := r.Get(id)
	if err != nil {
		return err
	}
	if old.State == IntentPending {
		if err := r.tx.del(intentPendingKey(old)); err != nil {
			return err
		}
	}
	return r.tx.del(intentKey(id))
}

// Pending returns every pending intent, oldest first (including those whose NotBefore is later; the
// caller decides when to retry).
func (r Intents) Pending() ([]Intent, error) {
	keys, err := r.tx.scanKeys(prefixOf("idx", "intent", "pending"), 0)
	if err != nil {
		return nil, err
	}
	out := make([]Intent, 0, len(keys))
	for _, k := range keys {
		in, err := r.Get(lastSegment(k))
		if err != nil {
			return nil, fmt.Errorf("intent index points at a missing record: %w", err)
		}
		out = append(out, in)
	}
	return out, nil
}

// MarkDone records that intent id was carried out: state done, one more attempt.
func (r Intents) MarkDone(id string, now time.Time) (Intent, error) {
	return r.finish(id, IntentDone, "", now)
}

// MarkFailed records that intent id failed for good: state failed, one more attempt, the error kept.
// Use Retry instead to keep it pending for another attempt.
func (r Intents) MarkFailed(id, lastErr string, now time.Time) (Intent, error) {
	return r.finish(id, IntentFailed, lastErr, now)
}

// Retry records a failed attempt of intent id that should be tried again after notBefore: it stays
// pending, Attempts grows by one and the error is kept.
func (r Intents) Retry(id, lastErr string, notBefore, now time.Time) (Intent, error) {
	in, err := r.Get(id)
	if err != nil {
		return Intent{}, err
	}
	if in.State != IntentPending {
		return Intent{}, fmt.Errorf("intent %s is %s, not pending: %w", id, in.State, ErrInvalid)
	}
	in.Attempts++
	in.LastError = lastErr
	in.NotBefore = notBefore
	in.UpdatedAt = now
	return in, r.Put(in)
}

// finish moves intent id to a final state.
func (r Intents) finish(id, state, lastErr string, now time.Time) (Intent, error) {
	in, err := r.Get(id)
	if err != nil {
		return Intent{}, err
	}
	in.State = state
	in.Attempts++
	if lastErr != "" {
		in.LastError = lastErr
	}
	in.UpdatedAt = now
	return in, r.Put(in)
}

// PutIntent creates or replaces an intent; an empty ID gets a random one. It returns the stored intent.
func (s *Store) PutIntent(in Intent) (Intent, error) {
	if in.ID == "" {
		in.ID = NewID()
	}
	return in, s.Update(func(tx *Tx) error { return tx.Intents().Put(in) })
}

// GetIntent returns intent id.
func (s *Store) GetIntent(id string) (Intent, error) {
	var out Intent
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Intents().Get(id)
		return err
	})
	return out, err
}

// PendingIntents returns every pending intent, oldest first.
func (s *Store) PendingIntents() ([]Intent, error) {
	var out []Intent
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Intents().Pending()
		return err
	})
	return out, err
}

// MarkIntentDone records that intent id was carried out.
func (s *Store) MarkIntentDone(id string, now time.Time) (Intent, error) {
	var out Intent
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.Intents().MarkDone(id, now)
		return err
	})
	return out, err
}

// MarkIntentFailed records that intent id failed for good.
func (s *Store) MarkIntentFailed(id, lastErr string, now time.Time) (Intent, error) {
	var out Intent
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.Intents().MarkFailed(id, lastErr, now)
		return err
	})
	return out, err
}

// RetryIntent records a failed attempt of intent id to be retried after notBefore.
func (s *Store) RetryIntent(id, lastErr string, notBefore, now time.Time) (Intent, error) {
	var out Intent
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.Intents().Retry(id, lastErr, notBefore, now)
		return err
	})
	return out, err
}
