package storage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Users is the user repository of a transaction.
type Users struct{ tx *Tx }

// Users returns the user repository of tx.
func (tx *Tx) Users() Users { return Users{tx} }

// userKey is the record key of user id.
func userKey(id int64) []byte { return keyOf("user", intKey(id)) }

// Index names of users.
const (
	userIdxUsername = "username"
	userIdxEmail    = "email"
	userIdxStatus   = "status"
	userIdxStarts   = "starts"
	userIdxExpires  = "expires"
)

// userIndexPrefix is the scan prefix of one user index value, e.g. idx/user/email/<addr>/.
func userIndexPrefix(index string, value string) []byte {
	return prefixOf("idx", "user", index, value)
}

// startsIndexed reports whether u belongs in the starts index: only scheduled users wait for a start.
func startsIndexed(u User) bool {
	return u.StartsAt != nil && u.Status == StatusScheduled
}

// expiresIndexed reports whether u belongs in the expiry index: users whose access can still end.
func expiresIndexed(u User) bool {
	return u.ExpiresAt != nil && u.Status != StatusExpired && u.Status != StatusRemoved
}

// userIndexKeys lists the index keys of u. Every index key ends in /<id key>; values are empty.
func userIndexKeys(u User) []string {
	id := intKey(u.ID)
	keys := []string{string(keyOf("idx", "user", userIdxStatus, u.Status, id))}
	if name := strings.ToLower(u.Username); name != "" {
		keys = append(keys, string(keyOf("idx", "user", userIdxUsername, name, id)))
	}
	if email := strings.ToLower(strings.TrimSpace(u.Email)); email != "" {
		keys = append(keys, string(keyOf("idx", "user", userIdxEmail, email, id)))
	}
	if startsIndexed(u) {
		keys = append(keys, string(keyOf("idx", "user", userIdxStarts, timeKey(*u.StartsAt), id)))
	}
	if expiresIndexed(u) {
		keys = append(keys, string(keyOf("idx", "user", userIdxExpires, timeKey(*u.ExpiresAt), id)))
	}
	return keys
}

// validateUser checks a user's integrity at the storage boundary.
func validateUser(u User) error {
	if u.ID == 0 {
		return fmt.Errorf("user id is required: %w", ErrInvalid)
	}
	if err := checkOneOf("user kind", u.Kind, KindFriend, KindHome, KindManaged, KindPending); err != nil {
		return err
	}
	return checkOneOf("user status", u.Status, StatusActive, StatusPending, StatusScheduled, StatusExpired, StatusRemoved)
}

