package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// checkIdle returns ErrBusy when the user has a pending intent.
func (s *Service) checkIdle(userID int64) error {
	busy, err := s.busyUsers()
	if err != nil {
		return err
	}
	if busy[userID] {
		return fmt.Errorf("user %d: %w", userID, ErrBusy)
	}
	return nil
}

// ApplyShare makes the user's share of one server what want says (libraries as server keys — every
// library when want.AllLibraries —, downloads, filters, library windows): created when missing,
// updated when present; "already shared" is looked up and updated. Intent first, then Plex, then the
// store with a user.shared event. A user whose access has not started (or has ended) only has the share
// recorded for when it starts. It returns the share as stored. Like Grant (it undoes a failed invite
// redemption) it waits for the pass lock whatever ctx says.
func (s *Service) ApplyShare(ctx context.Context, actor string, userID int64, serverID string, want storage.Share, reason string) (storage.Share, error) {
	s.lock.Lock()
	defer s.lock.Unlock()
	servers, err := s.serverMap()
	if err != nil {
		return storage.Share{}, err
	}
	srv, ok := servers[serverID]
	if !ok {
		return storage.Share{}, fmt.Errorf("server %q: %w", serverID, ErrServerNotFound)
	}
	libs := slices.Clone(want.Libraries)
	if want.AllLibraries {
		libs = libs[:0]
		for _, l := range srv.Libraries {
			libs = append(libs, l.Key)
		}
	}
	if len(libs) == 0 && len(want.LibraryWindows) == 0 {
		return storage.Share{}, fieldError("libraries", "give at least one library (to take every library away, remove the share)")
	}
	if err := validateFilters(want.Filters); err != nil {
		return storage.Share{}, err
	}
	u, err := s.getUser(userID)
	if err != nil {
		return storage.Share{}, err
	}
	if err := s.checkIdle(userID); err != nil {
		return storage.Share{}, err
	}
	patch := UserPatch{Libraries: map[string][]string{serverID: libs}, Reason: reason}
	if len(libs) == 0 {
		patch.Libraries = nil
	}
	next, diff, err := applyPatch(u, patch, servers)
	if err != nil {
		return storage.Share{}, err
	}
	sh := next.Shares[serverID]
	sh.AllowDownloads, sh.Filters = want.AllowDownloads, want.Filters
	// Every library stays every library, those added later included (a window makes it a list below).
	sh.AllLibraries = want.AllLibraries && len(libs) > 0
	if next.Shares == nil {
		next.Shares = map[string]storage.Share{}
	}
	next.Shares[serverID] = sh
	if len(want.LibraryWindows) > 0 {
		if next, diff, err = applyPatch(next, UserPatch{LibraryWindows: map[string]map[string]storage.Window{serverID: want.LibraryWindows}}, servers); err != nil {
			return storage.Share{}, err
		}
	}
	_ = diff
	msg := fmt.Sprintf("Share of %s set to %s", cmpOr(srv.Name, serverID), plural(len(libs), "library", "libraries"))
	if next.Shares[serverID].AllLibraries {
		msg = fmt.Sprintf("Share of %s set to every library", cmpOr(srv.Name, serverID))
	}
	if err := s.transitionUser(ctx, actor, u, next, servers, ActionShare, EventUserShared, msg, reason, nil); err != nil {
		return storage.Share{}, err
	}
	out, err := s.getUser(userID)
	if err != nil {
		return storage.Share{}, err
	}
	return out.Shares[serverID], nil
}

// RevokeShare removes the user's share of one server (Plex first; "not found" counts as done), then
// records it with a user.unshared event. A user without a share there is left alone. Like Grant (it
// undoes a failed invite redemption) it waits for the pass lock whatever ctx says.
func (s *Service) RevokeShare(ctx context.Context, actor string, userID int64, serverID, reason string) error {
	s.lock.Lock()
	defer s.lock.Unlock()
	u, err := s.getUser(userID)
	if err != nil {
		return err
	}
	if _, ok := u.Shares[serverID]; !ok {
		return nil
	}
	if err := s.checkIdle(userID); err != nil {
		return err
	}
	servers, err := s.serverMap()
	if err != nil {
		return err
	}
	o := op{Kind: ActionRevoke, UserID: userID, Username: displayName(u), Actor: actor, Reason: reason,
		Final: final{Event: EventUserUnshared, Message: fmt.Sprintf("%s's share of %s removed",
			cmpOr(displayName(u), fmt.Sprint(userID)), serverName(servers, serverID))}}
	if u.Shares[serverID].ShareID > 0 {
		o.Steps = []step{removeStep(u, serverID, false)}
		return s.runOp(ctx, o, nil)
	}
	return s.runOp(ctx, o, func(tx *storage.Tx) error {
		cur, err := tx.Users().Get(userID)
		if err != nil {
			return err
		}
		delete(cur.Shares, serverID)
		return putUser(tx, cur)
	})
}

