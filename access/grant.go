package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// maxMembershipDays bounds an invite's membership duration.
const maxMembershipDays = 36500

// Grant gives a Plex account access: the invite redemption and direct invitations use it. It creates
// (or updates) the user record — identity, invite, Discord link, window —, then shares the libraries at
// once or, when the start lies ahead, records them for the start. A membership duration becomes the
// expiry (start + days). An existing user keeps the libraries they had (the new ones are added; a share
// of every library stays one, libraries added later included) and the later of the two expiries. With InviteeToken the new invitations are accepted on the invitee's
// behalf (best effort; a failure leaves them pending). A Plex outage returns an error matching
// ErrRetryScheduled: the share is made by a later pass. Unlike the admins' edits, Grant waits for the
// pass lock whatever ctx says (a pass holds it at most one Plex call deadline once Plex stops
// answering): an invitee who has signed in keeps the access they redeemed even if they leave the page,
// since the grant is then recorded and carried out by a later pass.
func (s *Service) Grant(ctx context.Context, actor string, req GrantRequest) (GrantResult, error) {
	s.lock.Lock()
	defer s.lock.Unlock()
	return s.grantLocked(ctx, actor, req, EventUserJoined)
}

// grantLocked is Grant with the lock held; event names the final audit event.
func (s *Service) grantLocked(ctx context.Context, actor string, req GrantRequest, event string) (GrantResult, error) {
	servers, err := s.serverMap()
	if err != nil {
		return GrantResult{}, err
	}
	now := s.clock()
	if err := validateGrant(&req, servers, now); err != nil {
		return GrantResult{}, err
	}
	id := req.UserID
	if id <= 0 {
		id = storage.PendingUserID(cmpOr(req.Email, req.Invitee))
	}
	cur, err := s.store.GetUser(id)
	known := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return GrantResult{}, fmt.Errorf("reading user %d: %w", id, err)
	}
	if known {
		if err := s.checkIdle(id); err != nil {
			return GrantResult{}, err
		}
	} else {
		kind := storage.KindFriend
		if id < 0 {
			kind = storage.KindPending
		}
		cur = storage.User{ID: id, Kind: kind, Status: storage.StatusScheduled, CreatedAt: now}
	}
	next := grantedUser(cur, known, req, now)
	tr, err := planTransition(cur, next, servers, now)
	if err != nil {
		return GrantResult{}, err
	}
	kind := ActionShare
	if tr.Final == finalDerive {
		kind = ActionStart
	}
	name := cmpOr(displayName(next), fmt.Sprint(id))
	names := make([]string, 0, len(req.Libraries))
	for _, srv := range slices.Sorted(maps.Keys(req.Libraries)) {
		names = append(names, serverName(servers, srv))
	}
	msg := fmt.Sprintf("%s was given access to %s", name, strings.Join(names, ", "))
	if next.StartsAt != nil && next.StartsAt.After(now) {
		msg = fmt.Sprintf("%s will get access on %s", name, next.StartsAt.Format(time.RFC3339))
	}
	o := op{Kind: kind, UserID: id, Username: displayName(next), Actor: actor, Reason: cmpOr(req.Reason, "invited"),
		Steps: tr.Steps, Final: final{Status: tr.Final, Event: event, Message: msg,
			Data: map[string]any{"invite_id": req.InviteID, "libraries": req.Libraries, "expires_at": next.ExpiresAt}}}
	stored := tr.Stored
	stored.UpdatedAt = now
	res := GrantResult{Scheduled: next.StartsAt != nil && next.StartsAt.After(now)}
	err = s.runOp(ctx, o, func(tx *storage.Tx) error { return putUser(tx, stored) })
	res.Changes = []Change{o.change(resultOf(err))}
	for _, st := range tr.Steps {
		if st.Call == callShare || st.Call == callUpdateShare {
			res.Shared = append(res.Shared, st.ServerID)
		}
	}
	if err == nil && req.InviteeToken != "" {
		res.Accepted = s.acceptFor(ctx, actor, id, req.InviteeToken, res.Shared)
	}
	u, gerr := s.getUser(id)
	if gerr == nil {
		res.User = u
	}
	if err != nil {
		return res, err
	}
	return res, gerr
}