// Get returns user id.
func (r Users) Get(id int64) (User, error) {
	var u User
	if err := r.tx.getJSON(userKey(id), &u); err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// Put creates or replaces u and its index entries; stale index entries of the previous version are
// deleted in the same transaction.
func (r Users) Put(u User) error {
	if err := validateUser(u); err != nil {
		return err
	}
	var oldKeys []string
	old, err := r.Get(u.ID)
	switch {
	case err == nil:
		oldKeys = userIndexKeys(old)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := r.tx.putJSON(userKey(u.ID), u); err != nil {
		return fmt.Errorf("user %d: %w", u.ID, err)
	}
	if err := r.tx.replaceIndex(oldKeys, userIndexKeys(u)); err != nil {
		return fmt.Errorf("user %d: %w", u.ID, err)
	}
	r.tx.stageUser(u.ID, &u)
	return nil
}

// Delete removes user id and its index entries; ErrNotFound when absent.
func (r Users) Delete(id int64) error {
	old, err := r.Get(id)
	if err != nil {
		return err
	}
	if err := r.tx.del(userKey(id)); err != nil {
		return err
	}
	if err := r.tx.replaceIndex(userIndexKeys(old), nil); err != nil {
		return fmt.Errorf("user %d: %w", id, err)
	}
	r.tx.stageUser(id, nil)
	return nil
}

// List returns every user in id order.
func (r Users) List() ([]User, error) {
	var users []User
	err := r.tx.scan(prefixOf("user"), nil, false, true, func(item *badger.Item) (bool, error) {
		var u User
		if err := decodeItem(item, &u); err != nil {
			return false, err
		}
		users = append(users, u)
		return true, nil
	})
	return users, err
}

// ByUsername returns the user whose username equals name case-insensitively. If several records
// carry the name, a real plex.tv account (positive id) wins over a pending one, then the lowest id.
func (r Users) ByUsername(name string) (User, error) {
	return r.byIndex(userIdxUsername, strings.ToLower(name), func(u User) string { return strings.ToLower(u.Username) })
}

// ByEmail returns the user whose email equals email case-insensitively, preferring a real account
// over a pending invitee like ByUsername.
func (r Users) ByEmail(email string) (User, error) {
	return r.byIndex(userIdxEmail, strings.ToLower(strings.TrimSpace(email)), func(u User) string {
		return strings.ToLower(strings.TrimSpace(u.Email))
	})
}

// byIndex looks value up in a user index and returns the preferred match.
func (r Users) byIndex(index, value string, field func(User) string) (User, error) {
	if value == "" {
		return User{}, fmt.Errorf("user by %s: empty value: %w", index, ErrInvalid)
	}
	keys, err := r.tx.scanKeys(userIndexPrefix(index, value), 0)
	if err != nil {
		return User{}, err
	}
	var best User
	found := false
	for _, k := range keys {
		id, err := parseIntKey(lastSegment(k))
		if err != nil {
			return User{}, err
		}
		u, err := r.Get(id)
		if err != nil {
			return User{}, fmt.Errorf("user index %s points at a missing record: %w", index, err)
		}
		if field(u) != value { // a value containing '/' can share a prefix with another
			continue
		}
		if !found || preferUser(u, best) {
			best, found = u, true
		}
	}
	if !found {
		return User{}, fmt.Errorf("user with that %s: %w", index, ErrNotFound)
	}
	return best, nil
}

// preferUser reports whether a should be chosen over b: real accounts first, then the lower id.
func preferUser(a, b User) bool {
	if (a.ID > 0) != (b.ID > 0) {
		return a.ID > 0
	}
	return a.ID < b.ID
}

// DueStarts returns, in StartsAt order, the ids of scheduled users whose StartsAt is at or before
// until. Only the index is read.
func (r Users) DueStarts(until time.Time) ([]int64, error) {
	return r.due(userIdxStarts, until)
}

// DueExpiries returns, in ExpiresAt order, the ids of users not yet expired or removed whose ExpiresAt
// is at or before until. Only the index is read.
func (r Users) DueExpiries(until time.Time) ([]int64, error) {
	return r.due(userIdxExpires, until)
}

// due scans a time index up to and including until.
func (r Users) due(index string, until time.Time) ([]int64, error) {
	prefix := prefixOf("idx", "user", index)
	limit := append(append(bytes.Clone(prefix), timeKey(until)...), '/', 0xff)
	var ids []int64
	err := r.tx.scan(prefix, nil, false, false, func(item *badger.Item) (bool, error) {
		k := item.Key()
		if bytes.Compare(k, limit) > 0 {
			return false, nil
		}
		id, err := parseIntKey(lastSegment(k))
		if err != nil {
			return false, err
		}
		ids = append(ids, id)
		return true, nil
	})
	return ids, err
}

// CountByStatus counts users per status from the status index.
func (r Users) CountByStatus() (map[string]int, error) {
	counts := make(map[string]int)
	for _, st := range []string{StatusActive, StatusPending, StatusScheduled, StatusExpired, StatusRemoved} {
		n, err := r.tx.countKeys(userIndexPrefix(userIdxStatus, st))
		if err != nil {
			return nil, err
		}
		if n > 0 {
			counts[st] = n
		}
	}
	return counts, nil
}

// stageUser records a user change for the read model (nil: deleted). The staged copy is private.
func (tx *Tx) stageUser(id int64, u *User) {
	if tx.userChanges == nil {
		tx.userChanges = make(map[int64]*User)
	}
	if u == nil {
		tx.userChanges[id] = nil
		return
	}
	c := u.Clone()
	tx.userChanges[id] = &c
}

// replaceIndex deletes the keys in old that are not in new and writes the keys in new that are not in
// old (with empty values).
func (tx *Tx) replaceIndex(old, new []string) error {
	for _, k := range old {
		if !containsString(new, k) {
			if err := tx.del([]byte(k)); err != nil {
				return err
			}
		}
	}
	for _, k := range new {
		if !containsString(old, k) {
			if err := tx.set(badger.NewEntry([]byte(k), nil)); err != nil {
				return err
			}
		}
	}
	return nil
}

// containsString reports whether list holds s.
func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Store-level one-transaction helpers.

// GetUser returns user id.
func (s *Store) GetUser(id int64) (User, error) {
	var u User
	err := s.View(func(tx *Tx) error {
		var err error
		u, err = tx.Users().Get(id)
		return err
	})
	return u, err
}

// PutUser creates or replaces u.
func (s *Store) PutUser(u User) error {
	return s.Update(func(tx *Tx) error { return tx.Users().Put(u) })
}

// UpdateUser reads user id, lets fn change it and writes it back, atomically (fn may run more than
// once on conflicts, so it must be pure). It returns the stored user.
func (s *Store) UpdateUser(id int64, fn func(*User) error) (User, error) {
	var out User
	err := s.Update(func(tx *Tx) error {
		u, err := tx.Users().Get(id)
		if err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
		if u.ID != id {
			return fmt.Errorf("user %d: the id must not change: %w", id, ErrInvalid)
		}
		if err := tx.Users().Put(u); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// DeleteUser removes user id.
func (s *Store) DeleteUser(id int64) error {
	return s.Update(func(tx *Tx) error { return tx.Users().Delete(id) })
}

// UserByUsername looks a user up by username, case-insensitively.
func (s *Store) UserByUsername(name string) (User, error) {
	var u User
	err := s.View(func(tx *Tx) error {
		var err error
		u, err = tx.Users().ByUsername(name)
		return err
	})
	return u, err
}

// UserByEmail looks a user up by email, case-insensitively.
func (s *Store) UserByEmail(email string) (User, error) {
	var u User
	err := s.View(func(tx *Tx) error {
		var err error
		u, err = tx.Users().ByEmail(email)
		return err
	})
	return u, err
}

// DueStarts returns the ids of scheduled users whose access starts at or before until, in time order.
func (s *Store) DueStarts(until time.Time) ([]int64, error) {
	var ids []int64
	err := s.View(func(tx *Tx) error {
		var err error
		ids, err = tx.Users().DueStarts(until)
		return err
	})
	return ids, err
}

// DueExpiries returns the ids of users (not yet expired or removed) whose access ends at or before
// until, in time order.
func (s *Store) DueExpiries(until time.Time) ([]int64, error) {
	var ids []int64
	err := s.View(func(tx *Tx) error {
		var err error
		ids, err = tx.Users().DueExpiries(until)
		return err
	})
	return ids, err
}
