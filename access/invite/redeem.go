package invite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Account is the Plex account redeeming an invite, as read after the PIN sign-in.
type Account struct {
	// ID is the plex.tv account id.
	ID int64 `json:"id"`
	// UUID, Username, Email, Title and Thumb describe the account.
	UUID     string `json:"uuid,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Title    string `json:"title,omitempty"`
	Thumb    string `json:"thumb,omitempty"`
}

// name is the account's display name.
func (a Account) name() string {
	for _, s := range []string{a.Username, a.Title, a.Email} {
		if s != "" {
			return s
		}
	}
	return fmt.Sprintf("account %d", a.ID)
}

// DiscordIdentity is the Discord account of a redemption.
type DiscordIdentity struct {
	// ID is Discord's user id; Name its display name.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Guilds are the account's guild ids when they were read (a guild is required).
	Guilds []string `json:"guilds,omitempty"`
}

// RedeemRequest is one use of an invite by a signed-in Plex account.
type RedeemRequest struct {
	// InviteID is the invite being used.
	InviteID string
	// Account is the signed-in Plex account.
	Account Account
	// Token is the account's own Plex token, used once to accept the new shares on its behalf.
	// It is never stored or logged.
	Token string
	// Discord is the Discord identity, when the person signed in with Discord.
	Discord *DiscordIdentity
	// IP is the client address (usage history).
	IP string
}

// Outcomes of a successful Redeem (Result.Outcome).
const (
	// OutcomeJoined: a new user got access (or has it scheduled).
	OutcomeJoined = storage.OutcomeJoined
	// OutcomeUpdated: a known user got the invite's shares.
	OutcomeUpdated = storage.OutcomeUpdated
	// OutcomeAlready: the account had already redeemed this invite; nothing changed, no use taken.
	OutcomeAlready = "already"
)

// Result is what a successful Redeem did.
type Result struct {
	// Outcome is OutcomeJoined, OutcomeUpdated or OutcomeAlready.
	Outcome string
	// Invite is the invite after the use.
	Invite storage.Invite
	// Scheduled is true when access starts later (StartsAt).
	Scheduled bool
	// StartsAt and ExpiresAt are the user's access window.
	StartsAt  *time.Time
	ExpiresAt *time.Time
	// Pending lists the servers whose share still waits for the invitee to accept.
	Pending []string
	// Queued is true when Plex could not be reached: the access engine makes the shares on a later
	// pass (its outbox retries them); the use is taken.
	Queued bool
}

// queuedReason is recorded with a redemption whose shares wait for Plex.
const queuedReason = "Plex was unreachable; the share is queued and will be made automatically"

// RedeemError is a redemption that did not happen. Reason is plain language, safe to show the
// invitee; Err is the cause (for logs and errors.Is).
type RedeemError struct {
	Reason string
	Err    error
}

// Error returns the reason and the cause.
func (e *RedeemError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *RedeemError) Unwrap() error { return e.Err }

// redeemFailure wraps err with the plain-language reason shown to the invitee.
func redeemFailure(err error) *RedeemError {
	return &RedeemError{Reason: Explain(err), Err: err}
}

// Explain returns a plain-language sentence for an invitee about why joining failed.
func Explain(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnusable):
		return "This invite can't be used any more: it may have expired, been used up or been turned off."
	case errors.Is(err, ErrInProgress):
		return "A sign-up for this Plex account is already in progress. Wait a minute and try again."
	case errors.Is(err, ErrDiscordRequired):
		return "This invite requires signing in with Discord."
	case errors.Is(err, ErrNotInGuild):
		return "Your Discord account must be a member of the required Discord server to join."
	case errors.Is(err, plex.ErrUnverifiedEmail):
		return "Your Plex account's email address is not verified yet. Verify it (check your inbox for Plex's email), then use the invite again."
	case errors.Is(err, plex.ErrAlreadyShared):
		return "Plex says this server is already shared with your account or an invitation is pending. Accept the pending invitation in Plex, or ask the server owner."
	case errors.Is(err, plex.ErrOffline), errors.Is(err, plex.ErrRateLimited), errors.Is(err, context.DeadlineExceeded):
		return "Plex could not be reached just now. Nothing was changed; please try again in a few minutes."
	case errors.Is(err, access.ErrBusy):
		return "A change to your account is still being processed. Nothing was changed; please try again in a few minutes."
	case errors.Is(err, plex.ErrUnauthorized), errors.Is(err, access.ErrNoToken):
		return "The server owner's Plex connection needs attention. Nothing was changed; please tell the person who invited you."
	case errors.Is(err, plex.ErrNotFound):
		return "Plex does not know this account or server. Nothing was changed; please tell the person who invited you."
	case errors.Is(err, errShareNotRecorded):
		return shareNotRecordedReason
	case errors.Is(err, storage.ErrDiskFull):
		return "The server's storage is full, so your sign-up could not be started. Nothing was changed; please try again later."
	case errors.Is(err, storage.ErrClosed):
		return "The server is restarting, so your sign-up could not be started. Nothing was changed; please try again in a few minutes."
	}
	return "Plex refused to share the server. Nothing was changed; please tell the person who invited you."
}

// errShareNotRecorded marks a store failure (a full data disk, a store closed by a restart) while
// the access engine was making the shares: the engine writes its intent before calling Plex and
// records each share after Plex made it, so Plex may have made a share the store could not record.
// Such an intent stays pending and the engine carries it on (or rolls it back) by itself once the
// store takes writes again; the rollback of the redemption needs the store too.
var errShareNotRecorded = errors.New("the store failed while the shares were made")

// shareNotRecordedReason is what the invitee is told of errShareNotRecorded.
const shareNotRecordedReason = "The server could not record your sign-up while your access was being set up " +
	"(its storage is full or it is restarting). Plex may already show you an invitation to the server: " +
	"the server finishes or undoes it by itself once it can record changes again. " +
	"Please check again later; if you still have no access then, use the invite again."

// storeFailed reports whether err is the store refusing work for a reason that passes: a full data
// disk (storage.ErrDiskFull) or a store closed while Caddy stops or reloads (storage.ErrClosed).
func storeFailed(err error) bool {
	return errors.Is(err, storage.ErrDiskFull) || errors.Is(err, storage.ErrClosed)
}

// Redeem uses invite req.InviteID for req.Account (see the package documentation for the steps).
// A failure is a *RedeemError; everything done before it is undone, the use is released and the
// attempt is recorded as failed.
func (s *Service) Redeem(ctx context.Context, req RedeemRequest) (Result, error) {
	if s.access == nil {
		return Result{}, errors.New("invite: no access service configured")
	}
	if req.Account.ID <= 0 {
		return Result{}, &RedeemError{Reason: "The Plex sign-in did not return an account.", Err: errors.New("no plex account id")}
	}
	now := s.clock()
	inv, err := s.store.GetInvite(req.InviteID)
	if errors.Is(err, storage.ErrNotFound) {
		return Result{}, redeemFailure(ErrUnusable)
	}
	if err != nil {
		// Not the invite's fault: the store cannot be read; nothing was changed.
		return Result{}, redeemFailure(fmt.Errorf("reading invite: %w", err))
	}
	if err := s.checkDiscord(inv, req.Discord); err != nil {
		s.recordFailure(req, now, err, &inv)
		return Result{}, redeemFailure(err)
	}
	red, already, err := s.reserve(inv.ID, req, now)
	if err != nil {
		if !errors.Is(err, ErrInProgress) {
			s.recordFailure(req, now, err, &inv)
		}
		return Result{}, redeemFailure(err)
	}
	if already != nil {
		inv, _ = s.store.GetInvite(inv.ID)
		u, _ := s.store.GetUser(req.Account.ID)
		return Result{Outcome: OutcomeAlready, Invite: inv, StartsAt: u.StartsAt, ExpiresAt: u.ExpiresAt,
			Scheduled: u.Status == storage.StatusScheduled, Pending: pendingServers(u)}, nil
	}
	inv, err = s.store.GetInvite(inv.ID) // after the reservation
	if err != nil {
		return Result{}, s.abort(ctx, req, red, nil, nil, now, fmt.Errorf("re-reading invite: %w", err))
	}
	prev, prevErr := s.store.GetUser(req.Account.ID)
	var before *storage.User
	if prevErr == nil {
		before = &prev
	}
	res, err := s.share(ctx, inv, req, now)
	if err != nil {
		if storeFailed(err) {
			err = fmt.Errorf("%w: %w", errShareNotRecorded, err)
		}
		return Result{}, s.abort(ctx, req, red, before, slices.Sorted(maps.Keys(inv.Libraries)), now, err)
	}
	outcome := OutcomeJoined
	if before != nil && len(before.Shares) > 0 && before.Status != storage.StatusRemoved && before.Status != storage.StatusExpired {
		outcome = OutcomeUpdated
	}
	red.Outcome, red.At = outcome, now
	if res.queued {
		red.Reason = queuedReason
	}
	msg := fmt.Sprintf("%s joined with invite %s", req.Account.name(), describeInvite(inv))
	if outcome == OutcomeUpdated {
		msg = fmt.Sprintf("%s used invite %s; their shares were updated", req.Account.name(), describeInvite(inv))
	}
	ev := inviteEvent(now, EventRedeemed, access.ActorUser(req.Account.ID), inv, msg)
	ev.UserID = req.Account.ID
	ev.Data["outcome"] = outcome
	ev.Data["ip"] = req.IP
	ev.Data["servers"] = slices.Sorted(maps.Keys(inv.Libraries))
	if res.scheduled {
		ev.Data["scheduled"] = true
	}
	if res.queued {
		ev.Data["queued"] = true
		ev.Message += " (Plex was unreachable: the share is queued)"
	}
	if req.Discord != nil {
		ev.Data["discord_id"] = req.Discord.ID
	}
	if err := s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Redemptions().Put(red); err != nil {
			return err
		}
		_, err := tx.Events().Append(ev)
		return err
	}); err != nil {
		// The shares are made; only the bookkeeping failed. Keep the use (it was used) and say so.
		s.log.Error("recording a completed invite redemption", zap.String("invite", inv.ID), zap.Int64("user", req.Account.ID), zap.Error(err))
	}
	u := res.user
	return Result{Outcome: outcome, Invite: inv, Scheduled: res.scheduled, Queued: res.queued, StartsAt: u.StartsAt,
		ExpiresAt: u.ExpiresAt, Pending: pendingServers(u)}, nil
}

// pendingServers lists the servers whose share of u waits for acceptance.
func pendingServers(u storage.User) []string {
	var out []string
	for id, sh := range u.Shares {
		if sh.Pending {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// checkDiscord enforces the invite's Discord mode and guild.
func (s *Service) checkDiscord(inv storage.Invite, d *DiscordIdentity) error {
	mode := discordMode(inv.Discord)
	if mode == storage.DiscordRequired && (d == nil || d.ID == "") {
		return ErrDiscordRequired
	}
	if d == nil || mode == storage.DiscordOff {
		return nil
	}
	if guild := s.GuildFor(inv); guild != "" && !slices.Contains(d.Guilds, guild) {
		return ErrNotInGuild
	}
	return nil
}

// GuildFor returns the Discord guild an invite requires ("" for none): its own, else the default.
func (s *Service) GuildFor(inv storage.Invite) string {
	if discordMode(inv.Discord) == storage.DiscordOff {
		return ""
	}
	if inv.DiscordGuildID != "" {
		return inv.DiscordGuildID
	}
	return s.guild
}

// reserve takes one use of the invite and claims the (invite, user) redemption in one
// transaction. A completed earlier redemption by the same account is returned as already (no use
// taken); a recent unfinished one is ErrInProgress; a stale unfinished one is taken over (its use
// is reused).
func (s *Service) reserve(inviteID string, req RedeemRequest, now time.Time) (red storage.Redemption, already *storage.Redemption, err error) {
	fresh := storage.Redemption{ID: storage.NewID(), InviteID: inviteID, UserID: req.Account.ID, Username: req.Account.name(),
		At: now, IP: req.IP, Outcome: storage.OutcomeReserved}
	err = s.store.Update(func(tx *storage.Tx) error {
		red, already = fresh, nil // the closure may run again on a conflict
		prev, err := tx.Redemptions().ForUser(inviteID, req.Account.ID)
		switch {
		case err == nil && prev.Outcome == storage.OutcomeReserved:
			if now.Sub(prev.At) < s.stale {
				return ErrInProgress
			}
			// An attempt that never finished (a crash): take it over with its use.
			taken := prev
			taken.At, taken.IP = now, req.IP
			red = taken
			return tx.Redemptions().Put(taken)
		case err == nil:
			already = &prev
			return nil
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if _, err := tx.Invites().ReserveUse(inviteID, now); err != nil {
			if errors.Is(err, storage.ErrInviteDisabled) || errors.Is(err, storage.ErrInviteExpired) ||
				errors.Is(err, storage.ErrInviteUsedUp) || errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w (%w)", ErrUnusable, err)
			}
			return err
		}
		return tx.Redemptions().Put(red)
	})
	return red, already, err
}

// shareOutcome is what share did.
type shareOutcome struct {
	// user is the stored user after the grant.
	user storage.User
	// scheduled reports that access starts later.
	scheduled bool
	// queued reports that Plex could not be reached: the access engine retries the share later.
	queued bool
}

// share grants the invite's libraries on every server in one access-engine operation (one intent
// with a step per server, so an outage is retried as a whole by the engine).
func (s *Service) share(ctx context.Context, inv storage.Invite, req RedeemRequest, now time.Time) (shareOutcome, error) {
	var startsAt *time.Time
	if inv.StartsAt != nil && inv.StartsAt.After(now) {
		startsAt = inv.StartsAt
	}
	libs := make(map[string][]string, len(inv.Libraries))
	for id, keys := range inv.Libraries {
		libs[id] = slices.Clone(keys)
	}
	g := access.GrantRequest{
		UserID: req.Account.ID, UUID: req.Account.UUID, Username: req.Account.Username, Email: req.Account.Email,
		Title: req.Account.Title, Thumb: req.Account.Thumb,
		Libraries: libs, AllowDownloads: inv.AllowDownloads, Filters: inv.Filters,
		// The engine turns the membership into an expiry (start + days) and never shortens the
		// access of someone who already has it (a later or no expiry wins; their start stays).
		StartsAt: startsAt, MembershipDays: inv.MembershipDays, InviteID: inv.ID, InviteeToken: req.Token,
		Reason: "invite " + describeInvite(inv),
	}
	if req.Discord != nil {
		g.DiscordID, g.DiscordName = req.Discord.ID, req.Discord.Name
	}
	res, err := s.access.Grant(ctx, access.ActorUser(req.Account.ID), g)
	out := shareOutcome{user: res.User, scheduled: res.Scheduled}
	if errors.Is(err, access.ErrRetryScheduled) {
		out.queued = true
		return out, nil
	}
	return out, err
}

// abort undoes a failed redemption: the servers changed so far are restored (revoked when the user
// had no share there before, set back to the old share otherwise), the use is released, the
// redemption recorded as failed and an invite.failed event written. It returns the *RedeemError.
func (s *Service) abort(ctx context.Context, req RedeemRequest, red storage.Redemption, before *storage.User, servers []string, now time.Time, cause error) error {
	actor := access.ActorUser(req.Account.ID)
	var undoErrs []string
	after, err := s.store.GetUser(req.Account.ID)
	if err == nil {
		for _, serverID := range slices.Backward(servers) {
			now, has := after.Shares[serverID]
			prev, had := shareOf(before, serverID)
			var err error
			switch {
			case has && now.ShareID > 0 && (!had || prev.ShareID == 0):
				err = s.access.RevokeShare(ctx, actor, req.Account.ID, serverID, "undo a failed invite redemption")
			case had && has && !sameShare(prev, now):
				_, err = s.access.ApplyShare(ctx, actor, req.Account.ID, serverID, prev, "undo a failed invite redemption")
			}
			if err != nil {
				undoErrs = append(undoErrs, serverID+": "+access.Explain(err))
				s.log.Error("undoing a share of a failed invite redemption", zap.String("server", serverID),
					zap.Int64("user", req.Account.ID), zap.Error(err))
			}
		}
		if before == nil || before.Status == storage.StatusRemoved {
			s.forgetUser(req.Account.ID, now)
		}
	}
	rerr := redeemFailure(cause)
	red.Outcome, red.Reason, red.At = storage.OutcomeFailed, rerr.Reason, now
	ev := s.failureEvent(req, red.InviteID, now, rerr)
	if len(undoErrs) > 0 {
		ev.Data["undo_errors"] = undoErrs
	}
	err = s.store.Update(func(tx *storage.Tx) error {
		if _, err := tx.Invites().ReleaseUse(red.InviteID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := tx.Redemptions().Put(red); err != nil {
			return err
		}
		_, err := tx.Events().Append(ev)
		return err
	})
	if err != nil {
		s.log.Error("recording a failed invite redemption", zap.String("invite", red.InviteID), zap.Error(err))
	}
	return rerr
}

// forgetUser marks a user that this redemption created, and whose shares were all undone, as
// removed (it never had access), so it does not show as an active user.
func (s *Service) forgetUser(id int64, now time.Time) {
	_, err := s.store.UpdateUser(id, func(u *storage.User) error {
		for _, sh := range u.Shares {
			if sh.ShareID > 0 {
				return nil // something could not be undone: keep the record as it is
			}
		}
		u.Shares = nil
		u.Status = storage.StatusRemoved
		t := now
		u.RemovedAt = &t
		u.InviteID = ""
		u.UpdatedAt = now
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("marking the user of a failed redemption as removed", zap.Int64("user", id), zap.Error(err))
	}
}

// sameShare reports whether two shares grant the same access.
func sameShare(a, b storage.Share) bool {
	return slices.Equal(a.Libraries, b.Libraries) && a.AllLibraries == b.AllLibraries &&
		a.AllowDownloads == b.AllowDownloads && a.Filters == b.Filters
}

// shareOf returns the user's share of a server before the redemption.
func shareOf(u *storage.User, serverID string) (storage.Share, bool) {
	if u == nil || u.Status == storage.StatusRemoved || u.Status == storage.StatusExpired {
		return storage.Share{}, false
	}
	sh, ok := u.Shares[serverID]
	return sh, ok
}

// recordFailure records an attempt refused before any use was reserved (unusable invite, Discord
// requirement): a failed redemption (which claims nothing) and an invite.failed event.
func (s *Service) recordFailure(req RedeemRequest, now time.Time, cause error, inv *storage.Invite) {
	if inv == nil {
		return // unknown invite: there is nothing to attach history to
	}
	rerr := redeemFailure(cause)
	red := storage.Redemption{ID: storage.NewID(), InviteID: inv.ID, UserID: req.Account.ID, Username: req.Account.name(),
		At: now, IP: req.IP, Outcome: storage.OutcomeFailed, Reason: rerr.Reason}
	ev := s.failureEvent(req, inv.ID, now, rerr)
	err := s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Redemptions().Put(red); err != nil {
			return err
		}
		_, err := tx.Events().Append(ev)
		return err
	})
	if err != nil {
		s.log.Error("recording a refused invite redemption", zap.String("invite", inv.ID), zap.Error(err))
	}
}

// failureEvent builds the invite.failed event of an attempt.
func (s *Service) failureEvent(req RedeemRequest, inviteID string, now time.Time, rerr *RedeemError) storage.Event {
	ev := storage.Event{
		ID: storage.NewEventID(now), At: now, Type: EventFailed, Actor: access.ActorUser(req.Account.ID),
		UserID: req.Account.ID, InviteID: inviteID,
		Message: fmt.Sprintf("%s could not join: %s", req.Account.name(), rerr.Reason),
		Data:    map[string]any{"ip": req.IP},
	}
	if rerr.Err != nil {
		ev.Data["error"] = access.Explain(rerr.Err)
	}
	return ev
}
