package logbuf

import (
	"regexp"
	"strings"
	"unicode"
)

// Redacted replaces every secret the buffer refuses to keep.
const Redacted = "[REDACTED]"

// sensitiveWords are the words that make a field name secret when they appear as a word of it
// ("X-Plex-Token", "accessToken", "api_key", "client_secret", "passwordHash").
var sensitiveWords = map[string]bool{
	"token": true, "tokens": true, "secret": true, "secrets": true, "password": true, "passwords": true,
	"passwd": true, "pwd": true, "passphrase": true, "key": true, "keys": true, "apikey": true,
	"authorization": true, "cookie": true, "cookies": true, "credential": true, "credentials": true,
}

// SensitiveName reports whether a field named name may hold a secret: one of its words (split at
// punctuation and at lower-to-upper case changes) is token, secret, password, key, authorization,
// cookie, credential or a close variant. Names are compared case-insensitively.
func SensitiveName(name string) bool {
	for _, w := range nameWords(name) {
		if sensitiveWords[w] {
			return true
		}
	}
	return false
}

// nameWords splits a field name into lower-case words.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && prevLower {
				flush()
			}
			cur = append(cur, r)
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// assignment finds "name=value", "name: value" and "name":"value" forms whose name is a secret
// word, in messages and error strings (a URL query, a header dump, a JSON fragment).
var assignment = regexp.MustCompile(`(?i)((?:x-plex-token|[a-z_-]*(?:token|secret|password|passwd|api[_-]?key|authorization))["']?\s*[:=]\s*["']?)((?:bearer|basic)\s+)?([^\s&"',;}<>]+)`)

// bearer finds credentials after an authorization scheme anywhere in a text.
var bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})`)

// Redact returns s with secrets replaced by [REDACTED]: the values of token=, password:, secret=,
// api_key=, authorization: and X-Plex-Token= assignments, bearer and basic credentials, and any
// word that looks like a Plex token (exactly 20 characters of letters, digits, "-" and "_",
// mixing lower case with upper case or digits).
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = assignment.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	return redactTokenWords(s)
}

// plexTokenLen is the length of a Plex authentication token.
const plexTokenLen = 20

// isTokenChar reports whether c may appear in a Plex token.
func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// redactTokenWords replaces maximal runs of token characters that look like a Plex token.
func redactTokenWords(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isTokenChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		if j-i == plexTokenLen && looksLikeToken(s[i:j]) {
			b.WriteString(s[last:i])
			b.WriteString(Redacted)
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// looksLikeToken reports whether a 20-character word mixes lower case with upper case or digits,
// as random tokens do and ordinary identifiers ("configuration_loaded") do not.
func looksLikeToken(w string) bool {
	var lower, upperOrDigit bool
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			upperOrDigit = true
		}
	}
	return lower && upperOrDigit
}

// redactValue redacts one field value: everything under a sensitive name, strings through Redact,
// maps and slices recursively.
func redactValue(name string, v any) any {
	if SensitiveName(name) {
		return Redacted
	}
	switch x := v.(type) {
	case string:
		return truncate(Redact(x), maxFieldBytes)
	case []byte:
		return truncate(Redact(string(x)), maxFieldBytes)
	case error:
		return truncate(Redact(x.Error()), maxFieldBytes)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = redactValue(k, val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = redactValue("", val)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = truncate(Redact(val), maxFieldBytes)
		}
		return out
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128:
		return x
	default:
		// Durations, times and other values the map encoder keeps as they are: keep their
		// printed form, scrubbed.
		return truncate(Redact(stringOf(x)), maxFieldBytes)
	}
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// utf8RuneStart reports whether b starts a UTF-8 sequence.
func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
