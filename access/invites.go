package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// InviteDirect invites an email address or Plex username without an invite link: a known user gets
// the libraries added; a Plex account gets an invitation; an email address without an account gets
// Plex's sign-up invitation (a pending record keyed by the address, merged when they accept). A
// username Plex does not know is an *Error on "invitee".
func (s *Service) InviteDirect(ctx context.Context, actor, emailOrUsername string, libraries map[string][]string, settings InviteSettings) (GrantResult, error) {
	who := strings.TrimSpace(emailOrUsername)
	if who == "" {
		return GrantResult{}, fieldError("invitee", "give an email address or a Plex username")
	}
	if len(who) > 254 || strings.ContainsAny(who, "/\x00\r\n") {
		return GrantResult{}, fieldError("invitee", "is not an email address or username")
	}
	req := GrantRequest{Invitee: who, Libraries: libraries, AllowDownloads: settings.AllowDownloads, Filters: settings.Filters,
		StartsAt: settings.StartsAt, ExpiresAt: settings.ExpiresAt, MembershipDays: settings.MembershipDays, Reason: "invited directly"}
	isEmail := strings.Contains(who, "@")
	if isEmail {
		req.Email = who
	}
	if u, err := s.userByLogin(who); err == nil && u.ID > 0 {
		req.UserID, req.Invitee, req.Email = u.ID, "", ""
	} else if err := s.observe(s.gw.ValidateInvitee(ctx, who)); err != nil {
		switch {
		case errors.Is(err, plex.ErrNotFound) && !isEmail:
			return GrantResult{}, fieldError("invitee", "no Plex account has the username %q", who)
		case errors.Is(err, plex.ErrNotFound):
			// An address without an account: Plex sends a sign-up invitation.
		default:
			return GrantResult{}, fmt.Errorf("checking the invitee with Plex: %w", err)
		}
	}
	if err := s.lockCtx(ctx); err != nil {
		return GrantResult{}, err
	}
	defer s.lock.Unlock()
	res, err := s.grantLocked(ctx, actor, req, EventUserInvited)
	if err == nil && settings.Notes != "" {
		_, err = s.store.UpdateUser(res.User.ID, func(u *storage.User) error {
			if u.Notes == "" {
				u.Notes = settings.Notes
			}
			return nil
		})
		if err == nil {
			res.User, err = s.getUser(res.User.ID)
		}
	}
	return res, err
}

// userByLogin finds a stored user by email or username.
func (s *Service) userByLogin(login string) (storage.User, error) {
	if strings.Contains(login, "@") {
		return s.store.UserByEmail(login)
	}
	return s.store.UserByUsername(login)
}

// PendingInvites lists the invitations Plex has that are not accepted yet, newest first.
func (s *Service) PendingInvites(ctx context.Context) ([]PendingInvite, error) {
	list, err := s.gw.PendingInvites(ctx)
	if err = s.observe(err); err != nil {
		return nil, fmt.Errorf("reading pending invitations: %w", err)
	}
	servers, err := s.serverMap()
	if err != nil {
		return nil, err
	}
	out := make([]PendingInvite, 0, len(list))
	for _, inv := range list {
		id := inv.InviteeID
		if id <= 0 {
			id = storage.PendingUserID(inv.Email)
		}
		name := inv.ServerName
		if srv, ok := servers[inv.MachineID]; ok && srv.Name != "" {
			name = srv.Name
		}
		out = append(out, PendingInvite{UserID: id, Email: inv.Email, Username: inv.Username, Title: inv.Title,
			ServerID: inv.MachineID, Server: name, ShareID: inv.ShareID, Libraries: slices.Clone(inv.LibraryKeys), InvitedAt: inv.InvitedAt})
	}
	slices.SortStableFunc(out, func(a, b PendingInvite) int { return b.InvitedAt.Compare(a.InvitedAt) })
	return out, nil
}

// ResendInvite withdraws a user's pending invitation of a server and sends it again with the same
// libraries and settings (Plex mails the invitee anew).
func (s *Service) ResendInvite(ctx context.Context, actor string, userID int64, serverID string) error {
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	u, sh, srv, err := s.pendingShare(userID, serverID)
	if err != nil {
		return err
	}
	cancel := removeStep(u, serverID, false)
	cancel.Call = callCancelInvite
	again := shareAllStep(u, serverID, sh.Libraries, sh.AllowDownloads, sh.Filters)
	if !sh.AllLibraries || len(sh.LibraryWindows) > 0 {
		if again, err = shareStep(u, srv, sh.Libraries, sh.AllowDownloads, sh.Filters, sh.LibraryWindows); err != nil {
			return err
		}
	}
	again.Call, again.ShareID = callShare, 0
	o := op{Kind: "resend_invite", UserID: userID, Username: displayName(u), Actor: actor, Reason: "invitation sent again",
		Steps: []step{cancel, again},
		Final: final{Event: EventInviteResent, Message: fmt.Sprintf("Invitation of %s sent again", cmpOr(displayName(u), fmt.Sprint(userID)))}}
	return s.runOp(ctx, o, nil)
}

// CancelInvite withdraws a user's pending invitation of a server. An invitee left with nothing pending
// or shared is recorded as removed.
func (s *Service) CancelInvite(ctx context.Context, actor string, userID int64, serverID string) error {
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	u, _, _, err := s.pendingShare(userID, serverID)
	if err != nil {
		return err
	}
	st := removeStep(u, serverID, false)
	st.Call = callCancelInvite
	o := op{Kind: "cancel_invite", UserID: userID, Username: displayName(u), Actor: actor, Reason: "invitation withdrawn",
		Steps: []step{st},
		Final: final{Event: EventInviteCancelled, Message: fmt.Sprintf("Invitation of %s withdrawn", cmpOr(displayName(u), fmt.Sprint(userID)))}}
	others := false
	for srv, sh := range u.Shares {
		if srv != serverID && sh.ShareID > 0 {
			others = true
		}
	}
	if !others && u.Kind != storage.KindHome && u.Kind != storage.KindManaged {
		o.Final.Status = storage.StatusRemoved
	}
	return s.runOp(ctx, o, nil)
}

// pendingShare returns a user's pending share of a server.
func (s *Service) pendingShare(userID int64, serverID string) (storage.User, storage.Share, storage.Server, error) {
	u, err := s.getUser(userID)
	if err != nil {
		return storage.User{}, storage.Share{}, storage.Server{}, err
	}
	servers, err := s.serverMap()
	if err != nil {
		return storage.User{}, storage.Share{}, storage.Server{}, err
	}
	srv, ok := servers[serverID]
	if !ok {
		return storage.User{}, storage.Share{}, storage.Server{}, fmt.Errorf("server %q: %w", serverID, ErrServerNotFound)
	}
	sh, ok := u.Shares[serverID]
	if !ok || !sh.Pending {
		return storage.User{}, storage.Share{}, storage.Server{}, fieldError("server_id", "user %d has no pending invitation of server %q", userID, serverID)
	}
	if err := s.checkIdle(userID); err != nil {
		return storage.User{}, storage.Share{}, storage.Server{}, err
	}
	return u, sh, srv, nil
}
