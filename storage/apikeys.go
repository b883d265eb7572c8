package storage

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// touchInterval rate-limits TouchAPIKey: a key's LastUsedAt is written at most once per interval.
const touchInterval = time.Minute

// APIKeys is the REST API key repository of a transaction.
type APIKeys struct{ tx *Tx }

// APIKeys returns the API key repository of tx.
func (tx *Tx) APIKeys() APIKeys { return APIKeys{tx} }

// apiKeyKey is the record key of key id.
func apiKeyKey(id string) []byte { return keyOf("apikey", id) }

// apiKeyHashKey is the unique index of a key's hash.
func apiKeyHashKey(hash string) []byte { return keyOf("idx", "apikey", "hash", hash) }

// validateAPIKey checks a key's integrity at the storage boundary.
func validateAPIKey(k APIKey) error {
	if err := checkSegment("api key id", k.ID); err != nil {
		return err
	}
	if err := checkLastSegment("api key hash", k.Hash); err != nil {
		return err
	}
	return checkOneOf("api key role", k.Role, RoleAdmin, RoleModerator, RoleAuditor)
}

// Get returns key id.
func (r APIKeys) Get(id string) (APIKey, error) {
	var k APIKey
	if err := r.tx.getJSON(apiKeyKey(id), &k); err != nil {
		return APIKey{}, fmt.Errorf("api key %s: %w", id, err)
	}
	return k, nil
}

// ByHash returns the key whose Hash is hash, revoked or not (the caller checks RevokedAt).
func (r APIKeys) ByHash(hash string) (APIKey, error) {
	if hash == "" {
		return APIKey{}, fmt.Errorf("api key hash is required: %w", ErrInvalid)
	}
	id, err := r.tx.lookupUnique(apiKeyHashKey(hash))
	if err != nil {
		return APIKey{}, fmt.Errorf("api key by hash: %w", err)
	}
	return r.Get(id)
}

// Put creates or replaces a key. Hashes are unique (ErrExists); the hash of an existing key cannot
// change.
func (r APIKeys) Put(k APIKey) error {
	if err := validateAPIKey(k); err != nil {
		return err
	}
	old, err := r.Get(k.ID)
	if err == nil && old.Hash != k.Hash {
		return fmt.Errorf("api key %s: the hash must not change: %w", k.ID, ErrInvalid)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := r.tx.claimUnique(apiKeyHashKey(k.Hash), k.ID, "api key hash"); err != nil {
		return err
	}
	return r.tx.putJSON(apiKeyKey(k.ID), k)
}

// List returns every key, oldest first.
func (r APIKeys) List() ([]APIKey, error) {
	var out []APIKey
	err := r.tx.scan(prefixOf("apikey"), nil, false, true, func(item *badger.Item) (bool, error) {
		var k APIKey
		if err := decodeItem(item, &k); err != nil {
			return false, err
		}
		out = append(out, k)
		return true, nil
	})
	slices.SortFunc(out, func(a, b APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// Revoke marks key id revoked at now (idempotent: the first revocation time stays).
func (r APIKeys) Revoke(id string, now time.Time) (APIKey, error) {
	k, err := r.Get(id)
	if err != nil {
		return APIKey{}, err
	}
	if k.RevokedAt == nil {
		k.RevokedAt = &now
		if err := r.tx.putJSON(apiKeyKey(id), k); err != nil {
			return APIKey{}, err
		}
	}
	return k, nil
}

// Delete removes key id and its hash index.
func (r APIKeys) Delete(id string) error {
	k, err := r.Get(id)
	if err != nil {
		return err
	}
	if err := r.tx.releaseUnique(apiKeyHashKey(k.Hash), id); err != nil {
		return err
	}
	return r.tx.del(apiKeyKey(id))
}

// TouchLastUsed sets LastUsedAt of key id to now if it is later than the recorded one.
func (r APIKeys) TouchLastUsed(id string, now time.Time) error {
	k, err := r.Get(id)
	if err != nil {
		return err
	}
	if k.LastUsedAt != nil && !now.After(*k.LastUsedAt) {
		return nil
	}
	k.LastUsedAt = &now
	return r.tx.putJSON(apiKeyKey(id), k)
}

// PutAPIKey creates or replaces a key.
func (s *Store) PutAPIKey(k APIKey) error {
	return s.Update(func(tx *Tx) error { return tx.APIKeys().Put(k) })
}

// APIKeyByHash returns the key with that hash, revoked or not.
func (s *Store) APIKeyByHash(hash string) (APIKey, error) {
	var out APIKey
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.APIKeys().ByHash(hash)
		return err
	})
	return out, err
}

// ListAPIKeys returns every key, oldest first.
func (s *Store) ListAPIKeys() ([]APIKey, error) {
	var out []APIKey
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.APIKeys().List()
		return err
	})
	return out, err
}

// RevokeAPIKey marks key id revoked at now.
func (s *Store) RevokeAPIKey(id string, now time.Time) (APIKey, error) {
	var out APIKey
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.APIKeys().Revoke(id, now)
		return err
	})
	return out, err
}

// DeleteAPIKey removes key id.
func (s *Store) DeleteAPIKey(id string) error {
	return s.Update(func(tx *Tx) error { return tx.APIKeys().Delete(id) })
}

// TouchAPIKey records that key id was used at now. It is cheap on the request path: per key, it
// writes at most once per minute and otherwise returns at once without touching the database.
func (s *Store) TouchAPIKey(id string, now time.Time) error {
	s.touchMu.Lock()
	last, ok := s.touched[id]
	if ok && now.Sub(last) < touchInterval && !now.Before(last) {
		s.touchMu.Unlock()
		return nil
	}
	s.touched[id] = now
	s.touchMu.Unlock()
	err := s.Update(func(tx *Tx) error { return tx.APIKeys().TouchLastUsed(id, now) })
	if err != nil {
		s.touchMu.Lock()
		if s.touched[id].Equal(now) {
			delete(s.touched, id) // let the next call try again
		}
		s.touchMu.Unlock()
	}
	return err
}
