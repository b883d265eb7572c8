package plex

import (
	"fmt"
	"strings"
)

// Kind classifies a failure. Every error returned by this package that comes
// from talking to Plex (or from refusing to) is an *Error whose Kind is one of
// the constants below, so callers can write errors.Is(err, plex.ErrNotFound).
// A Kind is itself an error and is comparable; the constants are not variables,
// so nothing can reassign them.
type Kind string

// Error implements the error interface so that a Kind can be the target of
// errors.Is.
func (k Kind) Error() string { return string(k) }

// The failure kinds.
const (
	// ErrUnauthorized means Plex rejected the token (HTTP 401, or 422
	// "invalid token" on legacy routes).
	ErrUnauthorized Kind = "plex: token rejected"
	// ErrForbidden means the token is valid but may not do this (HTTP 403).
	ErrForbidden Kind = "plex: not allowed"
	// ErrNotFound means the resource (share, user, session, server, PIN
	// endpoint) does not exist (HTTP 404).
	ErrNotFound Kind = "plex: not found"
	// ErrAlreadyShared means the server is already shared with that user, or
	// an invitation is already pending (v2 HTTP 422, v1 HTTP 400 "already
	// sharing").
	ErrAlreadyShared Kind = "plex: already shared"
	// ErrGone means plex.tv retired the route (HTTP 410). Calls that have a
	// fallback route use it before returning this.
	ErrGone Kind = "plex: route retired"
	// ErrRateLimited means plex.tv kept answering 429 after every retry.
	ErrRateLimited Kind = "plex: rate limited"
	// ErrOffline means Plex could not be reached or kept failing: connection
	// errors, timeouts and HTTP 5xx after retries.
	ErrOffline Kind = "plex: unreachable"
	// ErrBadRequest means Plex refused the request as malformed (HTTP 400 or
	// 422 without a more specific meaning).
	ErrBadRequest Kind = "plex: request refused"
	// ErrPlexPassRequired means the server owner lacks Plex Pass for this
	// feature (for example 401 from the stream terminate route).
	ErrPlexPassRequired Kind = "plex: Plex Pass required"
	// ErrPINExpired means the sign-in PIN expired or is unknown (404 code
	// 1020), or it was not claimed before its deadline.
	ErrPINExpired Kind = "plex: sign-in PIN expired"
	// ErrPINPending means the sign-in PIN has not been claimed yet; poll
	// again later.
	ErrPINPending Kind = "plex: sign-in not completed yet"
	// ErrUnverifiedEmail means plex.tv refused because an account's email
	// address is not verified.
	ErrUnverifiedEmail Kind = "plex: email address not verified"
	// ErrBadResponse means Plex answered with something this client cannot
	// read (malformed body, unexpected status, body over the size limit).
	ErrBadResponse Kind = "plex: unreadable response"
	// ErrInvalidArgument means the client refused to send the request
	// because an argument is invalid; no call was made.
	ErrInvalidArgument Kind = "plex: invalid argument"
)

// Error is the error returned for every failed call. It never holds a token
// or a URL with a query string: Endpoint is a route template such as
// "POST /api/v2/shared_servers".
type Error struct {
	// Kind is the failure class; errors.Is(err, Kind) matches it.
	Kind Kind
	// Status is the HTTP status of the last response, or 0 when there was
	// no response (connection error, timeout, refused argument).
	Status int
	// Code is the numeric Plex error code from the body (1001, 1003, 1020,
	// 1999, ...), or 0 when none was given.
	Code int
	// Endpoint is the route template of the call.
	Endpoint string
	// Message is a plain-language explanation, safe to show and log.
	Message string
	// Err is the underlying cause (a network error, a decode error), if
	// any. It never carries a URL.
	Err error
}

// Error formats the error as "endpoint: message (HTTP status, code n)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("plex")
	if e.Endpoint != "" {
		b.WriteString(": ")
		b.WriteString(e.Endpoint)
	}
	b.WriteString(": ")
	msg := e.Message
	if msg == "" {
		msg = strings.TrimPrefix(string(e.Kind), "plex: ")
	}
	b.WriteString(msg)
	switch {
	case e.Status != 0 && e.Code != 0:
		fmt.Fprintf(&b, " (HTTP %d, code %d)", e.Status, e.Code)
	case e.Status != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	case e.Code != 0:
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Err != nil && e.Message == "" {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is this error's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// withKind returns a copy of e with another kind and, when msg is not empty,
// another message.
func (e *Error) withKind(k Kind, msg string) *Error {
	c := *e
	c.Kind = k
	if msg != "" {
		c.Message = msg
	}
	return &c
}

// invalidArg builds the error returned when an argument is refused before any
// call is made.
func invalidArg(endpoint, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalidArgument, Endpoint: endpoint, Message: fmt.Sprintf(format, args...)}
}

// asError returns err as *Error when it is one.
func asError(err error) (*Error, bool) {
	e, ok := err.(*Error)
	return e, ok
}

// kindForStatus maps an HTTP status to the generic failure kind. Callers
// refine it where a route gives a status a special meaning.
func kindForStatus(status int) Kind {
	switch {
	case status == 400:
		return ErrBadRequest
	case status == 401:
		return ErrUnauthorized
	case status == 403:
		return ErrForbidden
	case status == 404:
		return ErrNotFound
	case status == 410:
		return ErrGone
	case status == 422:
		return ErrBadRequest
	case status == 429:
		return ErrRateLimited
	case status >= 500:
		return ErrOffline
	default:
		return ErrBadResponse
	}
}

// defaultMessage is the plain-language text used when Plex gave none.
func defaultMessage(status int) string {
	switch kindForStatus(status) {
	case ErrBadRequest:
		return "Plex refused the request"
	case ErrUnauthorized:
		return "Plex rejected the token"
	case ErrForbidden:
		return "the token may not do this"
	case ErrNotFound:
		return "not found"
	case ErrGone:
		return "plex.tv has retired this route"
	case ErrRateLimited:
		return "plex.tv is rate limiting requests"
	case ErrOffline:
		return "Plex answered with a server error"
	default:
		return fmt.Sprintf("unexpected HTTP status %d", status)
	}
}
