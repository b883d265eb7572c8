package access

import (
	"fmt"
	"time"
)

// Retention of finished intents (the outbox). A done intent has served its purpose once its change is
// made and recorded as an event; a failed one (refused by Plex, or rolled back) is kept longer, so an
// admin can still see why a change was not made.
const (
	// IntentRetention is how long done intents are kept after they finished.
	IntentRetention = 30 * 24 * time.Hour
	// FailedIntentRetention is how long failed intents are kept after they failed.
	FailedIntentRetention = 90 * 24 * time.Hour
	// intentSweepEvery is the shortest gap between two sweeps of finished intents.
	intentSweepEvery = time.Hour
)

// sweepIntents deletes finished intents past their retention (IntentRetention, FailedIntentRetention;
// pending ones are never deleted), at most once per intentSweepEvery per Service: the enforcement loop
// calls it after every pass. It returns how many it deleted; ran is false when the last sweep was too
// recent.
func (s *Service) sweepIntents() (deleted int, ran bool, err error) {
	now := s.clock()
	s.sweepMu.Lock()
	if !s.lastSweep.IsZero() && now.Sub(s.lastSweep) < intentSweepEvery {
		s.sweepMu.Unlock()
		return 0, false, nil
	}
	s.lastSweep = now
	s.sweepMu.Unlock()
	n, err := s.store.PruneIntents(now.Add(-IntentRetention), now.Add(-FailedIntentRetention))
	if err != nil {
		return n, true, fmt.Errorf("pruning finished intents: %w", err)
	}
	return n, true, nil
}
