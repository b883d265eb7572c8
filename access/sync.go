package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// heldKey is the setting holding a held sync change.
const heldKey = "access.held_sync"

// syncChunk bounds the users written per transaction when a sync is applied.
const syncChunk = 100

// Sync mirrors Plex into the store (see PlanSync): it reads the users with their shares of every stored
// server (a constant number of requests), the Home, and the servers shared with the owner, then adopts,
// updates and marks removed, recording every change as an event. A failed read changes nothing; an
// empty answer or a large shrink is refused or held (ConfirmHeldSync). The report is stored, except for
// a sync whose ctx ended while Plex was read (Caddy stopping or reloading): it records nothing.
func (s *Service) Sync(ctx context.Context, actor string) (SyncReport, error) {
	if err := s.lockCtx(ctx); err != nil {
		return SyncReport{}, err
	}
	defer s.lock.Unlock()
	return s.syncLocked(ctx, actor, nil)
}

// ConfirmHeldSync applies the removals of the held change heldID for the users Plex still does not
// list (a fresh read; users back in Plex are kept) and clears the hold.
func (s *Service) ConfirmHeldSync(ctx context.Context, actor, heldID string) (SyncReport, error) {
	if err := s.lockCtx(ctx); err != nil {
		return SyncReport{}, err
	}
	defer s.lock.Unlock()
	held, err := s.HeldSync()
	if err != nil {
		return SyncReport{}, err
	}
	if held == nil || held.ID != heldID {
		return SyncReport{}, ErrNoHeldSync
	}
	rep, err := s.syncLocked(ctx, actor, held)
	if err != nil {
		return rep, err
	}
	now := s.clock()
	err = s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Settings().Delete(heldKey); err != nil {
			return err
		}
		_, err := tx.Events().Append(newEvent(now, EventSyncConfirmed, actor, 0, "",
			fmt.Sprintf("Held sync change confirmed: %d users marked removed", rep.Removed),
			map[string]any{"held": held, "removed": rep.Removed}))
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("clearing the held sync change: %w", err)
	}
	return rep, nil
}

// HeldSync returns the held sync change, or nil.
func (s *Service) HeldSync() (*HeldSync, error) {
	var h HeldSync
	err := s.store.GetSetting(heldKey, &h)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the held sync change: %w", err)
	}
	return &h, nil
}

// syncLocked is a sync pass; the caller holds the lock.
func (s *Service) syncLocked(ctx context.Context, actor string, confirm *HeldSync) (SyncReport, error) {
	actor = cmpOr(actor, ActorSystem)
	now := s.clock()
	rep := SyncReport{ID: storage.NewID(), Actor: actor, StartedAt: now, Servers: []string{}, Changes: []Change{}}
	err := s.syncBody(ctx, now, confirm, &rep)
	if isStopped(err) {
		// Stopped while Plex was read (Caddy stopping or reloading): nothing was changed, and a sync
		// cut short is neither a failed pass nor a finished one.
		rep.Error, rep.FinishedAt = Explain(err), s.clock()
		return rep, err
	}
	if err != nil {
		rep.Error = Explain(err)
	}
	rep.FinishedAt = s.clock()
	msg := fmt.Sprintf("Sync: %d adopted, %d updated, %d marked removed", rep.Adopted, rep.Updated, rep.Removed)
	switch {
	case err != nil:
		msg += "; failed: " + Explain(err)
	case rep.Refused != "":
		msg += "; refused: " + rep.Refused
	case rep.Held != nil:
		msg += "; held: " + rep.Held.Reason
	}
	store := len(rep.Changes) > 0 || rep.Held != nil || rep.Refused != "" || err != nil
	if serr := s.savePass(EventPassSync, actor, rep, store, msg); serr != nil && err == nil {
		err = serr
	}
	return rep, err
}

