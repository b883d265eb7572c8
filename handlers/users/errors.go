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
	case errors.Is(err, access.ErrBusy), errors.Is(err, access.ErrNoHeldSync):
		return http.StatusConflict
	case errors.Is(err, plex.ErrOffline), errors.Is(err, plex.ErrRateLimited), errors.Is(err, plex.ErrUnauthorized),
		errors.Is(err, access.ErrNoToken), errors.Is(err, plex.ErrBadResponse), errors.Is(err, context.DeadlineExceeded):
		return http.StatusBadGateway
	case errors.Is(err, plex.ErrAlreadyShared), errors.Is(err, plex.ErrNotFound), errors.Is(err, plex.ErrForbidden),
		errors.Is(err, plex.ErrPlexPassRequired), errors.Is(err, plex.ErrGone), errors.Is(err, plex.ErrUnverifiedEmail),
		errors.Is(err, plex.ErrBadRequest), errors.Is(err, plex.ErrInvalidArgument), errors.Is(err, access.ErrUnsupported):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// apiError answers an error in the API: 400 naming the field, 202 for a change that will be
// retried, 404, 409, 422 when Plex refused, 502 when Plex could not be reached, else 500 (logged).
func (f *Feature) apiError(w http.ResponseWriter, r *http.Request, err error) {
	if field, msg, ok := inputField(err); ok {
		web.BadInput(w, field, msg)
		return
	}
	switch status := errorStatus(err); status {
	case http.StatusAccepted:
		web.JSON(w, status, Accepted{Message: access.Explain(err), RetryScheduled: true})
	case http.StatusInternalServerError:
		f.log.Error("users API", zap.String("path", r.URL.Path), zap.Error(err))
		web.JSONError(w, status, "internal server error")
	default:
		web.JSONError(w, status, access.Explain(err))
	}
}

// serverError logs err and answers the 500 page.
func (f *Feature) serverError(w http.ResponseWriter, r *http.Request, doing string, err error) {
	f.log.Error(doing, zap.Error(err))
	web.Error(w, r, http.StatusInternalServerError)
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