// validateGrant checks a grant and fills its expiry from the membership duration.
func validateGrant(req *GrantRequest, servers map[string]storage.Server, now time.Time) error {
	req.Email = strings.TrimSpace(req.Email)
	req.Invitee = strings.TrimSpace(req.Invitee)
	switch {
	case req.UserID < 0:
		return fieldError("user_id", "must be a plex.tv account id")
	case req.UserID == 0 && req.Email == "" && req.Invitee == "":
		return fieldError("invitee", "give a Plex account, an email address or a username")
	case len(req.Libraries) == 0:
		return fieldError("libraries", "give at least one server with libraries")
	case req.MembershipDays < 0 || req.MembershipDays > maxMembershipDays:
		return fieldError("membership_days", "must be between 0 and %d", maxMembershipDays)
	}
	for _, srvID := range slices.Sorted(maps.Keys(req.Libraries)) {
		srv, ok := servers[srvID]
		if !ok {
			return fieldError("libraries", "unknown server %q", srvID)
		}
		if len(req.Libraries[srvID]) == 0 {
			return fieldError("libraries", "give at least one library of server %q", srvID)
		}
		if _, err := sectionIDs(srv, req.Libraries[srvID], "libraries"); err != nil {
			return err
		}
	}
	if err := validateFilters(req.Filters); err != nil {
		return err
	}
	if req.StartsAt != nil {
		req.StartsAt = utcPtr(*req.StartsAt)
	}
	if req.ExpiresAt != nil {
		req.ExpiresAt = utcPtr(*req.ExpiresAt)
	} else if req.MembershipDays > 0 {
		start := now
		if req.StartsAt != nil && req.StartsAt.After(now) {
			start = *req.StartsAt
		}
		req.ExpiresAt = utcPtr(start.AddDate(0, 0, req.MembershipDays))
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(now) {
		return fieldError("expires_at", "the access would already have ended (%s)", req.ExpiresAt.Format(time.RFC3339))
	}
	if req.StartsAt != nil && req.ExpiresAt != nil && !req.ExpiresAt.After(*req.StartsAt) {
		return fieldError("expires_at", "the expiry is not after the start")
	}
	return nil
}

// grantedUser is the record after a grant.
func grantedUser(cur storage.User, known bool, req GrantRequest, now time.Time) storage.User {
	next := cur.Clone()
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&next.UUID, req.UUID)
	set(&next.Username, req.Username)
	set(&next.Email, req.Email)
	set(&next.Title, req.Title)
	set(&next.Thumb, req.Thumb)
	set(&next.InviteID, req.InviteID)
	set(&next.DiscordID, req.DiscordID)
	set(&next.DiscordName, req.DiscordName)
	if req.UserID <= 0 && req.Email == "" && next.Username == "" {
		next.Username = req.Invitee
	}
	if next.Title == "" {
		next.Title = cmpOr(next.Username, next.Email)
	}
	activeNow := known && (cur.Status == storage.StatusActive || cur.Status == storage.StatusPending)
	if activeNow {
		// Keep the later expiry (none is the latest) and the start already passed.
		if cur.ExpiresAt != nil && (req.ExpiresAt == nil || req.ExpiresAt.After(*cur.ExpiresAt)) {
			next.ExpiresAt = cloneTime(req.ExpiresAt)
		}
	} else {
		next.StartsAt, next.ExpiresAt = cloneTime(req.StartsAt), cloneTime(req.ExpiresAt)
		if next.StartsAt != nil && !next.StartsAt.After(now) {
			next.StartsAt = nil
		}
	}
	if next.Shares == nil {
		next.Shares = map[string]storage.Share{}
	}
	for srv, libs := range req.Libraries {
		sh := next.Shares[srv]
		switch {
		case activeNow && sh.AllLibraries:
			// Every library, those added later included, already covers what the grant adds.
		case activeNow:
			merged := append(slices.Clone(sh.Libraries), libs...)
			sortLibraryKeys(merged)
			sh.Libraries = slices.Compact(merged)
		default:
			// An expired or removed user gets what this grant says.
			merged := slices.Clone(libs)
			sortLibraryKeys(merged)
			sh.Libraries, sh.AllLibraries = slices.Compact(merged), false
		}
		sh.AllowDownloads, sh.Filters = req.AllowDownloads, req.Filters
		next.Shares[srv] = sh
	}
	next.UpdatedAt = now
	return next
}

// acceptFor accepts the user's pending invitations of servers with the invitee's own token and records
// the acceptance; it returns the servers accepted. Failures are left to the next sync.
func (s *Service) acceptFor(ctx context.Context, actor string, userID int64, token string, servers []string) []string {
	u, err := s.getUser(userID)
	if err != nil {
		return nil
	}
	var accepted []string
	for _, srv := range servers {
		sh, ok := u.Shares[srv]
		if !ok || !sh.Pending {
			continue
		}
		if _, err := s.gw.AcceptInvite(ctx, token, srv); err != nil && !errors.Is(err, plex.ErrBadRequest) {
			continue // plex.ErrBadRequest: already accepted
		}
		accepted = append(accepted, srv)
	}
	if len(accepted) == 0 {
		return nil
	}
	now := s.clock()
	err = s.store.Update(func(tx *storage.Tx) error {
		cur, err := tx.Users().Get(userID)
		if err != nil {
			return err
		}
		for _, srv := range accepted {
			if sh, ok := cur.Shares[srv]; ok {
				sh.Pending = false
				cur.Shares[srv] = sh
			}
		}
		if cur.Kind == storage.KindPending {
			cur.Kind = storage.KindFriend
		}
		if cur.Status == storage.StatusPending {
			cur.Status = derivedStatus(cur)
		}
		cur.UpdatedAt = now
		if err := putUser(tx, cur); err != nil {
			return err
		}
		_, err = tx.Events().Append(newEvent(now, EventUserAccepted, actor, userID, accepted[0],
			fmt.Sprintf("%s's invitation was accepted on their behalf", cmpOr(displayName(cur), fmt.Sprint(userID))),
			map[string]any{"servers": accepted}))
		return err
	})
	if err != nil {
		s.log.Warn("plex_manager: recording an accepted invitation failed")
		return nil
	}
	return accepted
}
