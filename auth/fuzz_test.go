package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
)

// The fuzz targets cover what a person or a config file types: the setup code, admin usernames,
// API key and session token shapes, and argon2id hashes pasted into the config. Run one with
// go test ./auth -run '^$' -fuzz '^FuzzSetupCode$' -fuzztime 45s -parallel 1.

func FuzzSetupCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN", "abcd efgh jkmn", " O1IL o ", "0000-0000-0000", "ıſ", "ABCD-EFGH-JKM", "\xff\xfe", "ABCDEFGHJKMNP"} {
		f.Add(s)
	}
	st := storetest.Memory(f)
	c := newClock()
	codes, err := NewSetupCodes(st, c.Now)
	if err != nil {
		f.Fatal(err)
	}
	code, _, err := codes.Issue()
	if err != nil {
		f.Fatal(err)
	}
	raw := NormalizeSetupCode(code)
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeSetupCode(s)
		if again := NormalizeSetupCode(n); again != n {
			t.Fatalf("NormalizeSetupCode not idempotent: %q -> %q -> %q", s, n, again)
		}
		if strings.ContainsAny(n, " -\toOiIlL") {
			t.Fatalf("NormalizeSetupCode(%q) = %q keeps a separator or look-alike", s, n)
		}
		// A code written as the alphabet's letters in any case, with any separators and
		// look-alikes, normalises to the code itself.
		want := alphabetCode(s)
		typed := strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(want[:4] + " - " + want[4:8] + "\t" + want[8:]))
		if got := NormalizeSetupCode(typed); got != want {
			t.Fatalf("NormalizeSetupCode(%q) = %q, want %q", typed, got, want)
		}
		// Only the issued code redeems; any other input fails with the one error and leaves the
		// code valid.
		err := codes.Redeem(s)
		if n == raw {
			if err != nil {
				t.Fatalf("the issued code %q (typed %q) refused: %v", raw, s, err)
			}
			if code, _, err = codes.Issue(); err != nil {
				t.Fatal(err)
			}
			raw = NormalizeSetupCode(code)
			return
		}
		if !errors.Is(err, ErrBadSetupCode) {
			t.Fatalf("Redeem(%q) = %v, want ErrBadSetupCode", s, err)
		}
		if active, err := codes.Active(); !active || err != nil {
			t.Fatalf("after a wrong code the issued one is gone: %t, %v", active, err)
		}
	})
}

// alphabetCode maps the bytes of s onto a 12-character code of the setup alphabet.
func alphabetCode(s string) string {
	b := []byte(s + "0123456789AB")[:setupCodeLen]
	for i := range b {
		b[i] = setupCodeAlphabet[int(b[i])%len(setupCodeAlphabet)]
	}
	return string(b)
}

// usernameReasons are every reason CheckUsername gives; none repeats the value.
var usernameReasons = []string{
	"Enter a username.", "The username contains invalid characters.", "Use at most 64 characters.",
	"Start with a letter or a digit.", "Use letters, digits and . _ - @ only.",
}

func FuzzCheckUsername(f *testing.F) {
	for _, s := range []string{"alice", "Bob_2", "ops.team-1", "a@b.c", "Émile", "  padded  ", "a b", "<script>", "-lead",
		"\u202eevil", "ad\u200bmin", "\u00a0x\u00a0", "٣abc", "ａｄｍｉｎ", strings.Repeat("é", 64), strings.Repeat("é", 65), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeUsername(s)
		if NormalizeUsername(n) != n {
			t.Fatalf("NormalizeUsername not idempotent on %q", s)
		}
		err := CheckUsername(s)
		if (err == nil) != (CheckUsername(n) == nil) {
			t.Fatalf("CheckUsername(%q) = %v but on its normal form %v", s, err, CheckUsername(n))
		}
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != "username" || !slices.Contains(usernameReasons, inv.Reason) {
				t.Fatalf("CheckUsername(%q) = %#v", s, err)
			}
			return
		}
		if n == "" || !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxUsernameLength {
			t.Fatalf("username %q accepted", n)
		}
		first, _ := utf8.DecodeRuneInString(n)
		if !unicode.IsLetter(first) && !unicode.IsDigit(first) {
			t.Fatalf("username %q starts with %q", n, first)
		}
		// An accepted name is inert in paths, HTML, logs and headers.
		for _, r := range n {
			if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune(`/\<>"'&;:%?#`, r) {
				t.Fatalf("username %q accepted with %q", n, r)
			}
		}
	})
}

