package storage

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Redemptions is the redemption repository of a transaction.
type Redemptions struct{ tx *Tx }

// Redemptions returns the redemption repository of tx.
func (tx *Tx) Redemptions() Redemptions { return Redemptions{tx} }

// redemptionKey is the record key of redemption id.
func redemptionKey(id string) []byte { return keyOf("redemption", id) }

// redemptionByInviteKey is the time-ordered per-invite index entry of r.
func redemptionByInviteKey(r Redemption) []byte {
	return keyOf("idx", "redemption", "invite", r.InviteID, timeKey(r.At), r.ID)
}

// redemptionUserKey is the unique (invite, user) index key.
func redemptionUserKey(inviteID string, userID int64) []byte {
	return keyOf("idx", "redemption", "user", inviteID, intKey(userID))
}

// claimsUser reports whether r holds the (invite, user) unique index: it names a user and did not
// fail, so a failed attempt never blocks a retry.
func claimsUser(r Redemption) bool {
	return r.UserID != 0 && r.Outcome != OutcomeFailed
}

// validateRedemption checks a redemption's integrity at the storage boundary.
func validateRedemption(r Redemption) error {
	if err := checkSegment("redemption id", r.ID); err != nil {
		return err
	}
	if err := checkSegment("redemption invite id", r.InviteID); err != nil {
		return err
	}
	if r.At.IsZero() {
		return fmt.Errorf("redemption %s: time is required: %w", r.ID, ErrInvalid)
	}
	return checkOneOf("redemption outcome", r.Outcome, OutcomeReserved, OutcomeJoined, OutcomeUpdated, OutcomeFailed)
}

// Get returns redemption id.
func (r Redemptions) Get(id string) (Redemption, error) {
	var out Redemption
	if err := r.tx.getJSON(redemptionKey(id), &out); err != nil {
		return Redemption{}, fmt.Errorf("redemption %s: %w", id, err)
	}
	return out, nil
}

// Put creates or replaces a redemption. A redemption that names a user and did not fail claims the
// unique (invite, user) index: if another redemption of the same invite already holds it, Put fails
// with ErrExists (the same person redeeming twice).
func (r Redemptions) Put(red Redemption) error {
	if err := validateRedemption(red); err != nil {
		return err
	}
	old, err := r.Get(red.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if exists {
		if old.InviteID != red.InviteID {
			return fmt.Errorf("redemption %s: the invite must not change: %w", red.ID, ErrInvalid)
		}
		if claimsUser(old) && (!claimsUser(red) || old.UserID != red.UserID) {
			if err := r.tx.releaseUnique(redemptionUserKey(old.InviteID, old.UserID), old.ID); err != nil {
				return err
			}
		}
		if !old.At.Equal(red.At) {
			if err := r.tx.del(redemptionByInviteKey(old)); err != nil {
				return err
			}
		}
	}
	if claimsUser(red) {
		if err := r.tx.claimUnique(redemptionUserKey(red.InviteID, red.UserID), red.ID,
			fmt.Sprintf("user %d already redeemed invite %s", red.UserID, red.InviteID)); err != nil {
			return err
		}
	}
	if err := r.tx.set(badger.NewEntry(redemptionByInviteKey(red), nil)); err != nil {
		return err
	}
	return r.tx.putJSON(redemptionKey(red.ID), red)
}

// ListByInvite returns the redemptions of invite inviteID in time order.
func (r Redemptions) ListByInvite(inviteID string) ([]Redemption, error) {
	if err := checkSegment("invite id", inviteID); err != nil {
		return nil, err
	}
	var ids []string
	err := r.tx.scan(prefixOf("idx", "redemption", "invite", inviteID), nil, false, false, func(item *badger.Item) (bool, error) {
		ids = append(ids, lastSegment(item.Key()))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Redemption, 0, len(ids))
	for _, id := range ids {
		red, err := r.Get(id)
		if err != nil {
			return nil, fmt.Errorf("redemption index points at a missing record: %w", err)
		}
		out = append(out, red)
	}
	return out, nil
}

// ForUser returns the non-failed redemption of invite inviteID by userID; ErrNotFound when the user
// has not redeemed it.
func (r Redemptions) ForUser(inviteID string, userID int64) (Redemption, error) {
	if err := checkSegment("invite id", inviteID); err != nil {
		return Redemption{}, err
	}
	id, err := r.tx.lookupUnique(redemptionUserKey(inviteID, userID))
	if err != nil {
		return Redemption{}, fmt.Errorf("redemption of invite %s by user %d: %w", inviteID, userID, err)
	}
	return r.Get(id)
}

// PutRedemption creates or replaces a redemption; an empty ID gets a new random one. It returns the
// stored redemption.
func (s *Store) PutRedemption(red Redemption) (Redemption, error) {
	if red.ID == "" {
		red.ID = NewID()
	}
	err := s.Update(func(tx *Tx) error { return tx.Redemptions().Put(red) })
	return red, err
}

// RedemptionsByInvite returns the redemptions of an invite in time order.
func (s *Store) RedemptionsByInvite(inviteID string) ([]Redemption, error) {
	var out []Redemption
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Redemptions().ListByInvite(inviteID)
		return err
	})
	return out, err
}

// RedemptionForUser returns the non-failed redemption of an invite by a user.
func (s *Store) RedemptionForUser(inviteID string, userID int64) (Redemption, error) {
	var out Redemption
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Redemptions().ForUser(inviteID, userID)
		return err
	})
	return out, err
}
