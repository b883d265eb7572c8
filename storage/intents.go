package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// intentBatch bounds the intents one transaction of PruneIntents or ExpediteIntents changes.
const intentBatch = 500

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

// Expedite makes up to limit pending intents that wait for their backoff (NotBefore after now) due at
// now, oldest first, so the next pass retries them; limit ≤ 0 means all. It returns how many it changed.
func (r Intents) Expedite(now time.Time, limit int) (int, error) {
	pending, err := r.Pending()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range pending {
		if limit > 0 && n >= limit {
			break
		}
		if !in.NotBefore.After(now) {
			continue
		}
		in.NotBefore = now
		if err := r.Put(in); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// finishedOlder reports whether in is finished and was last updated before the cut-off of its state.
func finishedOlder(in Intent, doneBefore, failedBefore time.Time) bool {
	switch in.State {
	case IntentDone:
		return in.UpdatedAt.Before(doneBefore)
	case IntentFailed:
		return in.UpdatedAt.Before(failedBefore)
	}
	return false
}

// finishedAfter lists up to limit finished intents older than their cut-off (see PruneIntents) among
// the records after the intent id after ("": from the first), in id order. next is the id to resume
// from, "" when the scan reached the last record.
func (r Intents) finishedAfter(doneBefore, failedBefore time.Time, after string, limit int) (ids []string, next string, err error) {
	prefix := prefixOf("intent")
	var start []byte
	if after != "" {
		start = append(intentKey(after), 0)
	}
	err = r.tx.scan(prefix, start, false, true, func(item *badger.Item) (bool, error) {
		id := lastSegment(item.Key())
		var in Intent
		if err := decodeItem(item, &in); err != nil {
			return false, err
		}
		if finishedOlder(in, doneBefore, failedBefore) {
			ids = append(ids, id)
		}
		if limit > 0 && len(ids) >= limit {
			next = id
			return false, nil
		}
		return true, nil
	})
	return ids, next, err
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

// ExpediteIntents makes every pending intent that waits for its backoff due at now (see
// Intents.Expedite), in transactions of at most a few hundred intents. It returns how many it changed.
func (s *Store) ExpediteIntents(now time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := s.Update(func(tx *Tx) error {
			var err error
			n, err = tx.Intents().Expedite(now, intentBatch)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("making retries due: %w", err)
		}
		if n < intentBatch {
			return total, nil
		}
	}
}

// PruneIntents deletes finished intents: done ones last updated before doneBefore and failed ones last
// updated before failedBefore. Pending intents are never deleted. It reads the records in a read-only
// transaction and deletes at most a few hundred per read-write transaction (each checked again
// there, so an intent changed in between is kept). It returns how many it deleted.
func (s *Store) PruneIntents(doneBefore, failedBefore time.Time) (int, error) {
	total, after := 0, ""
	for {
		var ids []string
		var next string
		err := s.View(func(tx *Tx) error {
			var err error
			ids, next, err = tx.Intents().finishedAfter(doneBefore, failedBefore, after, intentBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("finding finished intents: %w", err)
		}
		var n int
		err = s.Update(func(tx *Tx) error {
			n = 0
			r := tx.Intents()
			for _, id := range ids {
				in, err := r.Get(id)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !finishedOlder(in, doneBefore, failedBefore) {
					continue
				}
				if err := r.Delete(id); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("deleting finished intents: %w", err)
		}
		total += n
		if next == "" {
			return total, nil
		}
		after = next
	}
}
