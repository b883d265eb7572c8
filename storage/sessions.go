package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Sessions is the browser-session repository of a transaction. Sessions are keyed by the hash of the
// cookie token (the caller hashes), expire through Badger's TTL at their Expiry, and are indexed by
// admin so an admin can be signed out everywhere.
type Sessions struct{ tx *Tx }

// Sessions returns the session repository of tx.
func (tx *Tx) Sessions() Sessions { return Sessions{tx} }

// sessionKey is the record key of a token hash.
func sessionKey(tokenHash string) []byte { return keyOf("session", tokenHash) }

// sessionAdminKey is the by-admin index entry of a session.
func sessionAdminKey(adminID, tokenHash string) []byte {
	return keyOf("idx", "session", "admin", adminID, tokenHash)
}

// ttlExpiresAt converts an absolute expiry to Badger's ExpiresAt (Unix seconds, rounded up so the
// key never vanishes before t; Find and TakeState check the exact time).
func ttlExpiresAt(t time.Time) uint64 {
	return uint64(t.Add(time.Second - time.Nanosecond).Unix())
}

// Find returns the session of tokenHash; ErrNotFound when absent or expired.
func (r Sessions) Find(tokenHash string) (Session, error) {
	if err := checkSegment("session token hash", tokenHash); err != nil {
		return Session{}, err
	}
	var s Session
	if err := r.tx.getJSON(sessionKey(tokenHash), &s); err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if !time.Now().Before(s.Expiry) {
		return Session{}, fmt.Errorf("session expired: %w", ErrNotFound)
	}
	return s, nil
}

// Commit creates or replaces the session of tokenHash, to expire at sess.Expiry. A session whose
// Expiry has passed is deleted instead.
func (r Sessions) Commit(tokenHash string, sess Session) error {
	if err := checkSegment("session token hash", tokenHash); err != nil {
		return err
	}
	if sess.AdminID != "" {
		if err := checkSegment("session admin id", sess.AdminID); err != nil {
			return err
		}
	}
	if !time.Now().Before(sess.Expiry) {
		return r.Delete(tokenHash)
	}
	var old Session
	err := r.tx.getJSON(sessionKey(tokenHash), &old)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err == nil && old.AdminID != "" && old.AdminID != sess.AdminID {
		if err := r.tx.del(sessionAdminKey(old.AdminID, tokenHash)); err != nil {
			return err
		}
	}
	exp := ttlExpiresAt(sess.Expiry)
	if err := r.tx.putJSONWithExpiry(sessionKey(tokenHash), sess, exp); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if sess.AdminID != "" {
		e := badger.NewEntry(sessionAdminKey(sess.AdminID, tokenHash), nil)
		e.ExpiresAt = exp
		if err := r.tx.set(e); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the session of tokenHash (no error when absent).
func (r Sessions) Delete(tokenHash string) error {
	if err := checkSegment("session token hash", tokenHash); err != nil {
		return err
	}
	var old Session
	err := r.tx.getJSON(sessionKey(tokenHash), &old)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if old.AdminID != "" {
		if err := r.tx.del(sessionAdminKey(old.AdminID, tokenHash)); err != nil {
			return err
		}
	}
	return r.tx.del(sessionKey(tokenHash))
}

// DeleteByAdmin removes every session of admin adminID and returns how many there were.
func (r Sessions) DeleteByAdmin(adminID string) (int, error) {
	if err := checkSegment("admin id", adminID); err != nil {
		return 0, err
	}
	keys, err := r.tx.scanKeys(prefixOf("idx", "session", "admin", adminID), 0)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := r.tx.del(sessionKey(lastSegment(k))); err != nil {
			return 0, err
		}
		if err := r.tx.del(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// putJSONWithExpiry stores v as JSON at key with a Badger expiry (Unix seconds).
func (tx *Tx) putJSONWithExpiry(key []byte, v any, expiresAt uint64) error {
	b, err := jsonMarshal(key, v)
	if err != nil {
		return err
	}
	e := badger.NewEntry(key, b)
	e.ExpiresAt = expiresAt
	return tx.set(e)
}

// FindSession returns the session of tokenHash; ErrNotFound when absent or expired.
func (s *Store) FindSession(tokenHash string) (Session, error) {
	var out Session
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Sessions().Find(tokenHash)
		return err
	})
	return out, err
}

// CommitSession creates or replaces the session of tokenHash.
func (s *Store) CommitSession(tokenHash string, sess Session) error {
	return s.Update(func(tx *Tx) error { return tx.Sessions().Commit(tokenHash, sess) })
}

// DeleteSession removes the session of tokenHash.
func (s *Store) DeleteSession(tokenHash string) error {
	return s.Update(func(tx *Tx) error { return tx.Sessions().Delete(tokenHash) })
}

// DeleteSessionsByAdmin signs admin adminID out everywhere and returns how many sessions ended.
func (s *Store) DeleteSessionsByAdmin(adminID string) (int, error) {
	var n int
	err := s.Update(func(tx *Tx) error {
		var err error
		n, err = tx.Sessions().DeleteByAdmin(adminID)
		return err
	})
	return n, err
}
