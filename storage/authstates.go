package storage

import (
	"fmt"
	"time"
)

// States is the repository of ephemeral sign-in state (OAuth state, Plex PINs) of a transaction:
// small values under (kind, key) that expire after a TTL and can be taken once.
type States struct{ tx *Tx }

// States returns the ephemeral-state repository of tx.
func (tx *Tx) States() States { return States{tx} }

// stateKey is the key of (kind, key).
func stateKey(kind, key string) []byte { return keyOf("state", kind, key) }

// stateRecord is the stored form of a state.
type stateRecord struct {
	Value     []byte    `json:"value"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Put stores value under (kind, key) for ttl, replacing any previous value.
func (r States) Put(kind, key string, value []byte, ttl time.Duration) error {
	if err := checkSegment("state kind", kind); err != nil {
		return err
	}
	if err := checkLastSegment("state key", key); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("state ttl must be positive: %w", ErrInvalid)
	}
	exp := time.Now().Add(ttl)
	return r.tx.putJSONWithExpiry(stateKey(kind, key), stateRecord{Value: value, ExpiresAt: exp}, ttlExpiresAt(exp))
}

// Take returns the value under (kind, key) and deletes it, so it can be used once. It fails with
// ErrNotFound when the state is missing, already taken or expired. Two concurrent Takes of the same
// state conflict in Badger; after Update's retry the loser gets ErrNotFound.
func (r States) Take(kind, key string) ([]byte, error) {
	if err := checkSegment("state kind", kind); err != nil {
		return nil, err
	}
	if err := checkLastSegment("state key", key); err != nil {
		return nil, err
	}
	var rec stateRecord
	if err := r.tx.getJSON(stateKey(kind, key), &rec); err != nil {
		return nil, fmt.Errorf("%s state: %w", kind, err)
	}
	if !time.Now().Before(rec.ExpiresAt) {
		// Badger's TTL has one-second resolution; the exact expiry is ours. The key goes away with
		// its TTL.
		return nil, fmt.Errorf("%s state expired: %w", kind, ErrNotFound)
	}
	if err := r.tx.del(stateKey(kind, key)); err != nil {
		return nil, err
	}
	return rec.Value, nil
}

// PutState stores value under (kind, key) for ttl (e.g. an OAuth state for ten minutes).
func (s *Store) PutState(kind, key string, value []byte, ttl time.Duration) error {
	return s.Update(func(tx *Tx) error { return tx.States().Put(kind, key, value, ttl) })
}

// TakeState returns and deletes the value under (kind, key): single use. ErrNotFound when missing,
// taken or expired.
func (s *Store) TakeState(kind, key string) ([]byte, error) {
	var out []byte
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.States().Take(kind, key)
		return err
	})
	return out, err
}
