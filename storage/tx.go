package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Retry policy of Update on write conflicts.
const (
	updateAttempts = 12
	retryBaseDelay = time.Millisecond
	retryMaxDelay  = 64 * time.Millisecond
)

// Tx is one Badger transaction with typed repositories. A Tx is valid only inside the closure given to
// View or Update and must not be used from other goroutines.
type Tx struct {
	txn      *badger.Txn
	store    *Store
	writable bool
	// userChanges stages the read-model changes of this attempt: id → new user, or nil if deleted.
	// Applied only after a successful commit.
	userChanges map[int64]*User
	// appended are the events this attempt appended, announced to subscribers after the commit.
	appended []Event
}

// View runs fn in a read-only transaction. Errors from fn are returned unchanged.
func (s *Store) View(fn func(*Tx) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return fn(&Tx{txn: txn, store: s})
}

// Update runs fn in a read-write transaction and commits it. When the commit hits a write conflict
// (another transaction changed something fn read), Update runs fn again on a fresh transaction, up to
// a dozen times with jittered exponential backoff. fn must therefore be pure: it may run more than
// once, so it must not call Plex, send mail, log side effects or change state outside the Tx. If fn
// returns an error, nothing is written and the error is returned unchanged.
func (s *Store) Update(fn func(*Tx) error) error {
	var err error
	for attempt := range updateAttempts {
		if attempt > 0 {
			time.Sleep(retryDelay(attempt))
		}
		err = s.updateOnce(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("transaction still conflicting after %d attempts: %w", updateAttempts, err)
}

// retryDelay is the jittered backoff before attempt n (n ≥ 1): base·2ⁿ⁻¹ capped, times 0.5–1.5.
func retryDelay(n int) time.Duration {
	d := retryBaseDelay << (n - 1)
	if d > retryMaxDelay || d <= 0 {
		d = retryMaxDelay
	}
	return d/2 + rand.N(d)
}

// updateOnce runs one attempt of Update.
func (s *Store) updateOnce(fn func(*Tx) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.guard.admit(); err != nil {
		return err
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	tx := &Tx{txn: txn, store: s, writable: true}
	if err := fn(tx); err != nil {
		return err
	}
	if len(tx.userChanges) == 0 {
		if err := txn.Commit(); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
		s.gen.Add(1)
		s.announce(tx.appended)
		return nil
	}
	// Commit and read-model update under one lock, so two user-writing transactions reach the read
	// model in the order Badger committed them.
	s.userMu.Lock()
	if err := txn.Commit(); err != nil {
		s.userMu.Unlock()
		return fmt.Errorf("committing: %w", err)
	}
	s.applyUserChanges(tx.userChanges)
	s.gen.Add(1)
	s.userMu.Unlock()
	s.announce(tx.appended)
	return nil
}

// getJSON decodes the value at key into v; ErrNotFound when absent or expired. Decoding happens inside
// Badger's callback and copies everything out of Badger's buffer.
func (tx *Tx) getJSON(key []byte, v any) error {
	item, err := tx.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decoding %s: %w", item.Key(), err)
		}
		return nil
	})
}

// getRaw returns a copy of the value at key; ErrNotFound when absent or expired.
func (tx *Tx) getRaw(key []byte) ([]byte, error) {
	item, err := tx.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// exists reports whether key is present.
func (tx *Tx) exists(key []byte) (bool, error) {
	_, err := tx.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// putJSON stores v as JSON at key.
func (tx *Tx) putJSON(key []byte, v any) error {
	b, err := jsonMarshal(key, v)
	if err != nil {
		return err
	}
	return tx.set(badger.NewEntry(key, b))
}

// jsonMarshal encodes the value of key.
func jsonMarshal(key []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", key, err)
	}
	return b, nil
}

// set writes an entry.
func (tx *Tx) set(e *badger.Entry) error {
	if err := tx.txn.SetEntry(e); err != nil {
		return fmt.Errorf("writing %s: %w", e.Key, err)
	}
	return nil
}

// del deletes key (no error when absent).
func (tx *Tx) del(key []byte) error {
	if err := tx.txn.Delete(key); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	return nil
}

// scan iterates the keys under prefix in key order (reverse: descending), starting at start (nil: the
// first, or in reverse the last, key under prefix; in reverse the largest key ≤ start). fn gets each
// item and returns false to stop. Items are only valid inside fn. Values are prefetched when values
// is set.
func (tx *Tx) scan(prefix, start []byte, reverse, values bool, fn func(*badger.Item) (bool, error)) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.Reverse = reverse
	opts.PrefetchValues = values
	opts.PrefetchSize = 16
	it := tx.txn.NewIterator(opts)
	defer it.Close()
	seek := start
	if seek == nil {
		seek = prefix
		if reverse {
			seek = append(append(make([]byte, 0, len(prefix)+1), prefix...), 0xff)
		}
	}
	for it.Seek(seek); it.Valid(); it.Next() {
		more, err := fn(it.Item())
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// scanKeys returns copies of the keys under prefix (at most limit when limit > 0).
func (tx *Tx) scanKeys(prefix []byte, limit int) ([][]byte, error) {
	var keys [][]byte
	err := tx.scan(prefix, nil, false, false, func(item *badger.Item) (bool, error) {
		keys = append(keys, item.KeyCopy(nil))
		return limit <= 0 || len(keys) < limit, nil
	})
	return keys, err
}

// countKeys counts the keys under prefix without reading values.
func (tx *Tx) countKeys(prefix []byte) (int, error) {
	n := 0
	err := tx.scan(prefix, nil, false, false, func(*badger.Item) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// decodeItem decodes an iterated item's JSON value into v.
func decodeItem(item *badger.Item, v any) error {
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decoding %s: %w", item.Key(), err)
		}
		return nil
	})
}
