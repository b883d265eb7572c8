package plex

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets of this file cover the small readers of outside text: the
// Retry-After header, the lenient scalars every decoder is built on, and the
// stored sign-in session.

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"120", " 5 ", "0", "-5", "+5", "1.5", "9223372037", "99999999999999999999", "86401",
		"Sun, 01 Mar 2026 09:00:30 GMT", "Sunday, 01-Mar-26 09:00:30 GMT", "Sun Mar  1 09:00:30 2026",
		"Sat, 28 Feb 2026 09:00:30 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "soon", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v, outside [0, %v]", v, d, maxRetryAfter)
		}
		s := strings.TrimSpace(v)
		if n, ok := new(big.Int).SetString(s, 10); ok && s != "" && s[0] >= '0' && s[0] <= '9' {
			// Delay-seconds: exactly n seconds up to the cap, however large n is.
			want := maxRetryAfter
			if n.Cmp(big.NewInt(int64(maxRetryAfter/time.Second))) <= 0 {
				want = time.Duration(n.Int64()) * time.Second
			}
			if d != want {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v", v, d, want)
			}
			return
		}
		if at, err := http.ParseTime(s); err == nil {
			want := min(max(at.Sub(now), 0), maxRetryAfter)
			if d != want {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v (date %v)", v, d, want, at)
			}
			return
		}
		if d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v for text that is neither seconds nor a date", v, d)
		}
	})
}

func FuzzLenientScalars(f *testing.F) {
	for _, s := range []string{
		"1", "0", "true", "False", " yes ", "null", "", "2", "12.0", "1e3", "-7", "9007199254740993",
		"9223372036854775807", "NaN", "Inf", "0x10", "1704558269", "2025-02-19T21:20:00Z",
		"2025-02-19 21:20:00", "2025-02-19", "2025-02-19T21:20:00+0100", "999999999999", "253402300800",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := parseFlexBool(s); err == nil {
			if again, err := parseFlexBool(strconv.FormatBool(b)); err != nil || again != b {
				t.Fatalf("bool %q = %t does not round-trip: %t, %v", s, b, again, err)
			}
		}
		if n, err := parseFlexInt(s); err == nil {
			if again, err := parseFlexInt(strconv.FormatInt(n, 10)); err != nil || again != n {
				t.Fatalf("int %q = %d does not round-trip: %d, %v", s, n, again, err)
			}
			// An integer is also a boolean (non-zero is true) and a float.
			if b, err := parseFlexBool(s); err != nil || b != (n != 0) {
				t.Fatalf("int %q = %d but bool = %t, %v", s, n, b, err)
			}
		}
		if x, err := parseFlexFloat(s); err == nil {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("float %q = %v accepted", s, x)
			}
		}
		tm, err := parseFlexTime(s)
		if err != nil {
			if len(err.Error()) > 200 { // 40 bytes quoted, at most 4 characters each
				t.Fatalf("error message of %d bytes: %v", len(err.Error()), err)
			}
			return
		}
		if tm.IsZero() {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("time %q = %v is not UTC", s, tm)
		}
		// Every time a decoder accepts must be storable: JSON and RFC 3339
		// hold years 0 to 9999 only.
		raw, err := json.Marshal(tm)
		if err != nil {
			t.Fatalf("time %q = %v cannot be stored: %v", s, tm, err)
		}
		var back time.Time
		if err := json.Unmarshal(raw, &back); err != nil || !back.Equal(tm) {
			t.Fatalf("time %q = %v does not round-trip through JSON: %v, %v", s, tm, back, err)
		}
		if again, err := parseFlexTime(tm.Format(time.RFC3339Nano)); err != nil || !again.Equal(tm) {
			t.Fatalf("time %q = %v does not round-trip through RFC 3339: %v, %v", s, tm, again, err)
		}
	})
}

