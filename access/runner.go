package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// errRetryLater wraps the Plex error of a step that will be retried by a later pass.
type errRetryLater struct{ err error }

// Error says the change waits for a retry, and why.
func (e *errRetryLater) Error() string {
	return "Plex could not complete the change; it will be retried: " + e.err.Error()
}

// Unwrap returns the Plex error.
func (e *errRetryLater) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrRetryScheduled) true.
func (e *errRetryLater) Is(target error) bool { return target == ErrRetryScheduled }

// isRetryLater reports whether err says the change is waiting for a retry.
func isRetryLater(err error) bool {
	var r *errRetryLater
	return errors.As(err, &r)
}

// errRolledBack says an intent was abandoned because the change is no longer wanted.
var errRolledBack = errors.New("change rolled back: no longer wanted")

// resultOf maps an operation's error to a report result.
func resultOf(err error) (string, string) {
	switch {
	case err == nil:
		return ResultDone, ""
	case isStopped(err):
		return ResultSkipped, Explain(err)
	case isRetryLater(err):
		return ResultRetry, Explain(err)
	case errors.Is(err, errRolledBack):
		return ResultSkipped, err.Error()
	}
	return ResultFailed, Explain(err)
}

// prepareFunc writes store changes in the transaction that records a new intent (UpdateUser stores its
// plain fields there, so they commit with the intent or not at all).
type prepareFunc func(tx *storage.Tx) error

// runOp records o as a pending intent (together with prepare's changes), then carries it out. The
// caller holds the pass lock.
func (s *Service) runOp(ctx context.Context, o op, prepare prepareFunc) error {
	_, err := s.runOpUser(ctx, o, prepare)
	return err
}

// runOpUser is runOp returning the user the operation was for (a created managed user's new id).
func (s *Service) runOpUser(ctx context.Context, o op, prepare prepareFunc) (int64, error) {
	in, err := s.writeIntent(o, prepare)
	if err != nil {
		return 0, err
	}
	err = s.execIntent(ctx, in, &o)
	return o.UserID, err
}

// writeIntent stores o as a pending intent, with prepare's changes in the same transaction.
func (s *Service) writeIntent(o op, prepare prepareFunc) (storage.Intent, error) {
	payload, err := encodeOp(o)
	if err != nil {
		return storage.Intent{}, err
	}
	now := s.clock()
	in := storage.Intent{
		ID: storage.NewID(), Kind: o.Kind, UserID: o.UserID, ServerID: o.serverID(), Payload: payload,
		Reason: o.Reason, State: storage.IntentPending, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.Update(func(tx *storage.Tx) error {
		if prepare != nil {
			if err := prepare(tx); err != nil {
				return err
			}
		}
		return tx.Intents().Put(in)
	})
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return storage.Intent{}, err
		}
		return storage.Intent{}, fmt.Errorf("recording the intent to %s user %d: %w", o.Kind, o.UserID, err)
	}
	return in, nil
}

// execIntent carries out the steps of o that are not done, recording each in the store as it
// succeeds; the last one also applies the final change, records the audit event and completes the
// intent, all in one transaction. A Plex failure that may pass keeps the intent pending with a backoff
// (the error wraps errRetryLater); any other failure marks it failed and records intent.failed. A call
// cut short because ctx ended (Caddy stopping or reloading, a request given up) is no Plex failure: the
// intent is left as it was, pending and due, for the next pass (the error wraps an *errStopped).
func (s *Service) execIntent(ctx context.Context, in storage.Intent, o *op) error {
	if len(o.Steps) == 0 {
		return s.completeStep(in, o, -1, stepResult{})
	}
	for i := range o.Steps {
		if o.Steps[i].Done {
			continue
		}
		res, err := s.callStep(ctx, *o, &o.Steps[i])
		if err != nil && wasStopped(ctx) {
			// No attempt is counted, no backoff moved, no event recorded: every step is idempotent, so
			// the next pass carries the intent on whether or not this call reached Plex.
			return fmt.Errorf("%s user %d: %w", o.Kind, o.UserID, &errStopped{err: ctx.Err(), intent: true})
		}
		if err != nil {
			return s.failIntent(in, *o, err)
		}
		if err := s.completeStep(in, o, i, res); err != nil {
			return err
		}
	}
	return nil
}

// stepResult is what Plex said about a successful step.
type stepResult struct {
	ShareID int64
	Pending bool
	// UserID is the id of a created managed user.
	UserID int64
}

