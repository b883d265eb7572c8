package access

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// activityGranularity is the least advance of a user's last activity worth a store write: live
// session polling reports the same viewers every few seconds.
const activityGranularity = time.Minute

// MarkActivity records that a user was seen streaming (or watching, from the servers' history) at at.
// It only ever moves LastActivityAt forward, by at least a minute, so a session poll costs a write per
// viewer per minute at most. Activity of accounts the store does not know (the owner, server account 1)
// is ignored.
func (s *Service) MarkActivity(userID int64, at time.Time) error {
	_, err := s.markActivity(map[int64]time.Time{userID: at})
	return err
}

// activityChunk bounds the users written per transaction by markActivity.
const activityChunk = 200

// markActivity applies several last-activity times, a chunk per transaction, and returns how many
// users moved forward.
func (s *Service) markActivity(seen map[int64]time.Time) (int, error) {
	ids := slices.Sorted(maps.Keys(seen))
	total := 0
	for len(ids) > 0 {
		chunk := ids[:min(activityChunk, len(ids))]
		ids = ids[len(chunk):]
		var moved int
		err := s.store.Update(func(tx *storage.Tx) error {
			moved = 0
			for _, id := range chunk {
				u, err := tx.Users().Get(id)
				if errors.Is(err, storage.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				at := seen[id].UTC()
				if u.LastActivityAt != nil && at.Sub(*u.LastActivityAt) < activityGranularity {
					continue
				}
				u.LastActivityAt = &at
				if err := tx.Users().Put(u); err != nil {
					return err
				}
				moved++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("recording activity: %w", err)
		}
		total += moved
	}
	return total, nil
}
