package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// healthKey is the setting holding the token state.
const healthKey = "access.health"

// tokenState is the stored token state.
type tokenState struct {
	// InvalidSince is when Plex first rejected the token (nil: valid).
	InvalidSince *time.Time `json:"invalid_since,omitempty"`
}

// observe inspects the result of a Plex call: a rejected token (401) raises the alert once (event
// plex.token_invalid, flag in Health); the first success afterwards clears it. It returns err unchanged.
func (s *Service) observe(err error) error {
	switch {
	case errors.Is(err, plex.ErrUnauthorized):
		if s.tokenBad.Load() {
			return err
		}
		s.setTokenState(true)
	case err == nil || !retryable(err):
		// A success, or an answer other than 401 (Plex read the token): the token works.
		if !s.tokenBad.Load() {
			return err
		}
		s.setTokenState(false)
	}
	return err
}

// anyCallRecovers is the tvFailing entry that makes the next answer of any plex.tv call count as a
// recovery (set after a restart with intents waiting, when nothing is known of which calls failed).
const anyCallRecovers = "*"

// notePlexTV records the outcome of a plex.tv call of group (boundedGateway reports every one). A
// failure that may pass (unreachable, 5xx, timeout, rate limit, token rejected or missing) marks the
// group as failing; the first answer to a call of a failing group makes every intent waiting for its backoff due now and wakes the
// enforcement loop, so the changes an outage held up are made by the next pass instead of after a
// backoff of up to an hour. Only the recovery of a call that failed counts: when only plex.tv's sharing
// routes fail, the sync's listings keep answering, and taking each of those answers for a recovery
// retried the same failing change at every pass, ahead of every other (found by the engine outage
// test: creations due during the outage were never tried). In a total outage the listings fail too,
// and their first answer is the recovery. The retries still go through a pass one at
// a time, and it stops at the first failure. A cancelled call, or one the gateway cannot make, says
// nothing about plex.tv.
func (s *Service) notePlexTV(group string, err error) {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, ErrUnsupported):
		return
	case err != nil && retryable(err):
		s.setTVFailing(group, true)
		return
	}
	s.tvMu.Lock()
	recovered := s.tvFailing[group] || s.tvFailing[anyCallRecovers]
	delete(s.tvFailing, group)
	delete(s.tvFailing, anyCallRecovers)
	s.tvMu.Unlock()
	if !recovered {
		return
	}
	n, err := s.store.ExpediteIntents(s.clock())
	if err != nil {
		s.setTVFailing(group, true) // try again at the next answer
		s.log.Warn("plex_manager: making the waiting Plex changes due failed", zap.Error(err))
		return
	}
	if n > 0 {
		s.log.Info("plex_manager: Plex answers again; waiting changes are retried by the next pass",
			zap.String("calls", group), zap.Int("changes", n))
		s.wakeEnforce()
	}
}

// Groups of plex.tv calls: calls in a group are served by the same part of plex.tv and fail and
// recover together (a sharing outage leaves the listings answering).
const (
	callsSharing = "sharing" // share, update, remove, unfriend, invites
	callsHome    = "home"    // the Plex Home and its managed users
	callsListing = "listing" // users, pending invites, sections, resources
)

// setTVFailing marks the plex.tv call op as failing or not.
func (s *Service) setTVFailing(op string, failing bool) {
	s.tvMu.Lock()
	defer s.tvMu.Unlock()
	if !failing {
		delete(s.tvFailing, op)
		return
	}
	if s.tvFailing == nil {
		s.tvFailing = map[string]bool{}
	}
	s.tvFailing[op] = true
}

// wakeEnforce asks the enforcement loop for a pass now; a request already waiting covers this one.
func (s *Service) wakeEnforce() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loadRetryState marks plex.tv as failing when intents wait for their backoff (an outage before a
// restart), so the first answer makes them due.
func (s *Service) loadRetryState() error {
	pending, err := s.store.PendingIntents()
	if err != nil {
		return fmt.Errorf("reading pending intents: %w", err)
	}
	now := s.clock()
	for _, in := range pending {
		if in.NotBefore.After(now) {
			s.setTVFailing(anyCallRecovers, true)
			break
		}
	}
	return nil
}

// setTokenState stores the token state and records the event when it changes.
func (s *Service) setTokenState(bad bool) {
	now := s.clock()
	err := s.store.Update(func(tx *storage.Tx) error {
		var st tokenState
		if err := tx.Settings().Get(healthKey, &st); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if (st.InvalidSince != nil) == bad {
			return nil // another Service recorded it already
		}
		var ev storage.Event
		if bad {
			st.InvalidSince = utcPtr(now)
			ev = newEvent(now, EventTokenInvalid, ActorSystem, 0, "",
				"Plex rejected the token: passes and changes wait until a working token is entered", nil)
		} else {
			ev = newEvent(now, EventTokenRestored, ActorSystem, 0, "", "Plex accepts the token again",
				map[string]any{"invalid_since": st.InvalidSince})
			st.InvalidSince = nil
		}
		if err := tx.Settings().Put(healthKey, st); err != nil {
			return err
		}
		_, err := tx.Events().Append(ev)
		return err
	})
	if err != nil {
		s.log.Warn("plex_manager: recording the Plex token state failed")
		return
	}
	s.tokenBad.Store(bad)
}

// loadTokenState primes the in-memory flag from the store.
func (s *Service) loadTokenState() error {
	var st tokenState
	if err := s.store.GetSetting(healthKey, &st); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("reading the token state: %w", err)
	}
	s.tokenBad.Store(st.InvalidSince != nil)
	return nil
}

// Health reports the token state, pending intents, the held sync and the last passes, with alerts.
func (s *Service) Health() (Health, error) {
	var st tokenState
	if err := s.store.GetSetting(healthKey, &st); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Health{}, fmt.Errorf("reading the token state: %w", err)
	}
	h := Health{TokenValid: st.InvalidSince == nil, TokenInvalidSince: st.InvalidSince}
	pending, err := s.store.PendingIntents()
	if err != nil {
		return Health{}, fmt.Errorf("reading pending intents: %w", err)
	}
	h.PendingIntents = len(pending)
	held, err := s.HeldSync()
	if err != nil {
		return Health{}, err
	}
	h.Held = held
	last, err := s.lastPasses()
	if err != nil {
		return Health{}, err
	}
	if t, ok := last[EventPassSync]; ok {
		h.LastSync = utcPtr(t)
	}
	if t, ok := last[EventPassEnforce]; ok {
		h.LastEnforce = utcPtr(t)
	}
	if !h.TokenValid {
		h.Alerts = append(h.Alerts, "Plex rejects the token since "+st.InvalidSince.Format(time.RFC3339)+
			": enter a new token or sign in to Plex again.")
	}
	if h.Held != nil {
		h.Alerts = append(h.Alerts, fmt.Sprintf("Sync held %d removals for your confirmation: %s", len(h.Held.UserIDs), h.Held.Reason))
	}
	if h.PendingIntents > 0 {
		h.Alerts = append(h.Alerts, fmt.Sprintf("%d Plex changes are waiting to be retried.", h.PendingIntents))
	}
	// A data disk nearly full: say so before changes are refused (an unreadable free space is no alert).
	if ds, err := s.store.DiskSpace(); err == nil && ds.Low() {
		h.Alerts = append(h.Alerts, ds.Describe())
	}
	return h, nil
}