// keyNameReasons are every reason CheckKeyName gives.
var keyNameReasons = []string{"Give the key a name.", "Use printable characters only.", "Use at most 64 characters."}

func FuzzTokenShapes(f *testing.F) {
	f.Add(NewAPIKey())
	f.Add(NewToken())
	f.Add("pmk_" + strings.Repeat("A", 52))
	f.Add("pmk_" + strings.Repeat("A", 51) + "B")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("A", 21) + "\n" + strings.Repeat("A", 21))
	f.Add("pmk_")
	f.Fuzz(func(t *testing.T, s string) {
		if wellFormedKey(s) {
			if len(s) != len(NewAPIKey()) || !strings.HasPrefix(s, APIKeyPrefix) {
				t.Fatalf("key %q accepted", s)
			}
			b, err := keyEncoding.DecodeString(s[len(APIKeyPrefix):])
			if err != nil || APIKeyPrefix+keyEncoding.EncodeToString(b) != s {
				t.Fatalf("key %q is not the one spelling of its bytes", s)
			}
		}
		if validToken(s) {
			if len(s) != len(NewToken()) || strings.ContainsAny(s, "=+/ \r\n") {
				t.Fatalf("session token %q accepted", s)
			}
		}
		if err := CheckKeyName(s); err == nil {
			name := strings.TrimSpace(s)
			if name == "" || utf8.RuneCountInString(name) > MaxKeyNameLength || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
				t.Fatalf("key name %q accepted", s)
			}
		} else if inv := (*InvalidError)(nil); !errors.As(err, &inv) || inv.Field != "name" || !slices.Contains(keyNameReasons, inv.Reason) {
			t.Fatalf("CheckKeyName(%q) = %#v", s, err)
		}
	})
}

func FuzzDecodeHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=47104,t=1,p=1$P2nzckEdTZ3bxCiBCkRTyA$xQL3Z32eo5jKl7u5tcIsnEKObYiyNZQQf5/4sAau6Pg")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$t=1,p=1,m=64$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=64,m=262144,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=064,t=01,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$2a$14$ajq8Q7fbtFRQvXpdCq7Jcuy.Rx1h/L4J60Otx.gyNLbAYctGMJ9tK")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodeHash(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decodeHash(%q) = %v, not ErrMalformedHash", s, err)
			}
			if CheckHash(s) == nil {
				t.Fatalf("CheckHash accepts %q that decodeHash refuses", s)
			}
			return
		}
		// What is accepted is within the limits that bound one verification.
		if err := p.check(); err != nil {
			t.Fatalf("decodeHash(%q) accepted %+v: %v", s, p, err)
		}
		if int(p.KeyLen) != len(key) || int(p.SaltLen) != len(salt) {
			t.Fatalf("lengths %+v for salt %d and key %d bytes", p, len(salt), len(key))
		}
		// Writing the hash again gives a hash that reads back the same.
		again := encodeHash(p, salt, key)
		p2, salt2, key2, err := decodeHash(again)
		if err != nil || p2 != p || string(salt2) != string(salt) || string(key2) != string(key) {
			t.Fatalf("%q rewritten as %q reads back as %+v, %v", s, again, p2, err)
		}
		// Written in the canonical order without leading zeros, the text itself round-trips
		// (salt and key are strict base64: one spelling only).
		canonical := fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads)
		if strings.Split(s, "$")[3] == canonical && again != s {
			t.Fatalf("a canonical hash %q was rewritten as %q", s, again)
		}
	})
}
