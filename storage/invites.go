package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Invites is the invite repository of a transaction.
type Invites struct{ tx *Tx }

// Invites returns the invite repository of tx.
func (tx *Tx) Invites() Invites { return Invites{tx} }

// inviteKey is the record key of invite id.
func inviteKey(id string) []byte { return keyOf("invite", id) }

// inviteCodeKey is the unique index of a code, case-insensitive.
func inviteCodeKey(code string) []byte { return keyOf("idx", "invite", "code", strings.ToLower(code)) }

// inviteCreatedKey is the creation-time index entry of inv.
func inviteCreatedKey(inv Invite) []byte {
	return keyOf("idx", "invite", "created", timeKey(inv.CreatedAt), inv.ID)
}

// validateInvite checks an invite's integrity at the storage boundary.
func validateInvite(inv Invite) error {
	if err := checkSegment("invite id", inv.ID); err != nil {
		return err
	}
	if err := checkLastSegment("invite code", inv.Code); err != nil {
		return err
	}
	if inv.Uses < 0 || inv.MaxUses < 0 {
		return fmt.Errorf("invite %s: uses and max_uses must not be negative: %w", inv.ID, ErrInvalid)
	}
	if inv.Discord != "" {
		return checkOneOf("invite discord", inv.Discord, DiscordOff, DiscordOptional, DiscordRequired)
	}
	return nil
}

// Get returns invite id.
func (r Invites) Get(id string) (Invite, error) {
	var inv Invite
	if err := r.tx.getJSON(inviteKey(id), &inv); err != nil {
		return Invite{}, fmt.Errorf("invite %s: %w", id, err)
	}
	return inv, nil
}

// ByCode returns the invite whose code equals code case-insensitively.
func (r Invites) ByCode(code string) (Invite, error) {
	if code == "" {
		return Invite{}, fmt.Errorf("invite code is required: %w", ErrInvalid)
	}
	id, err := r.tx.lookupUnique(inviteCodeKey(code))
	if err != nil {
		return Invite{}, fmt.Errorf("invite by code: %w", err)
	}
	return r.Get(id)
}

// Put creates or replaces an invite. Codes are unique case-insensitively: a code held by another
// invite fails with ErrExists. Changing the code frees the old one.
func (r Invites) Put(inv Invite) error {
	if err := validateInvite(inv); err != nil {
		return err
	}
	old, err := r.Get(inv.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if exists && !strings.EqualFold(old.Code, inv.Code) {
		if err := r.tx.releaseUnique(inviteCodeKey(old.Code), inv.ID); err != nil {
			return err
		}
	}
	if err := r.tx.claimUnique(inviteCodeKey(inv.Code), inv.ID, "invite code"); err != nil {
		return err
	}
	if exists && !old.CreatedAt.Equal(inv.CreatedAt) {
		if err := r.tx.del(inviteCreatedKey(old)); err != nil {
			return err
		}
	}
	if err := r.tx.set(badger.NewEntry(inviteCreatedKey(inv), nil)); err != nil {
		return err
	}
	if err := r.tx.putJSON(inviteKey(inv.ID), inv); err != nil {
		return fmt.Errorf("invite %s: %w", inv.ID, err)
	}
	return nil
}

// Delete removes invite id and its index entries (its redemptions stay, as history).
func (r Invites) Delete(id string) error {
	old, err := r.Get(id)
	if err != nil {
		return err
	}
	if err := r.tx.releaseUnique(inviteCodeKey(old.Code), id); err != nil {
		return err
	}
	if err := r.tx.del(inviteCreatedKey(old)); err != nil {
		return err
	}
	return r.tx.del(inviteKey(id))
}

// List returns every invite, newest (by CreatedAt) first.
func (r Invites) List() ([]Invite, error) {
	var ids []string
	err := r.tx.scan(prefixOf("idx", "invite", "created"), nil, true, false, func(item *badger.Item) (bool, error) {
		ids = append(ids, lastSegment(item.Key()))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Invite, 0, len(ids))
	for _, id := range ids {
		inv, err := r.Get(id)
		if err != nil {
			return nil, fmt.Errorf("invite index points at a missing record: %w", err)
		}
		out = append(out, inv)
	}
	return out, nil
}

// ReserveUse takes one use of invite id atomically: it increments Uses only if the invite is Enabled,
// not expired at now, and below MaxUses (0: unlimited). Otherwise it fails with ErrInviteDisabled,
// ErrInviteExpired, ErrInviteUsedUp or ErrNotFound and changes nothing. Concurrent reservations of
// the last use conflict in Badger; Update retries the loser, which then sees the invite used up.
func (r Invites) ReserveUse(id string, now time.Time) (Invite, error) {
	inv, err := r.Get(id)
	if err != nil {
		return Invite{}, err
	}
	if err := InviteUsable(inv, now); err != nil {
		return Invite{}, fmt.Errorf("invite %s: %w", id, err)
	}
	inv.Uses++
	if err := r.tx.putJSON(inviteKey(id), inv); err != nil {
		return Invite{}, fmt.Errorf("invite %s: %w", id, err)
	}
	return inv, nil
}

// InviteUsable reports why inv cannot be used at now (ErrInviteDisabled, ErrInviteExpired,
// ErrInviteUsedUp), or nil.
func InviteUsable(inv Invite, now time.Time) error {
	switch {
	case !inv.Enabled:
		return ErrInviteDisabled
	case inv.ExpiresAt != nil && !now.Before(*inv.ExpiresAt):
		return ErrInviteExpired
	case inv.MaxUses > 0 && inv.Uses >= inv.MaxUses:
		return ErrInviteUsedUp
	}
	return nil
}

// ReleaseUse gives back one use taken by ReserveUse (a redemption that failed); Uses never drops
// below zero.
func (r Invites) ReleaseUse(id string) (Invite, error) {
	inv, err := r.Get(id)
	if err != nil {
		return Invite{}, err
	}
	if inv.Uses > 0 {
		inv.Uses--
		if err := r.tx.putJSON(inviteKey(id), inv); err != nil {
			return Invite{}, fmt.Errorf("invite %s: %w", id, err)
		}
	}
	return inv, nil
}

// GetInvite returns invite id.
func (s *Store) GetInvite(id string) (Invite, error) {
	var out Invite
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Invites().Get(id)
		return err
	})
	return out, err
}

// InviteByCode returns the invite with code (case-insensitive).
func (s *Store) InviteByCode(code string) (Invite, error) {
	var out Invite
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Invites().ByCode(code)
		return err
	})
	return out, err
}

// PutInvite creates or replaces an invite (ErrExists when its code is taken).
func (s *Store) PutInvite(inv Invite) error {
	return s.Update(func(tx *Tx) error { return tx.Invites().Put(inv) })
}

// DeleteInvite removes invite id.
func (s *Store) DeleteInvite(id string) error {
	return s.Update(func(tx *Tx) error { return tx.Invites().Delete(id) })
}

// ListInvites returns every invite, newest first.
func (s *Store) ListInvites() ([]Invite, error) {
	var out []Invite
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Invites().List()
		return err
	})
	return out, err
}

// ReserveInviteUse takes one use of invite id in its own transaction (see Invites.ReserveUse).
func (s *Store) ReserveInviteUse(id string, now time.Time) (Invite, error) {
	var out Invite
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.Invites().ReserveUse(id, now)
		return err
	})
	return out, err
}

// ReleaseInviteUse gives back one use of invite id in its own transaction.
func (s *Store) ReleaseInviteUse(id string) (Invite, error) {
	var out Invite
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.Invites().ReleaseUse(id)
		return err
	})
	return out, err
}