// syncBody reads Plex, plans and applies.
func (s *Service) syncBody(ctx context.Context, now time.Time, confirm *HeldSync, rep *SyncReport) error {
	servers, err := s.store.ListServers()
	if err != nil {
		return fmt.Errorf("reading servers: %w", err)
	}
	if len(servers) == 0 {
		rep.Refused = "no Plex server is configured yet"
		return nil
	}
	libs := map[string][]string{}
	for _, srv := range servers {
		rep.Servers = append(rep.Servers, srv.ID)
		for _, l := range srv.Libraries {
			libs[srv.ID] = append(libs[srv.ID], l.Key)
		}
	}
	plexUsers, err := s.gw.Users(ctx, rep.Servers...)
	if err = s.observe(err); err != nil {
		return fmt.Errorf("reading users from Plex (nothing changed): %w", orStopped(ctx, err))
	}
	home, err := s.gw.HomeUsers(ctx)
	if err = s.observe(err); err != nil {
		return fmt.Errorf("reading the Plex Home (nothing changed): %w", orStopped(ctx, err))
	}
	foreign, ferr := s.gw.ForeignServers(ctx)
	if !errors.Is(ferr, ErrUnsupported) {
		ferr = s.observe(ferr)
	}
	if serr := stopped(ctx); ferr != nil && serr != nil {
		// Cut short, not unknown: the next sync reads the share-backs again.
		return fmt.Errorf("reading the servers shared with the owner (nothing changed): %w", serr)
	}
	rep.ShareBackChecked = ferr == nil
	rep.PlexUsers = len(plexUsers)

	var stored []storage.User
	if err := s.store.View(func(tx *storage.Tx) error {
		var err error
		stored, err = tx.Users().List()
		return err
	}); err != nil {
		return fmt.Errorf("reading users: %w", err)
	}
	busy, err := s.busyUsers()
	if err != nil {
		return err
	}
	settings, err := s.Settings()
	if err != nil {
		return err
	}
	plan := PlanSync(SyncInput{Now: now, Servers: rep.Servers, Libraries: libs, Stored: stored, Plex: plexUsers, Home: home,
		Foreign: foreign, ForeignKnown: ferr == nil, Busy: busy, Settings: settings, Confirm: confirm})
	rep.Refused = plan.Refused
	if plan.Refused != "" {
		return s.Record(newEvent(now, EventSyncRefused, rep.Actor, 0, "", plan.Refused, nil))
	}
	if err := s.applySync(plan, rep.Actor, now); err != nil {
		return err
	}
	for _, c := range plan.Changes {
		c.Result = ResultDone
		rep.Changes = append(rep.Changes, c)
		switch c.Action {
		case ActionAdopt:
			rep.Adopted++
		case ActionUpdate:
			rep.Updated++
		case ActionMarkRemoved:
			rep.Removed++
		}
	}
	if confirm == nil {
		return s.updateHeld(plan.Held, rep, now)
	}
	return nil
}

// updateHeld stores (or clears) the held change; the sync.held event is recorded when the held set of
// users changes, not at every sync that meets the same shrink.
func (s *Service) updateHeld(held *HeldSync, rep *SyncReport, now time.Time) error {
	cur, err := s.HeldSync()
	if err != nil {
		return err
	}
	if held == nil {
		if cur == nil {
			return nil
		}
		return s.store.DeleteSetting(heldKey)
	}
	if cur != nil && slices.Equal(cur.UserIDs, held.UserIDs) {
		rep.Held = cur
		return nil
	}
	rep.Held = held
	return s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Settings().Put(heldKey, held); err != nil {
			return err
		}
		_, err := tx.Events().Append(newEvent(now, EventSyncHeld, rep.Actor, 0, "",
			held.Reason+": held for your confirmation", map[string]any{"held": held}))
		return err
	})
}

// applySync writes a sync plan, a chunk of users per transaction, with its events.
func (s *Service) applySync(plan SyncPlan, actor string, now time.Time) error {
	evByUser := map[int64][]syncEvent{}
	for _, ev := range plan.events {
		evByUser[ev.userID] = append(evByUser[ev.userID], ev)
	}
	writes := plan.writes
	deletes := plan.deletes
	for len(writes) > 0 || len(deletes) > 0 {
		chunk := writes[:min(syncChunk, len(writes))]
		writes = writes[len(chunk):]
		del := deletes
		deletes = nil
		err := s.store.Update(func(tx *storage.Tx) error {
			for _, id := range del {
				if err := tx.Users().Delete(id); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				if err := setLibraryDue(tx, id, time.Time{}); err != nil {
					return err
				}
			}
			for _, u := range chunk {
				if err := putUser(tx, u); err != nil {
					return err
				}
				for _, ev := range evByUser[u.ID] {
					if _, err := tx.Events().Append(newEvent(now, ev.typ, actor, ev.userID, ev.server, ev.message, ev.data)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("recording the sync: %w", err)
		}
	}
	return nil
}
