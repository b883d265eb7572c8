package access

import (
	"context"
	"errors"
)

// errStopped says the caller's context was cancelled — Caddy stopping or reloading (every reload stops
// the old config's loops), an admin's request given up — while a Plex call was in flight. The call's failure then says nothing about Plex, so nothing is recorded for it: no attempt,
// backoff or event of an intent, no server marked offline, no failed pass, no outage noted.
type errStopped struct {
	// err is the context's error (context.Canceled).
	err error
	// intent is set when an intent was interrupted: it stays pending and due as it was, the next pass
	// carries it on, and the error matches ErrRetryScheduled.
	intent bool
}

// Error says the work stopped before Plex answered.
func (e *errStopped) Error() string {
	if e.intent {
		return "stopped before Plex answered; the change is carried on by the next pass: " + e.err.Error()
	}
	return "stopped before Plex answered: " + e.err.Error()
}

// Unwrap returns the context's error.
func (e *errStopped) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrRetryScheduled) true for an interrupted intent.
func (e *errStopped) Is(target error) bool { return e.intent && target == ErrRetryScheduled }

// wasStopped reports whether ctx (the caller's, not a Plex call's own bound) was cancelled: Caddy
// stopping or reloading, or a request given up. A caller's deadline is not a stop: Plex did not answer
// within the time the caller gives it (an admin edit's 20 s, a refresh's minute), which is a Plex
// failure like any timeout; taking it for a stop left a timed-out change due at once, and the next pass
// retried it against the same hung Plex while holding the engine lock (the reliability suite saw an
// admin edit wait 10 s behind it).
func wasStopped(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

// stopped returns an *errStopped when ctx was cancelled (see wasStopped), else nil. Check it after a
// failed Plex call before taking the failure for Plex's.
func stopped(ctx context.Context) error {
	if wasStopped(ctx) {
		return &errStopped{err: ctx.Err()}
	}
	return nil
}

// orStopped returns err, the failure of a Plex call, or an *errStopped in its place when the caller's
// ctx has ended: the call was then cut short, not failed by Plex.
func orStopped(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if serr := stopped(ctx); serr != nil {
		return serr
	}
	return err
}

// isStopped reports whether err says the caller stopped before Plex answered.
func isStopped(err error) bool {
	var e *errStopped
	return errors.As(err, &e)
}