// callStep makes the Plex call of st idempotently.
func (s *Service) callStep(ctx context.Context, o op, st *step) (stepResult, error) {
	switch st.Call {
	case callShare:
		return s.ensureShare(ctx, o.UserID, st, false)
	case callUpdateShare:
		return s.ensureShare(ctx, o.UserID, st, true)
	case callRemoveShare, callCancelInvite:
		return stepResult{}, s.removeShare(ctx, o.UserID, st)
	case callRemoveFriend:
		if o.UserID <= 0 {
			return stepResult{}, nil
		}
		err := s.observe(s.gw.RemoveFriend(ctx, o.UserID))
		if errors.Is(err, plex.ErrNotFound) {
			err = nil
		}
		return stepResult{}, err
	case callCreateManaged:
		return s.createManaged(ctx, st)
	case callRemoveHomeUser:
		err := s.observe(s.gw.RemoveHomeUser(ctx, o.UserID))
		if errors.Is(err, plex.ErrNotFound) {
			err = nil
		}
		return stepResult{}, err
	}
	return stepResult{}, fmt.Errorf("unknown step %q", st.Call)
}

// ensureShare puts the step's share on Plex: update when a share id is known (creating it when Plex
// no longer has it), else create ("already shared": look the share up and update it).
func (s *Service) ensureShare(ctx context.Context, userID int64, st *step, update bool) (stepResult, error) {
	updateShare := func(shareID int64) error {
		if st.AllLibraries {
			return s.observe(s.gw.UpdateShareAll(ctx, st.ServerID, shareID, st.settings()))
		}
		return s.observe(s.gw.UpdateShare(ctx, st.ServerID, shareID, st.SectionIDs, st.settings()))
	}
	if update && st.ShareID > 0 {
		err := updateShare(st.ShareID)
		if err == nil {
			return stepResult{ShareID: st.ShareID, Pending: false}, nil
		}
		if !errors.Is(err, plex.ErrNotFound) {
			return stepResult{}, err
		}
	}
	req := plex.ShareRequest{MachineID: st.ServerID, InviteeID: st.InviteeID, SectionIDs: st.SectionIDs, ShareAll: st.AllLibraries,
		Settings: st.settings()}
	if st.AllLibraries {
		req.SectionIDs = nil
	}
	if req.InviteeID <= 0 {
		req.Invitee = st.Invitee
	}
	res, err := s.gw.Share(ctx, req)
	err = s.observe(err)
	if err == nil {
		return stepResult{ShareID: res.ShareID, Pending: res.Pending}, nil
	}
	if !errors.Is(err, plex.ErrAlreadyShared) {
		return stepResult{}, err
	}
	found, ferr := s.findShare(ctx, st.ServerID, userID, cmpOr(st.Login, cmpOr(st.Email, st.Invitee)))
	if ferr != nil {
		return stepResult{}, fmt.Errorf("plex reports an existing share but it could not be found: %w", ferr)
	}
	if err := updateShare(found.ShareID); err != nil {
		return stepResult{}, err
	}
	return stepResult{ShareID: found.ShareID, Pending: found.Pending}, nil
}

