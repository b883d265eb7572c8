package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordStrength(t *testing.T) {
	common := LoadCommonPasswords()
	if len(common) < 100 {
		t.Fatalf("only %d common passwords loaded", len(common))
	}
	tests := []struct {
		name, password, username string
		reason                   string // "" = accepted
	}{
		{"good", "Tr0ubadour-horse", "alice", ""},
		{"good unicode", "мойпароль2024x", "alice", ""},
		{"good two classes", "correct horse battery staple", "alice", ""},
		{"too short", "Sh0rt-pass", "alice", "at least 12"},
		{"eleven runes", "Abcdefghij1", "alice", "at least 12"},
		{"all lower", "abcdefghijklmnop", "alice", "two kinds"},
		{"all digits", "839201746352", "alice", "two kinds"},
		{"all upper", "QWERTYASDFGHZX", "alice", "two kinds"},
		{"all symbols", "!@#$%^&*()_+{}", "alice", "two kinds"},
		{"repeats", "aaaaaaaaaaa1", "alice", "more different"},
		{"is username", "Alice.Admin12", "alice.admin12", "username"},
		{"contains username", "xx-alice-2024-yy", "Alice", "username"},
		{"common", "Password1234", "bob", "too common"},
		{"common case-insensitive", "PASSWORD1234", "bob", "too common"},
		{"common plex", "plexpassword", "bob", "two kinds"},
		{"spaces only", strings.Repeat(" ", 14), "bob", "only spaces"},
		{"too long", strings.Repeat("aB1", 400), "bob", "at most"},
		{"invalid utf8", "abcdefghijk\xff1", "bob", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPasswordStrength(tt.password, tt.username, common)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var weak *WeakPasswordError
			if !errors.As(err, &weak) || !strings.Contains(weak.Reason, tt.reason) {
				t.Fatalf("got %v, want a reason containing %q", err, tt.reason)
			}
			if strings.Contains(err.Error(), tt.password) && len(tt.password) > 0 && strings.TrimSpace(tt.password) != "" {
				t.Errorf("the error repeats the password")
			}
		})
	}
}

func TestUsernameRules(t *testing.T) {
	for _, ok := range []string{"alice", "Bob_2", "ops.team-1", "a@b.c", "Émile", "  padded  "} {
		if err := CheckUsername(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "  ", "a b", "a/b", "-lead", ".dot", "<script>", strings.Repeat("x", 65), "tab\tname", "semi;colon"} {
		var inv *InvalidError
		if err := CheckUsername(bad); !errors.As(err, &inv) || inv.Field != "username" {
			t.Errorf("%q: %v, want an InvalidError on username", bad, err)
		}
	}
}
