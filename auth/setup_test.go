package auth

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
)

func TestSetupCode(t *testing.T) {
	c := newClock()
	st := storetest.Memory(t)
	codes, err := NewSetupCodes(st, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := codes.Redeem("ABCD-EFGH-JKMN"); !errors.Is(err, ErrBadSetupCode) {
		t.Fatalf("redeem before any code: %v", err)
	}
	if active, err := codes.Active(); active || err != nil {
		t.Fatalf("Active before any code = %v, %v", active, err)
	}
	code, exp, err := codes.Issue()
	if err != nil {
		t.Fatal(err)
	}
	if active, err := codes.Active(); !active || err != nil {
		t.Fatalf("Active after Issue = %v, %v", active, err)
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(code) {
		t.Errorf("code %q has the wrong shape", code)
	}
	if !exp.Equal(c.Now().Add(time.Hour)) {
		t.Errorf("expiry %v", exp)
	}
	wrong := "0000-0000-0000"
	if code == wrong {
		wrong = "1111-1111-1111"
	}
	for _, w := range []string{wrong, "", "short", code + "X"} {
		if err := codes.Redeem(w); !errors.Is(err, ErrBadSetupCode) {
			t.Errorf("Redeem(%q) = %v", w, err)
		}
	}
	// Wrong attempts leave the right code valid; it is accepted as typed by a person.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	if err := codes.Redeem(typed); err != nil {
		t.Fatalf("right code after wrong ones: %v", err)
	}
	// Single use.
	if err := codes.Redeem(code); !errors.Is(err, ErrBadSetupCode) {
		t.Errorf("second use: %v", err)
	}
	if active, _ := codes.Active(); active {
		t.Error("a used code is still active")
	}
}

func TestSetupCodeExpiryAndReplacement(t *testing.T) {
	c := newClock()
	codes, _ := NewSetupCodes(storetest.Memory(t), c.Now)
	first, _, _ := codes.Issue()
	second, _, _ := codes.Issue()
	if first == second {
		t.Fatal("two codes are equal")
	}
	if err := codes.Redeem(first); !errors.Is(err, ErrBadSetupCode) {
		t.Errorf("a replaced code still works: %v", err)
	}
	c.Add(59 * time.Minute)
	third, _, _ := codes.Issue()
	c.Add(time.Hour)
	if active, _ := codes.Active(); active {
		t.Error("an expired code is active")
	}
	if err := codes.Redeem(third); !errors.Is(err, ErrBadSetupCode) {
		t.Errorf("an expired code works: %v", err)
	}
}

func TestNormalizeSetupCode(t *testing.T) {
	for in, want := range map[string]string{
		"abcd-efgh-jkmn": "ABCDEFGHJKMN",
		" O1IL o ":       "01110",
		"AB CD\tEF":      "ABCDEF",
	} {
		if got := NormalizeSetupCode(in); got != want {
			t.Errorf("NormalizeSetupCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSetupCodeBrokenRecord: a stored record that does not decode is no code at all, for Redeem
// and Active alike, and it is dropped (a new code must be issued).
func TestSetupCodeBrokenRecord(t *testing.T) {
	tests := []struct {
		name  string
		check func(codes *SetupCodes) error
	}{
		{name: "Redeem", check: func(codes *SetupCodes) error {
			if err := codes.Redeem("ABCD-EFGH-JKMN"); !errors.Is(err, ErrBadSetupCode) {
				return fmt.Errorf("Redeem = %v, want ErrBadSetupCode", err)
			}
			return nil
		}},
		{name: "Active", check: func(codes *SetupCodes) error {
			if active, err := codes.Active(); active || err != nil {
				return fmt.Errorf("Active = %v, %v; want false, nil", active, err)
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.Memory(t)
			codes, err := NewSetupCodes(st, newClock().Now)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.PutState(setupStateKind, setupStateKey, []byte("{not json"), time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := tc.check(codes); err != nil {
				t.Fatal(err)
			}
			if _, err := st.TakeState(setupStateKind, setupStateKey); err == nil {
				t.Error("the broken record is still stored")
			}
		})
	}
}
