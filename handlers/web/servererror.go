package web

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Fixed API messages of ServerError. They say what happened and what to do, never what failed
// inside (no paths, keys or input).
const (
	apiDiskFullMessage = "data disk is full: nothing was changed; free disk space and try again"
	apiClosedMessage   = "the database is not available (the server is stopping or reloading); try again shortly"
	apiInternalMessage = "internal server error"
)

// ServerStatus returns the status a handler answers for an unexpected error err (one that is not
// the client's fault): 507 Insufficient Storage when the store refused a write because its data
// disk is full (storage.ErrDiskFull), 503 Service Unavailable when the store is closed
// (storage.ErrClosed: Caddy is stopping or reloading), 500 otherwise.
func ServerStatus(err error) int {
	switch {
	case errors.Is(err, storage.ErrDiskFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, storage.ErrClosed):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ServerError logs err and answers r with the status ServerStatus picks: the error page (its
// fixed text for 507 says that the data disk is full and nothing was changed), or under the API a
// fixed JSON message such as {"error":"data disk is full: nothing was changed; free disk space and
// try again"}. The answer never contains err's text.
//
// doing says what failed ("creating an invite"); it is the log message, so it must hold no
// secret. logger is the feature's logger; nil logs through the handler's own.
func ServerError(w http.ResponseWriter, r *http.Request, logger *zap.Logger, doing string, err error) {
	status := ServerStatus(err)
	e := envFrom(r)
	if logger == nil && e != nil {
		logger = e.mux.logger
	}
	if logger != nil {
		fields := []zap.Field{zap.Error(err), zap.Int("status", status), zap.String("method", r.Method), zap.String("route", r.Pattern)}
		if status == http.StatusServiceUnavailable {
			logger.Warn(doing, fields...)
		} else {
			logger.Error(doing, fields...)
		}
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if e != nil && e.mux.isAPIPath(r.URL.Path) {
		JSONError(w, status, apiServerMessage(status))
		return
	}
	Error(w, r, status)
}

// apiServerMessage is ServerError's JSON message for status.
func apiServerMessage(status int) string {
	switch status {
	case http.StatusInsufficientStorage:
		return apiDiskFullMessage
	case http.StatusServiceUnavailable:
		return apiClosedMessage
	}
	return apiInternalMessage
}