func FuzzUnmarshalSession(f *testing.F) {
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := AuthSession{PINID: 12, Code: "abcd", ClientID: "c", State: "st", AuthURL: "https://app.plex.tv/auth#?code=abcd",
		CreatedAt: created, ExpiresAt: created.Add(30 * time.Minute), Token: "tok-secret"}
	f.Add(s.Marshal())
	s.Token = ""
	f.Add(s.Marshal())
	f.Add(`{"pin_id":"12","code":"x"}`)
	f.Add(`{"pin_id":0,"code":"x"}`)
	f.Add(`{"pin_id":1,"code":"","token":"t"}`)
	f.Add(`{"pin_id":1,"code":"c","created_at":"0001-01-01T00:00:00Z","expires_at":"9999-12-31T23:59:59.999999999+01:00"}`)
	p := &Provider{name: ProviderName}
	f.Fuzz(func(t *testing.T, data string) {
		got, err := p.UnmarshalSession(data)
		if err != nil {
			if got != nil {
				t.Fatalf("error %v with a session", err)
			}
			return
		}
		sess, ok := got.(*AuthSession)
		if !ok || sess.PINID <= 0 || sess.Code == "" {
			t.Fatalf("session without PIN accepted: %#v", got)
		}
		again, err := p.UnmarshalSession(sess.Marshal())
		if err != nil {
			t.Fatalf("a restored session does not restore again: %v", err)
		}
		if a := again.(*AuthSession); a.PINID != sess.PINID || a.Code != sess.Code || a.ClientID != sess.ClientID ||
			a.State != sess.State || a.AuthURL != sess.AuthURL || a.Token != sess.Token ||
			!a.CreatedAt.Equal(sess.CreatedAt) || !a.ExpiresAt.Equal(sess.ExpiresAt) {
			t.Fatalf("round trip changed the session: %+v became %+v", sess, a)
		}
		// String shows neither the token nor the code: it depends on the PIN
		// id and on whether a token is held only.
		other := *sess
		other.Code, other.State, other.AuthURL = other.Code+"x", "y", "z"
		if other.Token != "" {
			other.Token = "another token"
		}
		if sess.String() != other.String() {
			t.Fatalf("String depends on secrets: %q vs %q", sess.String(), other.String())
		}
		if _, err := sess.GetAuthURL(); (err != nil) != (sess.AuthURL == "") {
			t.Fatalf("GetAuthURL error %v with URL %q", err, sess.AuthURL)
		}
		var pe *Error
		if _, err := sess.Authorize(nil, nil); err == nil || errors.As(err, &pe) {
			t.Fatalf("Authorize without a provider: %v", err)
		}
	})
}

func FuzzCleanMessage(f *testing.F) {
	const token = "Zx9Qe7TkLm2Pa8RvWc4N"
	for _, s := range []string{
		"You're already sharing this server with bob. Please edit your existing share.",
		`Get "https://plex.tv/api/v2/user?X-Plex-Token=` + token + `": dial tcp: connection refused`,
		"token " + token + " rejected\r\nnext line\x00", "/library/sections?X-Plex-Token=abc&x=1 failed",
		strings.Repeat("é", 200), strings.Repeat("a", 299) + "é", "\xff\xfe invalid",
	} {
		f.Add(s, token)
	}
	f.Fuzz(func(t *testing.T, msg, tok string) {
		// Plex tokens are letters and digits; keep that shape so that
		// "[redacted]" cannot itself contain the token.
		tok = strings.Map(func(r rune) rune {
			if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return r
			}
			return -1
		}, tok)
		if len(tok) < 8 {
			tok = token
		}
		out := cleanMessage(msg, tok)
		if strings.Contains(out, tok) {
			t.Fatalf("cleanMessage kept the token: %q", out)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("control character kept: %q", out)
		}
		if len(out) > maxMessage {
			t.Fatalf("message of %d bytes", len(out))
		}
		if utf8.ValidString(msg) && !utf8.ValidString(out) {
			t.Fatalf("valid text became invalid UTF-8: %q", out)
		}
		for _, field := range strings.Fields(out) {
			if q := strings.IndexByte(field, '?'); q > 0 && (strings.Contains(field[:q], "://") || strings.HasPrefix(field, "/")) &&
				field[q:] != "?…" && !strings.HasSuffix(out, field) {
				t.Fatalf("a URL kept its query: %q in %q", field, out)
			}
		}
		if cleanMessage(out, tok) != out {
			t.Fatalf("cleanMessage is not idempotent: %q -> %q", out, cleanMessage(out, tok))
		}
	})
}