// RemoveUser revokes the user on Plex — every share (pending invitations are cancelled), then the
// friendship; Home and managed members are removed from the Home — and then records them as removed
// (user.removed). Pending retries for the user are rolled back first: the removal supersedes them.
func (s *Service) RemoveUser(ctx context.Context, actor string, userID int64, reason string) error {
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	return s.removeUserLocked(ctx, actor, userID, reason, ActionRemoveUser, EventUserRemoved)
}

// removeUserLocked is RemoveUser (and the purge of one user) with the lock held.
func (s *Service) removeUserLocked(ctx context.Context, actor string, userID int64, reason, kind, event string) error {
	u, err := s.getUser(userID)
	if err != nil {
		return err
	}
	if err := s.supersede(userID, kind); err != nil {
		return err
	}
	return s.runOp(ctx, removalOp(u, actor, reason, kind, event), nil)
}

// removalOp builds the operation that removes u everywhere.
func removalOp(u storage.User, actor, reason, kind, event string) op {
	o := op{Kind: kind, UserID: u.ID, Username: displayName(u), Actor: actor, Reason: reason,
		Final: final{Status: storage.StatusRemoved, ClearShares: true, Event: event,
			Message: fmt.Sprintf("%s removed from Plex", cmpOr(displayName(u), fmt.Sprint(u.ID)))}}
	for _, srv := range sortedKeys(u.Shares) {
		if u.Shares[srv].ShareID > 0 {
			o.Steps = append(o.Steps, removeStep(u, srv, false))
		}
	}
	switch {
	case u.Kind == storage.KindHome || u.Kind == storage.KindManaged:
		if u.ID > 0 {
			o.Steps = append(o.Steps, step{Call: callRemoveHomeUser})
		}
	case u.ID > 0 && u.Kind != storage.KindPending:
		o.Steps = append(o.Steps, step{Call: callRemoveFriend})
	}
	return o
}

// supersede rolls back the pending intents of a user (a removal makes them moot).
func (s *Service) supersede(userID int64, by string) error {
	pending, err := s.store.PendingIntents()
	if err != nil {
		return fmt.Errorf("reading pending intents: %w", err)
	}
	for _, in := range pending {
		if in.UserID != userID {
			continue
		}
		o, derr := decodeOp(in)
		if derr != nil {
			o = op{Kind: in.Kind, UserID: in.UserID}
		}
		if err := s.rollBack(in, o, "superseded by "+describeKind(by)); err != nil && !errors.Is(err, errRolledBack) {
			return err
		}
	}
	return nil
}

// UpdateUser validates p and applies it: every field is checked first (an unknown server or library
// key, an expiry before the start, bad filters… is an *Error naming the field, and nothing changes);
// then the plain fields are stored with the intent and the Plex changes the edit implies are made at
// once — a new window that has started shares, one that has ended or not begun takes the shares off
// (libraries remembered), library changes update or remove shares. It returns the stored user.
func (s *Service) UpdateUser(ctx context.Context, actor string, userID int64, p UserPatch) (storage.User, error) {
	if err := s.lockCtx(ctx); err != nil {
		return storage.User{}, err
	}
	defer s.lock.Unlock()
	servers, err := s.serverMap()
	if err != nil {
		return storage.User{}, err
	}
	u, err := s.getUser(userID)
	if err != nil {
		return storage.User{}, err
	}
	next, diff, err := applyPatch(u, p, servers)
	if err != nil {
		return storage.User{}, err
	}
	if len(diff) == 0 {
		return u, nil
	}
	tr, err := planTransition(u, next, servers, s.clock())
	if err != nil {
		return storage.User{}, err
	}
	if len(tr.Steps) > 0 || tr.Final != finalKeep {
		// Only edits that change Plex wait for a pending retry; notes and flags do not.
		if err := s.checkIdle(userID); err != nil {
			return storage.User{}, err
		}
	}
	data := map[string]any{"diff": diff}
	if err := s.transitionUser(ctx, actor, u, next, servers, ActionShare, EventUserUpdated,
		fmt.Sprintf("%s edited: %s", cmpOr(displayName(u), fmt.Sprint(u.ID)), describeDiff(diff, servers)), p.Reason, data); err != nil {
		return storage.User{}, err
	}
	return s.getUser(userID)
}

// transitionUser plans and runs the move of a user from cur to next (see planTransition).
func (s *Service) transitionUser(ctx context.Context, actor string, cur, next storage.User, servers map[string]storage.Server,
	kind, event, message, reason string, data map[string]any) error {
	now := s.clock()
	tr, err := planTransition(cur, next, servers, now)
	if err != nil {
		return err
	}
	switch tr.Final {
	case storage.StatusExpired:
		kind, event = ActionExpire, EventUserExpired
	case finalDerive:
		kind = ActionStart
	}
	o := op{Kind: kind, UserID: cur.ID, Username: displayName(cur), Actor: actor, Reason: reason, Steps: tr.Steps,
		Final: final{Status: tr.Final, Event: event, Message: message, Data: data}}
	stored := tr.Stored
	stored.UpdatedAt = now
	return s.runOp(ctx, o, func(tx *storage.Tx) error { return putUser(tx, stored) })
}

// normaliseLogin trims and lower-cases an email address or username for lookups.
func normaliseLogin(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
