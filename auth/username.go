package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUsernameLength bounds an admin's username.
const MaxUsernameLength = 64

// NormalizeUsername trims spaces around name.
func NormalizeUsername(name string) string { return strings.TrimSpace(name) }

// CheckUsername validates an admin username: 1–64 characters, letters, digits and . _ - @ only
// (no spaces, no slashes), starting with a letter or digit. The error is an *InvalidError for
// the field "username".
func CheckUsername(name string) error {
	name = NormalizeUsername(name)
	switch {
	case name == "":
		return &InvalidError{Field: "username", Reason: "Enter a username."}
	case !utf8.ValidString(name):
		return &InvalidError{Field: "username", Reason: "The username contains invalid characters."}
	case utf8.RuneCountInString(name) > MaxUsernameLength:
		return &InvalidError{Field: "username", Reason: "Use at most 64 characters."}
	}
	first, _ := utf8.DecodeRuneInString(name)
	if !unicode.IsLetter(first) && !unicode.IsDigit(first) {
		return &InvalidError{Field: "username", Reason: "Start with a letter or a digit."}
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return &InvalidError{Field: "username", Reason: "Use letters, digits and . _ - @ only."}
		}
	}
	return nil
}
