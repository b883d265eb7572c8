package invite

import (
	"errors"
	"fmt"
)

// FieldError is a validation failure of one invite field, shown to the admin (a 400 naming the
// field in the REST API). Field uses the REST API's field names ("code", "libraries",
// "filters.movies", …).
type FieldError struct {
	// Field is the offending field.
	Field string
	// Message says what is wrong, in plain language.
	Message string
}

// Error formats the failure as "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// fieldErr builds a *FieldError.
func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Errors of the public side. A code that cannot be used is always ErrUnusable, whatever the
// reason, so the public pages cannot tell unknown, expired, used-up and disabled codes apart.
var (
	// ErrUnusable means the invite is unknown, disabled, expired or used up.
	ErrUnusable = errors.New("invite cannot be used")
	// ErrNotFound means no invite has that id (admin side).
	ErrNotFound = errors.New("invite not found")
	// ErrInProgress means another redemption by the same account is still running.
	ErrInProgress = errors.New("a sign-up for this account is already in progress")
	// ErrDiscordRequired means the invite requires Discord and none was given.
	ErrDiscordRequired = errors.New("this invite requires signing in with Discord")
	// ErrNotInGuild means the Discord account is not a member of the required guild.
	ErrNotInGuild = errors.New("the Discord account is not a member of the required server")
)
