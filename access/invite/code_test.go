package invite

import (
	"strings"
	"testing"
)

func TestNewCodeShapeAndEntropy(t *testing.T) {
	const n = 20000
	seen := make(map[string]bool, n)
	var counts [256]int
	for range n {
		c := NewCode()
		if len(c) != 26 {
			t.Fatalf("code %q has length %d, want 26", c, len(c))
		}
		if seen[c] {
			t.Fatalf("duplicate code %q after %d codes", c, len(seen))
		}
		seen[c] = true
		if !plausibleCode(c) || CheckCustomCode(c) != "" {
			t.Fatalf("generated code %q is not a valid code", c)
		}
		if strings.ToLower(c) != c {
			t.Fatalf("code %q is not lower case (the code index folds case)", c)
		}
		b, err := codeEncoding.DecodeString(c)
		if err != nil || len(b) != CodeBytes {
			t.Fatalf("code %q does not decode to %d bytes: %v", c, CodeBytes, err)
		}
		for _, x := range b {
			counts[x]++
		}
	}
	// 128 bits: 16 bytes per code from crypto/rand. Check the bytes look uniform with a chi-square
	// test over 256 buckets (255 degrees of freedom; 99.9th percentile ≈ 330).
	expected := float64(n*CodeBytes) / 256
	chi := 0.0
	for _, c := range counts {
		d := float64(c) - expected
		chi += d * d / expected
	}
	if chi > 330 {
		t.Fatalf("byte distribution chi-square %.1f > 330: codes are not uniformly random", chi)
	}
	if CodeBytes*8 < 128 {
		t.Fatalf("codes carry %d random bits, want at least 128", CodeBytes*8)
	}
}

func TestCheckCustomCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"summer-2026", true},
		{"Family_Movies", true},
		{"abc", true},
		{strings.Repeat("a", 64), true},
		{"ab", false},
		{strings.Repeat("a", 65), false},
		{"-abc", false},
		{"abc_", false},
		{"a b", false},
		{"a/b", false},
		{"a.b", false},
		{"..", false},
		{"caf\u00e9", false},
		{"a%2Fb", false},
		{"a?b", false},
		{"a#b", false},
		{"", false},
		// reserved words, any case
		{"healthz", false}, {"static", false}, {"API", false}, {"auth", false}, {"callback", false},
		{"Discord", false}, {"join", false}, {"skip", false}, {"done", false}, {"qr", false},
		{"apis", true}, {"joiner", true},
	} {
		reason := CheckCustomCode(tc.code)
		if (reason == "") != tc.ok {
			t.Errorf("CheckCustomCode(%q) = %q, want ok=%t", tc.code, reason, tc.ok)
		}
	}
}

func TestReservedCodesAreRefused(t *testing.T) {
	for _, w := range ReservedCodes() {
		if !IsReserved(w) || !IsReserved(strings.ToUpper(w)) {
			t.Errorf("%q is not reported reserved", w)
		}
		if CheckCustomCode(w) == "" {
			t.Errorf("reserved word %q accepted as a custom code", w)
		}
	}
	for _, must := range []string{"healthz", "static", "api", "auth", "callback", "discord", "join"} {
		if !IsReserved(must) {
			t.Errorf("%q must be reserved", must)
		}
	}
}

func FuzzCheckCustomCode(f *testing.F) {
	for _, s := range []string{"summer-2026", "a", "-", "healthz", "a/b", "\x00", "ÄÖÜ", strings.Repeat("z", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckCustomCode(s) != "" {
			return
		}
		// An accepted code is a single safe path segment, never reserved, and plausible to the
		// public handler.
		if len(s) < MinCodeLength || len(s) > MaxCodeLength || IsReserved(s) || !plausibleCode(s) {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range s {
			if !(r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
				t.Fatalf("accepted %q with %q", s, r)
			}
		}
	})
}
