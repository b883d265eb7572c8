package users

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Accepted is the body of a 202: the change is recorded and will be made when Plex answers again.
type Accepted struct {
	// Message says what happens, in plain language.
	Message string `json:"message"`
	// RetryScheduled is always true: a later pass carries the change out.
	RetryScheduled bool `json:"retry_scheduled"`
}

// inputField returns the field and message of a validation error (the engine's or a form's).
func inputField(err error) (field, message string, ok bool) {
	var fe *access.Error
	if errors.As(err, &fe) {
		return fe.Field, fe.Message, true
	}
	var ie *web.InputError
	if errors.As(err, &ie) {
		return ie.Field, ie.Message, true
	}
	return "", "", false
}

// errorStatus is the HTTP status of an engine error that is not a validation error.
func errorStatus(err error) int {
	switch {
	case errors.Is(err, access.ErrRetryScheduled):
		return http.StatusAccepted
	case errors.Is(err, access.ErrUserNotFound), errors.Is(err, access.ErrServerNotFound), errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, access.ErrBusy), errors.Is(err, access.ErrNoHeldSync), errors.Is(err, access.ErrEngineBusy):
		// ErrEngineBusy also wraps context.DeadlineExceeded: it must be matched before the Plex case.
		return http.StatusConflict
	case errors.Is(err, plex.ErrOffline), errors.Is(err, plex.ErrRateLimited), errors.Is(err, plex.ErrUnauthorized),
		errors.Is(err, access.ErrNoToken), errors.Is(err, plex.ErrBadResponse), errors.Is(err, context.DeadlineExceeded):
		return http.StatusBadGateway
	case errors.Is(err, plex.ErrAlreadyShared), errors.Is(err, plex.ErrNotFound), errors.Is(err, plex.ErrForbidden),
		errors.Is(err, plex.ErrPlexPassRequired), errors.Is(err, plex.ErrGone), errors.Is(err, plex.ErrUnverifiedEmail),
		errors.Is(err, plex.ErrBadRequest), errors.Is(err, plex.ErrInvalidArgument), errors.Is(err, access.ErrUnsupported):
		return http.StatusUnprocessableEntity
	}
	return web.ServerStatus(err)
}

// serverFailure reports whether status is one of the failures of the server itself that
// web.ServerStatus picks: 507 (the store refused a write: data disk full), 503 (the store is
// closed: Caddy is stopping or reloading) or 500.
func serverFailure(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusInsufficientStorage:
		return true
	}
	return false
}

// Messages of the pages for a store failure; like the kit's error page, they never show the error.
const (
	diskFullMessage = "The server's data disk is full, so the change could not be saved. Ask the administrator to free disk space, then try again."
	closedMessage   = "The database is not available (the server is stopping or reloading). Try again shortly."
)

// storeFailureMessage is a page's or a pass report's text for the store failure status (507 or
// 503).
func storeFailureMessage(status int) string {
	if status == http.StatusInsufficientStorage {
		return diskFullMessage
	}
	return closedMessage
}

// passError is the status of a pass that ended with err and the error text of its report
// (reported: what the engine put there): 200 when it did not fail; 507 or 503 with a fixed text
// when the store failed (logged; the store's error is not shown); else 502 with the engine's
// explanation.
func (f *Feature) passError(err error, reported string) (status int, message string) {
	if err == nil {
		return http.StatusOK, reported
	}
	if status := web.ServerStatus(err); status != http.StatusInternalServerError {
		f.log.Error("a pass failed in the store", zap.Int("status", status), zap.Error(err))
		return status, storeFailureMessage(status)
	}
	if errors.Is(err, access.ErrEngineBusy) {
		return http.StatusConflict, access.Explain(err) // another pass holds the engine; nothing was done
	}
	return http.StatusBadGateway, cmpOr(reported, access.Explain(err))
}

// apiError answers an error in the API: 400 naming the field, 202 for a change that will be
// retried, 404, 409, 422 when Plex refused, 502 when Plex could not be reached, else what
// web.ServerError answers (507 data disk full, 503 store closed, 500; logged, the error not shown).
func (f *Feature) apiError(w http.ResponseWriter, r *http.Request, err error) {
	if field, msg, ok := inputField(err); ok {
		web.BadInput(w, field, msg)
		return
	}
	switch status := errorStatus(err); {
	case status == http.StatusAccepted:
		web.JSON(w, status, Accepted{Message: access.Explain(err), RetryScheduled: true})
	case serverFailure(status):
		web.ServerError(w, r, f.log, "users API", err)
	default:
		web.JSONError(w, status, access.Explain(err))
	}
}

// serverError logs err and answers the error page (or the API's JSON error) web.ServerError picks:
// 507 when the data disk is full, 503 when the store is closed, else 500.
func (f *Feature) serverError(w http.ResponseWriter, r *http.Request, doing string, err error) {
	web.ServerError(w, r, f.log, doing, err)
}

// outcome is how a page reports the result of a change: the flash kind and message. ok is false
// when the change was not made (the page is shown again with the message and status); a change
// Plex will get at its next retry is ok, with a warning.
func (f *Feature) outcome(err error, done string) (kind, message string, status int, ok bool) {
	if err == nil {
		return web.FlashSuccess, done, http.StatusOK, true
	}
	if _, _, isInput := inputField(err); isInput {
		return web.FlashError, "Nothing was changed: " + access.Explain(err), http.StatusBadRequest, false
	}
	status = errorStatus(err)
	switch status {
	case http.StatusAccepted:
		return web.FlashWarning, "Saved, but " + lowerFirst(access.Explain(err)), status, true
	case http.StatusInternalServerError:
		f.log.Error("users page", zap.Error(err))
		return web.FlashError, "Something went wrong on the server; it has been logged.", status, false
	case http.StatusInsufficientStorage:
		f.log.Error("users page: the data disk is full", zap.Error(err))
		return web.FlashError, storeFailureMessage(status), status, false
	case http.StatusServiceUnavailable:
		f.log.Warn("users page: the store is closed", zap.Error(err))
		return web.FlashError, storeFailureMessage(status), status, false
	}
	return web.FlashError, access.Explain(err), status, false
}

// lowerFirst lower-cases the first letter of a sentence that continues another.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// prefixed puts prefix before the message of a refused change, unless the message already says
// that nothing changed (bad input).
func prefixed(prefix string, err error, message string) string {
	if _, _, isInput := inputField(err); isInput {
		return message
	}
	return prefix + message
}
