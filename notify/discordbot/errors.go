package discordbot

import (
	"errors"
	"fmt"
	"time"
)

// Errors to test with errors.Is. Answers from Discord are *APIError values that match them.
var (
	// ErrInvalidToken: Discord refused the bot token (401). The Client sends nothing more.
	ErrInvalidToken = errors.New("the Discord bot token is invalid")
	// ErrCannotDM: the user does not accept direct messages from the bot (403, code 50007):
	// they closed DMs from server members or share no server with the bot. Not retried.
	ErrCannotDM = errors.New("the Discord user does not accept direct messages from the bot")
	// ErrUnknownUser: no Discord account has this id (404, code 10013).
	ErrUnknownUser = errors.New("unknown Discord user")
	// ErrRateLimited: Discord still answered 429 when the retries ran out, or asked for a wait
	// longer than Config.MaxRetryWait or than the context allows.
	ErrRateLimited = errors.New("rate limited by Discord beyond the retry budget")
	// ErrUnavailable: Discord answered 5xx, or did not answer, until the retries ran out.
	ErrUnavailable = errors.New("Discord is unavailable")
	// ErrInvalidUserID: the recipient is not a Discord user id (a snowflake); nothing was sent.
	ErrInvalidUserID = errors.New("not a Discord user id")
	// ErrEmptyMessage: the text is empty or blank; nothing was sent.
	ErrEmptyMessage = errors.New("empty message")
	// ErrBadAnswer: Discord's successful answer could not be read.
	ErrBadAnswer = errors.New("unexpected answer from Discord")
)

// Discord's JSON error codes the Client tells apart.
const (
	// CodeUnknownChannel: the channel does not exist (any more).
	CodeUnknownChannel = 10003
	// CodeUnknownUser: the user does not exist.
	CodeUnknownUser = 10013
	// CodeCannotDM: the user does not accept direct messages from the bot.
	CodeCannotDM = 50007
)

// APIError is an error answer from Discord's API.
type APIError struct {
	// Op is what was being done, e.g. "sending a Discord message".
	Op string
	// Status is the HTTP status and Code Discord's JSON error code (0 when absent).
	Status int
	Code   int
	// Message is Discord's message (cut, with the token removed should it appear).
	Message string
	// RetryAfter is the wait a 429 or 5xx asked for (0 when none); Global marks Discord's
	// global rate limit.
	RetryAfter time.Duration
	Global     bool
}

// Error describes the answer, e.g. "sending a Discord message: HTTP 403 (code 50007): Cannot
// send messages to this user".
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Status == 429 {
		scope := ""
		if e.Global {
			scope = "global "
		}
		s += fmt.Sprintf(" (%srate limit, retry after %s; beyond the retry budget)", scope, e.RetryAfter.Round(time.Millisecond))
	}
	return s
}

// Is matches the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidToken:
		return e.Status == 401
	case ErrCannotDM:
		return e.Code == CodeCannotDM
	case ErrUnknownUser:
		return e.Code == CodeUnknownUser || (e.Status == 404 && e.Code == 0 && e.Op == opOpenDM)
	case ErrRateLimited:
		return e.Status == 429
	case ErrUnavailable:
		return e.Status >= 500
	}
	return false
}

// transportError is a request that got no answer; it matches ErrUnavailable and the cause.
type transportError struct {
	text  string
	cause error
}

func (e *transportError) Error() string { return e.text }

func (e *transportError) Unwrap() []error { return []error{ErrUnavailable, e.cause} }
