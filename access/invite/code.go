package invite

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// CodeBytes is the number of random bytes in a generated invite code: 128 bits.
const CodeBytes = 16

// Custom code limits.
const (
	MinCodeLength = 3
	MaxCodeLength = 64
)

// codeEncoding is lower-case RFC 4648 base32 without padding: URL-safe, and unambiguous under the
// store's case-insensitive code index (base64 would lose entropy to case folding).
var codeEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewCode returns a random invite code: CodeBytes bytes from crypto/rand as 26 lower-case base32
// characters.
func NewCode() string {
	b := make([]byte, CodeBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (it aborts the program instead)
	return codeEncoding.EncodeToString(b)
}

// reservedCodes are path segments the public invite handler routes itself, or may route later, so
// a custom code can never shadow them.
func reservedCodes() []string {
	return []string{
		"healthz", "static", "api", "auth", "callback", "discord", "join", "skip", "done", "welcome",
		"qr", "admin", "login", "logout", "setup", "invite", "invites", "robots.txt", "favicon.ico",
		"well-known", "plex", "status", "metrics", "access", "account", "me", "users", "streams", "events",
		"unsubscribe", "api-keys", "settings", "admins", "openapi.json",
	}
}

// ReservedCodes lists the words a custom code may not be (compared case-insensitively).
func ReservedCodes() []string { return reservedCodes() }

// IsReserved reports whether code is a reserved word, case-insensitively.
func IsReserved(code string) bool {
	for _, w := range reservedCodes() {
		if strings.EqualFold(code, w) {
			return true
		}
	}
	return false
}

// CheckCustomCode validates a custom invite code: MinCodeLength to MaxCodeLength characters of
// ASCII letters, digits, '-' and '_', starting and ending with a letter or digit, and not a
// reserved word. It returns a plain-language reason, or "" when the code is fine.
func CheckCustomCode(code string) string {
	if len(code) < MinCodeLength || len(code) > MaxCodeLength {
		return "must be 3 to 64 characters long"
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case isAlnum(c):
		case c == '-' || c == '_':
			if i == 0 || i == len(code)-1 {
				return "must start and end with a letter or digit"
			}
		default:
			return "may contain only letters, digits, '-' and '_'"
		}
	}
	if IsReserved(code) {
		return "is a reserved word"
	}
	return ""
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// plausibleCode reports whether s could be any invite code (random or custom): the public handler
// skips the store for anything else, answering exactly as for an unknown code.
func plausibleCode(s string) bool {
	if len(s) < MinCodeLength || len(s) > MaxCodeLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