// removeShare takes a share (or invitation) off Plex; "not found" is done. A share id that is not
// known is looked up first; none found means there is nothing to remove.
func (s *Service) removeShare(ctx context.Context, userID int64, st *step) error {
	shareID, pending := st.ShareID, st.Call == callCancelInvite
	if shareID <= 0 {
		found, err := s.findShare(ctx, st.ServerID, userID, cmpOr(st.Login, st.Email))
		if errors.Is(err, plex.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		shareID, pending = found.ShareID, found.Pending
	}
	var err error
	if pending {
		inv := plex.PendingInvite{ShareID: shareID, MachineID: st.ServerID, Email: st.Email}
		if userID > 0 {
			inv.InviteeID = userID
		}
		err = s.gw.CancelInvite(ctx, inv)
	} else {
		err = s.gw.RemoveShare(ctx, st.ServerID, shareID)
	}
	err = s.observe(err)
	if errors.Is(err, plex.ErrNotFound) {
		return nil
	}
	return err
}

// findShare looks a user's share of a server up on Plex (by id, else by email or username): one Users
// call.
func (s *Service) findShare(ctx context.Context, serverID string, userID int64, login string) (plex.UserShare, error) {
	users, err := s.gw.Users(ctx, serverID)
	if err = s.observe(err); err != nil {
		return plex.UserShare{}, err
	}
	for _, u := range users {
		match := (userID > 0 && u.ID == userID) ||
			(login != "" && (strings.EqualFold(u.Email, login) || strings.EqualFold(u.Username, login)))
		if !match {
			continue
		}
		if sh, ok := u.Shares[serverID]; ok && sh.ShareID > 0 {
			return sh, nil
		}
	}
	return plex.UserShare{}, &plex.Error{Kind: plex.ErrNotFound, Message: "no share of this server for the user"}
}

// completeStep records step i of o as done: the user's record follows, the intent's payload moves on,
// and after the last step the final change, the audit event and the intent's completion go in the
// same transaction. i < 0 completes an operation without steps.
func (s *Service) completeStep(in storage.Intent, o *op, i int, res stepResult) error {
	last := i == len(o.Steps)-1
	if i >= 0 {
		o.Steps[i].Done = true
	}
	payload, err := encodeOp(*o)
	if err != nil {
		return err
	}
	now := s.clock()
	if i >= 0 && o.Steps[i].Call == callCreateManaged {
		o.UserID = res.UserID
		if payload, err = encodeOp(*o); err != nil {
			return err
		}
	}
	err = s.store.Update(func(tx *storage.Tx) error {
		u, err := tx.Users().Get(o.UserID)
		missing := errors.Is(err, storage.ErrNotFound)
		if err != nil && !missing {
			return err
		}
		if missing && i >= 0 && o.Steps[i].Call == callCreateManaged {
			u, missing = storage.User{ID: res.UserID, Title: o.Steps[i].Name, Kind: storage.KindManaged,
				Status: storage.StatusActive, CreatedAt: now}, false
		}
		if !missing {
			if i >= 0 {
				applyStep(&u, o.Steps[i], res)
			}
			if last {
				applyFinal(&u, o.Final, now)
			}
			u.UpdatedAt = now
			if err := putUser(tx, u); err != nil {
				return err
			}
		}
		cur, err := tx.Intents().Get(in.ID)
		if err != nil {
			return err
		}
		cur.Payload = payload
		cur.UpdatedAt = now
		if cur.UserID == 0 {
			cur.UserID = o.UserID
		}
		if !last {
			return tx.Intents().Put(cur)
		}
		if err := tx.Intents().Put(cur); err != nil {
			return err
		}
		if _, err := tx.Intents().MarkDone(in.ID, now); err != nil {
			return err
		}
		if err := setCooldown(tx, o.UserID, time.Time{}); err != nil {
			return err
		}
		if o.Final.Event == "" {
			return nil
		}
		_, err = tx.Events().Append(opEvent(now, *o, u))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the %s of user %d: %w", o.Kind, o.UserID, err)
	}
	return nil
}

// opEvent is the audit event of a completed operation.
func opEvent(now time.Time, o op, u storage.User) storage.Event {
	data := map[string]any{"reason": o.Reason, "action": o.Kind}
	for k, v := range o.Final.Data {
		data[k] = v
	}
	var servers []map[string]any
	for _, st := range o.Steps {
		entry := map[string]any{"call": st.Call, "server_id": st.ServerID}
		if len(st.Libraries) > 0 {
			entry["libraries"] = st.Libraries
		}
		if st.AllLibraries {
			entry["all_libraries"] = true
		}
		servers = append(servers, entry)
	}
	if len(servers) > 0 {
		data["steps"] = servers
	}
	msg := o.Final.Message
	if o.Reason != "" && !strings.Contains(msg, o.Reason) {
		msg += " (" + o.Reason + ")"
	}
	return newEvent(now, o.Final.Event, o.Actor, o.UserID, o.serverID(), msg, data)
}

// applyStep changes the user's record after a successful step.
func applyStep(u *storage.User, st step, res stepResult) {
	switch st.Call {
	case callShare, callUpdateShare:
		if u.Shares == nil {
			u.Shares = map[string]storage.Share{}
		}
		prev := u.Shares[st.ServerID]
		pending := res.Pending
		if st.Call == callUpdateShare && res.ShareID == prev.ShareID {
			pending = prev.Pending
		}
		u.Shares[st.ServerID] = storage.Share{
			ShareID: res.ShareID, Libraries: append([]string(nil), st.Libraries...), AllLibraries: st.AllLibraries, AllowDownloads: st.AllowSync,
			Filters: st.Filters, Pending: pending, LibraryWindows: st.Windows,
		}
	case callRemoveShare, callCancelInvite:
		sh, ok := u.Shares[st.ServerID]
		if !ok {
			return
		}
		if st.Keep {
			sh.ShareID, sh.Pending = 0, false
			u.Shares[st.ServerID] = sh
			return
		}
		delete(u.Shares, st.ServerID)
	}
}

// applyFinal applies an operation's final change.
func applyFinal(u *storage.User, f final, now time.Time) {
	if f.ClearShares {
		u.Shares = nil
	}
	switch f.Status {
	case finalKeep:
	case finalDerive:
		u.Status = derivedStatus(*u)
		if u.Status == storage.StatusActive || u.Status == storage.StatusPending {
			u.RemovedAt = nil
		}
	case storage.StatusExpired, storage.StatusRemoved:
		u.Status = f.Status
		u.RemovedAt = utcPtr(now)
	default:
		u.Status = f.Status
	}
}

// derivedStatus is the status a user's shares imply once access has started: active with a share that
// is accepted (Home and managed users always), pending while every share waits for acceptance.
func derivedStatus(u storage.User) string {
	if u.Kind == storage.KindHome || u.Kind == storage.KindManaged {
		return storage.StatusActive
	}
	anyPending := false
	for _, sh := range u.Shares {
		if sh.ShareID <= 0 {
			continue
		}
		if !sh.Pending {
			return storage.StatusActive
		}
		anyPending = true
	}
	if anyPending {
		return storage.StatusPending
	}
	return storage.StatusActive
}

// failIntent records a failed step: pending with a backoff when the failure may pass, failed otherwise.
func (s *Service) failIntent(in storage.Intent, o op, cause error) error {
	now := s.clock()
	msg := Explain(cause)
	if retryable(cause) {
		cur, err := s.store.GetIntent(in.ID)
		if err != nil {
			return fmt.Errorf("reading intent %s: %w", in.ID, err)
		}
		notBefore := now.Add(s.backoff(cur.Attempts + 1))
		err = s.store.Update(func(tx *storage.Tx) error {
			if _, err := tx.Intents().Retry(in.ID, msg, notBefore, now); err != nil {
				return err
			}
			if cur.Attempts > 0 {
				return nil // one event per outage, not one per attempt
			}
			_, err := tx.Events().Append(newEvent(now, EventIntentRetry, o.Actor, o.UserID, o.serverID(),
				fmt.Sprintf("Plex could not %s now; retrying after %s", describeKind(o.Kind), notBefore.Format(time.RFC3339)),
				map[string]any{"error": msg, "intent": in.ID, "action": o.Kind}))
			return err
		})
		if err != nil {
			return fmt.Errorf("recording the retry of intent %s: %w", in.ID, err)
		}
		return &errRetryLater{err: cause}
	}
	err := s.store.Update(func(tx *storage.Tx) error {
		if _, err := tx.Intents().MarkFailed(in.ID, msg, now); err != nil {
			return err
		}
		if o.Actor == ActorSystem && o.UserID != 0 {
			// A scheduled change Plex refuses is not tried again at every pass.
			if err := setCooldown(tx, o.UserID, now.Add(refusedCooldown)); err != nil {
				return err
			}
		}
		_, err := tx.Events().Append(newEvent(now, EventIntentFailed, o.Actor, o.UserID, o.serverID(),
			fmt.Sprintf("Plex refused to %s: %s", describeKind(o.Kind), msg),
			map[string]any{"error": msg, "intent": in.ID, "action": o.Kind, "reason": o.Reason}))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the failure of intent %s: %w", in.ID, err)
	}
	return fmt.Errorf("%s user %d: %w", o.Kind, o.UserID, cause)
}

// rollBack abandons a pending intent whose change is no longer wanted.
func (s *Service) rollBack(in storage.Intent, o op, why string) error {
	now := s.clock()
	err := s.store.Update(func(tx *storage.Tx) error {
		if _, err := tx.Intents().MarkFailed(in.ID, "rolled back: "+why, now); err != nil {
			return err
		}
		_, err := tx.Events().Append(newEvent(now, EventIntentRolledBack, ActorSystem, o.UserID, o.serverID(),
			fmt.Sprintf("An unfinished change (%s) was rolled back: %s", describeKind(o.Kind), why),
			map[string]any{"intent": in.ID, "action": o.Kind}))
		return err
	})
	if err != nil {
		return fmt.Errorf("rolling back intent %s: %w", in.ID, err)
	}
	return errRolledBack
}

// backoff is the delay before attempt n (n ≥ 1) of a failed intent.
func (s *Service) backoff(n int) time.Duration {
	d := s.retryBase
	for i := 1; i < n && d < s.retryMax; i++ {
		d *= 2
	}
	return min(d, s.retryMax)
}

// describeKind names an action in a sentence.
func describeKind(kind string) string {
	switch kind {
	case ActionStart:
		return "start access"
	case ActionExpire:
		return "end access"
	case ActionLibraryStart, ActionLibraryExpire:
		return "change the libraries"
	case ActionShare:
		return "share"
	case ActionRevoke:
		return "remove the share"
	case ActionRemoveUser:
		return "remove the user"
	case ActionPurge:
		return "purge the user"
	}
	return strings.ReplaceAll(kind, "_", " ")
}

// cmpOr returns the first non-empty string.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
