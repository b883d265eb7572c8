package invite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// abandonedReason is recorded for a reservation whose redemption never finished.
const abandonedReason = "The sign-up was interrupted (the server stopped) and did not finish."

// SweepStale settles reservations left unfinished for longer than the stale limit (a crash
// between reserving a use and recording the outcome). A reservation whose account did get the
// invite's access (the user record names the invite) becomes "joined"; any other becomes "failed"
// and its use is released. It returns how many it settled. Call it at start and now and then
// (e.g. with the enforcement loop); it is idempotent.
func (s *Service) SweepStale(ctx context.Context) (int, error) {
	invites, err := s.List()
	if err != nil {
		return 0, err
	}
	now := s.clock()
	n := 0
	for _, inv := range invites {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		reds, err := s.store.RedemptionsByInvite(inv.ID)
		if err != nil {
			return n, fmt.Errorf("listing redemptions of invite %s: %w", inv.ID, err)
		}
		for _, red := range reds {
			if red.Outcome != storage.OutcomeReserved || now.Sub(red.At) < s.stale {
				continue
			}
			settled, err := s.settle(inv, red, now)
			if err != nil {
				return n, err
			}
			if settled {
				n++
			}
		}
	}
	return n, nil
}

// settle closes one stale reservation; false when it changed meanwhile.
func (s *Service) settle(inv storage.Invite, red storage.Redemption, now time.Time) (bool, error) {
	joined := false
	if u, err := s.store.GetUser(red.UserID); err == nil && u.InviteID == inv.ID &&
		u.Status != storage.StatusRemoved && u.Status != storage.StatusExpired {
		joined = true
	}
	settled := false
	err := s.store.Update(func(tx *storage.Tx) error {
		settled = false
		cur, err := tx.Redemptions().Get(red.ID)
		if err != nil {
			return err
		}
		if cur.Outcome != storage.OutcomeReserved || !cur.At.Equal(red.At) {
			return nil // finished or taken over meanwhile
		}
		ev := storage.Event{ID: storage.NewEventID(now), At: now, Actor: "system", UserID: cur.UserID, InviteID: inv.ID,
			Data: map[string]any{"redemption": cur.ID}}
		if joined {
			cur.Outcome = storage.OutcomeJoined
			ev.Type, ev.Message = EventRedeemed, fmt.Sprintf("%s joined with invite %s (recorded after an interruption)", cur.Username, describeInvite(inv))
		} else {
			cur.Outcome, cur.Reason = storage.OutcomeFailed, abandonedReason
			ev.Type, ev.Message = EventFailed, fmt.Sprintf("%s could not join: %s", cur.Username, abandonedReason)
			if _, err := tx.Invites().ReleaseUse(inv.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if err := tx.Redemptions().Put(cur); err != nil {
			return err
		}
		if _, err := tx.Events().Append(ev); err != nil {
			return err
		}
		settled = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("settling a stale reservation of invite %s: %w", inv.ID, err)
	}
	return settled, nil
}
