package auth

import (
	"bufio"
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinPasswordLength is the least number of characters (runes) of an admin password.
const MinPasswordLength = 12

//go:embed common-passwords.txt
var commonPasswordsText string

// WeakPasswordError says why a password was refused, in words for the person choosing it.
type WeakPasswordError struct {
	// Reason is the sentence shown next to the password field.
	Reason string
}

// Error returns "weak password: <reason>".
func (e *WeakPasswordError) Error() string { return "weak password: " + e.Reason }

// CommonPasswords is the embedded list of refused common passwords (lower case).
type CommonPasswords map[string]struct{}

// LoadCommonPasswords parses the embedded list.
func LoadCommonPasswords() CommonPasswords {
	set := CommonPasswords{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
}

// Contains reports whether password (compared case-insensitively) is on the list.
func (c CommonPasswords) Contains(password string) bool {
	_, ok := c[strings.ToLower(password)]
	return ok
}

// CheckPasswordStrength returns a *WeakPasswordError unless password has at least
// MinPasswordLength characters (and at most MaxPasswordBytes bytes), mixes at least two kinds of
// character (lower case, upper case, digits, others), is not the username and does not contain
// it, and is not on the list of common passwords.
func CheckPasswordStrength(password, username string, common CommonPasswords) error {
	if !utf8.ValidString(password) {
		return &WeakPasswordError{"The password contains invalid characters."}
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return &WeakPasswordError{"Use at least 12 characters."}
	}
	if len(password) > MaxPasswordBytes {
		return &WeakPasswordError{"Use at most 1024 bytes."}
	}
	if strings.TrimSpace(password) == "" {
		return &WeakPasswordError{"The password cannot be only spaces."}
	}
	if classes(password) < 2 {
		return &WeakPasswordError{"Mix at least two kinds of characters: lower case, upper case, digits or symbols."}
	}
	if distinct(password) < 4 {
		return &WeakPasswordError{"Use more different characters."}
	}
	user := strings.ToLower(strings.TrimSpace(username))
	lower := strings.ToLower(password)
	if user != "" && (lower == user || (utf8.RuneCountInString(user) >= 3 && strings.Contains(lower, user))) {
		return &WeakPasswordError{"The password must not contain the username."}
	}
	if common.Contains(password) {
		return &WeakPasswordError{"This password is too common. Choose another one."}
	}
	return nil
}

// classes counts the kinds of character in s: lower case, upper case, digits, others.
func classes(s string) int {
	var lower, upper, digit, other bool
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// distinct counts the different characters of s.
func distinct(s string) int {
	seen := map[rune]struct{}{}
	for _, r := range s {
		seen[r] = struct{}{}
	}
	return len(seen)
}
