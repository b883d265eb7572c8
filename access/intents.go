package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// ResumeIntents finishes the Plex changes left pending by a crash or an outage: call it at start,
// before the loops. Each pending intent is carried on from its first step not done (every step is
// idempotent, so a call that reached Plex before the crash is not made twice in effect) or rolled back
// when its change is no longer wanted (the user is gone, or was removed since). Intents Plex still
// cannot take stay pending for the next pass. The error reports store failures only.
func (s *Service) ResumeIntents(ctx context.Context) error {
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	_, _, err := s.retryDue(ctx, s.clock(), true)
	return err
}

// retryDue carries on the pending intents whose backoff has passed (all of them when all is set) and
// reports each as a change. Once one finds Plex down (see plexDown) the others are left for a later
// pass; down reports it.
func (s *Service) retryDue(ctx context.Context, now time.Time, all bool) (out []Change, down bool, err error) {
	pending, err := s.store.PendingIntents()
	if err != nil {
		return nil, false, fmt.Errorf("reading pending intents: %w", err)
	}
	for _, in := range pending {
		if !all && in.NotBefore.After(now) {
			continue
		}
		if ctx.Err() != nil || down {
			break
		}
		c, cerr, err := s.resumeIntent(ctx, in)
		if err != nil {
			return out, down, err
		}
		down = plexDown(cerr)
		out = append(out, c)
	}
	return out, down, nil
}

// resumeIntent carries on one pending intent. It returns the change, the operation's own error (a
// Plex failure, also in the change's result) and, separately, a store failure.
func (s *Service) resumeIntent(ctx context.Context, in storage.Intent) (Change, error, error) {
	o, err := s.decodeIntent(in)
	if err != nil {
		return Change{Action: in.Kind, UserID: in.UserID, Result: ResultFailed, Error: err.Error()}, err, nil
	}
	if why, stale, err := s.staleIntent(in, o); err != nil {
		return Change{}, nil, err
	} else if stale {
		err := s.rollBack(in, o, why)
		if !errors.Is(err, errRolledBack) {
			return Change{}, nil, err
		}
		return o.change(ResultSkipped, "rolled back: "+why), err, nil
	}
	err = s.execIntent(ctx, in, &o)
	result, msg := resultOf(err)
	return o.change(result, msg), err, nil
}

// decodeIntent reads an intent's operation; an unreadable one is marked failed.
func (s *Service) decodeIntent(in storage.Intent) (op, error) {
	o, err := decodeOp(in)
	if err == nil {
		return o, nil
	}
	if _, merr := s.store.MarkIntentFailed(in.ID, "unreadable operation", s.clock()); merr != nil {
		return op{}, fmt.Errorf("%w (and marking it failed: %v)", err, merr)
	}
	return op{}, err
}

// staleIntent reports whether a pending operation is no longer wanted: the user record is gone, or an
// operation that gives access is for a user removed after the intent was written.
func (s *Service) staleIntent(in storage.Intent, o op) (string, bool, error) {
	if len(o.Steps) > 0 && o.Steps[0].Call == callCreateManaged && !o.Steps[0].Done {
		return "", false, nil // the user record is written when the managed user exists
	}
	u, err := s.store.GetUser(o.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return "the user no longer exists", true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading user %d: %w", o.UserID, err)
	}
	gives := false
	for _, st := range o.Steps {
		if !st.Done && (st.Call == callShare || st.Call == callUpdateShare) {
			gives = true
		}
	}
	if gives && u.Status == storage.StatusRemoved && u.RemovedAt != nil && u.RemovedAt.After(in.CreatedAt) {
		return "the user was removed since", true, nil
	}
	return "", false, nil
}
