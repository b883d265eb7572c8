package storage

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Admins is the admin-account repository of a transaction.
type Admins struct{ tx *Tx }

// Admins returns the admin repository of tx.
func (tx *Tx) Admins() Admins { return Admins{tx} }

// adminKey is the record key of admin id.
func adminKey(id string) []byte { return keyOf("admin", id) }

// adminUsernameKey is the unique, case-insensitive username index.
func adminUsernameKey(name string) []byte {
	return keyOf("idx", "admin", "username", strings.ToLower(name))
}

// adminPlexKey is the unique plex.tv account index.
func adminPlexKey(plexID int64) []byte { return keyOf("idx", "admin", "plex", intKey(plexID)) }

// validateAdmin checks an admin's integrity at the storage boundary.
func validateAdmin(a Admin) error {
	if err := checkSegment("admin id", a.ID); err != nil {
		return err
	}
	if err := checkLastSegment("admin username", a.Username); err != nil {
		return err
	}
	return checkOneOf("admin role", a.Role, RoleAdmin, RoleModerator, RoleAuditor)
}

// Get returns admin id.
func (r Admins) Get(id string) (Admin, error) {
	var a Admin
	if err := r.tx.getJSON(adminKey(id), &a); err != nil {
		return Admin{}, fmt.Errorf("admin %s: %w", id, err)
	}
	return a, nil
}

// ByUsername returns the admin whose username equals name case-insensitively.
func (r Admins) ByUsername(name string) (Admin, error) {
	if name == "" {
		return Admin{}, fmt.Errorf("admin username is required: %w", ErrInvalid)
	}
	id, err := r.tx.lookupUnique(adminUsernameKey(name))
	if err != nil {
		return Admin{}, fmt.Errorf("admin by username: %w", err)
	}
	return r.Get(id)
}

// ByPlexID returns the admin linked to a plex.tv account.
func (r Admins) ByPlexID(plexID int64) (Admin, error) {
	if plexID == 0 {
		return Admin{}, fmt.Errorf("plex account id is required: %w", ErrInvalid)
	}
	id, err := r.tx.lookupUnique(adminPlexKey(plexID))
	if err != nil {
		return Admin{}, fmt.Errorf("admin by plex account %d: %w", plexID, err)
	}
	return r.Get(id)
}

// Put creates or replaces an admin. Usernames (case-insensitive) and linked plex.tv accounts are
// unique: one held by another admin fails with ErrExists.
func (r Admins) Put(a Admin) error {
	if err := validateAdmin(a); err != nil {
		return err
	}
	old, err := r.Get(a.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if exists && !strings.EqualFold(old.Username, a.Username) {
		if err := r.tx.releaseUnique(adminUsernameKey(old.Username), a.ID); err != nil {
			return err
		}
	}
	if exists && old.PlexID != 0 && old.PlexID != a.PlexID {
		if err := r.tx.releaseUnique(adminPlexKey(old.PlexID), a.ID); err != nil {
			return err
		}
	}
	if err := r.tx.claimUnique(adminUsernameKey(a.Username), a.ID, fmt.Sprintf("admin username %q", a.Username)); err != nil {
		return err
	}
	if a.PlexID != 0 {
		if err := r.tx.claimUnique(adminPlexKey(a.PlexID), a.ID, "plex account "+strconv.FormatInt(a.PlexID, 10)+" is linked to another admin"); err != nil {
			return err
		}
	}
	return r.tx.putJSON(adminKey(a.ID), a)
}

// Delete removes admin id and its index entries. It does not end the admin's sessions: call
// Sessions.DeleteByAdmin in the same transaction for that.
func (r Admins) Delete(id string) error {
	old, err := r.Get(id)
	if err != nil {
		return err
	}
	if err := r.tx.releaseUnique(adminUsernameKey(old.Username), id); err != nil {
		return err
	}
	if old.PlexID != 0 {
		if err := r.tx.releaseUnique(adminPlexKey(old.PlexID), id); err != nil {
			return err
		}
	}
	return r.tx.del(adminKey(id))
}

// List returns every admin ordered by username (case-insensitive).
func (r Admins) List() ([]Admin, error) {
	var out []Admin
	err := r.tx.scan(prefixOf("admin"), nil, false, true, func(item *badger.Item) (bool, error) {
		var a Admin
		if err := decodeItem(item, &a); err != nil {
			return false, err
		}
		out = append(out, a)
		return true, nil
	})
	slices.SortFunc(out, func(a, b Admin) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username)), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// Count returns the number of admins (reading keys only).
func (r Admins) Count() (int, error) {
	return r.tx.countKeys(prefixOf("admin"))
}

// GetAdmin returns admin id.
func (s *Store) GetAdmin(id string) (Admin, error) {
	var out Admin
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Admins().Get(id)
		return err
	})
	return out, err
}

// AdminByUsername returns the admin with that username (case-insensitive).
func (s *Store) AdminByUsername(name string) (Admin, error) {
	var out Admin
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Admins().ByUsername(name)
		return err
	})
	return out, err
}

// AdminByPlexID returns the admin linked to a plex.tv account.
func (s *Store) AdminByPlexID(plexID int64) (Admin, error) {
	var out Admin
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Admins().ByPlexID(plexID)
		return err
	})
	return out, err
}

// PutAdmin creates or replaces an admin.
func (s *Store) PutAdmin(a Admin) error {
	return s.Update(func(tx *Tx) error { return tx.Admins().Put(a) })
}

// DeleteAdmin removes admin id and ends all of their sessions, atomically.
func (s *Store) DeleteAdmin(id string) error {
	return s.Update(func(tx *Tx) error {
		if err := tx.Admins().Delete(id); err != nil {
			return err
		}
		_, err := tx.Sessions().DeleteByAdmin(id)
		return err
	})
}

// ListAdmins returns every admin ordered by username.
func (s *Store) ListAdmins() ([]Admin, error) {
	var out []Admin
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Admins().List()
		return err
	})
	return out, err
}

// CountAdmins returns the number of admins (0 means the setup wizard has not run).
func (s *Store) CountAdmins() (int, error) {
	var n int
	err := s.View(func(tx *Tx) error {
		var err error
		n, err = tx.Admins().Count()
		return err
	})
	return n, err
}
