package access

import (
	"context"
	"errors"
	"fmt"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Error is a validation error about one input field: handlers answer it with 400 and the field name.
type Error struct {
	// Field names the input (JSON name), e.g. "libraries", "expires_at".
	Field string `json:"field"`
	// Message says what is wrong, in plain language.
	Message string `json:"message"`
}

// Error formats the error as "field: message".
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// fieldError builds an *Error.
func fieldError(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Sentinel errors of the Service; test with errors.Is.
var (
	// ErrUserNotFound: no user with that id in the store.
	ErrUserNotFound = errors.New("user not found")
	// ErrServerNotFound: no server with that id in the store.
	ErrServerNotFound = errors.New("server not found")
	// ErrNoHeldSync: ConfirmHeldSync found nothing held (or a different id).
	ErrNoHeldSync = errors.New("no held sync change to confirm")
	// ErrRetryScheduled: Plex could not take the change now (down, rate limited, token rejected); it
	// is recorded as an intent and a later pass retries it. The error also wraps the Plex error. It
	// also matches a change whose Plex call was cut short because the caller's context ended (Caddy
	// stopping or reloading, a request given up): the error then wraps the context's error instead,
	// and the next pass carries the change on without counting an attempt.
	ErrRetryScheduled = errors.New("the change will be retried")
	// ErrBusy: an intent for the same user is still waiting to be retried; the change was not made.
	ErrBusy = errors.New("a change for this user is still waiting to be retried")
	// ErrEngineBusy: the operation waited for a running pass (one waiting for a slow Plex) as long as
	// its context allowed and gave up; nothing was changed. The error also wraps the context's error.
	ErrEngineBusy = errors.New("the engine is busy with a pass that waits for Plex")
)

// Explain returns a plain-language sentence for err, fit to show an admin. It never contains a token.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Error()
	}
	var se *errStopped
	if errors.As(err, &se) {
		if se.intent {
			return "Stopped before Plex answered (the server is stopping or reloading, or the request ended); the change is carried on by the next pass."
		}
		return "Stopped before Plex answered (the server is stopping or reloading, or the request ended); nothing was changed."
	}
	switch {
	case errors.Is(err, ErrEngineBusy):
		return "A background pass is waiting for Plex; nothing was changed. Try again in a minute."
	case errors.Is(err, ErrNoToken):
		return "No Plex token is configured yet: connect Plex in the setup first."
	case errors.Is(err, plex.ErrUnauthorized):
		return "Plex rejected the token: sign in to Plex again or enter a new token in the settings."
	case errors.Is(err, plex.ErrAlreadyShared):
		return "The server is already shared with this user (or an invitation is pending)."
	case errors.Is(err, plex.ErrNotFound):
		return "Plex does not know this user, share or invitation."
	case errors.Is(err, plex.ErrOffline), errors.Is(err, context.DeadlineExceeded):
		return "Plex could not be reached; the change will be retried."
	case errors.Is(err, plex.ErrRateLimited):
		return "plex.tv is limiting requests; the change will be retried."
	case errors.Is(err, plex.ErrForbidden):
		return "The Plex token may not do this."
	case errors.Is(err, plex.ErrPlexPassRequired):
		return "This needs Plex Pass on the server owner's account."
	case errors.Is(err, plex.ErrGone):
		return "plex.tv has retired the route this needs."
	case errors.Is(err, plex.ErrUnverifiedEmail):
		return "The Plex account's email address is not verified yet."
	case errors.Is(err, plex.ErrBadRequest), errors.Is(err, plex.ErrInvalidArgument):
		return "Plex refused the request: " + err.Error()
	case errors.Is(err, ErrUserNotFound):
		return "No such user."
	case errors.Is(err, ErrServerNotFound):
		return "No such server."
	case errors.Is(err, ErrBusy):
		return "A change for this user is waiting to be retried; try again after the next pass."
	case errors.Is(err, ErrNoHeldSync):
		return "There is no held sync change to confirm."
	case errors.Is(err, storage.ErrNotFound):
		return "Not found."
	}
	return err.Error()
}

// retryable reports whether a failed Plex call should be tried again later (Plex down, rate limited,
// timed out, token rejected — a new token makes it work) rather than given up.
func retryable(err error) bool {
	return errors.Is(err, plex.ErrOffline) || errors.Is(err, plex.ErrRateLimited) ||
		errors.Is(err, plex.ErrUnauthorized) || errors.Is(err, ErrNoToken) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, plex.ErrBadResponse)
}

// plexDown reports whether a failure means every further Plex call of a pass would fail the same way
// (unreachable, timing out, rate limited, token rejected or missing): the pass then stops calling Plex
// and leaves the rest to the next pass instead of waiting out a timeout per user.
func plexDown(err error) bool {
	return isRetryLater(err) && (errors.Is(err, plex.ErrOffline) || errors.Is(err, plex.ErrRateLimited) ||
		errors.Is(err, plex.ErrUnauthorized) || errors.Is(err, ErrNoToken) || errors.Is(err, context.DeadlineExceeded))
}
