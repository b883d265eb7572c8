package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestAPIKeyLifecycle(t *testing.T) {
	c := newClock()
	st := storetest.Memory(t)
	keys, err := NewAPIKeys(APIKeyOptions{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	key, rec, err := keys.Create("  CI deploy ", storage.RoleModerator, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "pmk_") || len(key) != 4+52 {
		t.Errorf("key %q: want pmk_ + 52 base32 characters", key)
	}
	if rec.Name != "CI deploy" || rec.Prefix != key[:12] || rec.Hash != HashAPIKey(key) || rec.Role != "moderator" || rec.CreatedBy != "admin:alice" {
		t.Errorf("record %+v", rec)
	}
	if strings.Contains(rec.Hash, key[4:]) || rec.Hash == key {
		t.Error("the key is stored in the clear")
	}
	stored, _ := st.ListAPIKeys()
	for _, k := range stored {
		if strings.Contains(k.Hash+k.Prefix+k.Name, key[12:]) {
			t.Error("the store holds the secret part of the key")
		}
	}
	c.Add(time.Hour)
	got, err := keys.Authenticate(key)
	if err != nil || got.ID != rec.ID || got.Role != "moderator" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	listed, _ := keys.List()
	if len(listed) != 1 || listed[0].LastUsedAt == nil || !listed[0].LastUsedAt.Equal(c.Now().UTC()) {
		t.Errorf("last used not recorded: %+v", listed)
	}
	other, _, _ := keys.Create("other", storage.RoleAuditor, "admin:alice")
	last := "A"
	if strings.HasSuffix(key, "A") {
		last = "B"
	}
	for _, bad := range []string{"", "pmk_", key + "A", strings.ToLower(key), "Bearer " + key, key[:len(key)-1] + last, NewAPIKey()} {
		if _, err := keys.Authenticate(bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Authenticate(%.20q…) = %v, want ErrInvalidKey", bad, err)
		}
	}
	if _, err := keys.Revoke(rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Authenticate(key); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("revoked key: %v", err)
	}
	if _, err := keys.Authenticate(other); err != nil {
		t.Errorf("revoking one key broke another: %v", err)
	}
}

func TestAPIKeyInputs(t *testing.T) {
	keys, _ := NewAPIKeys(APIKeyOptions{Store: storetest.Memory(t)})
	for _, tt := range []struct{ name, role, field string }{
		{"", "admin", "name"}, {"   ", "admin", "name"}, {strings.Repeat("n", 65), "admin", "name"},
		{"bad\x00name", "admin", "name"}, {"ok", "root", "role"}, {"ok", "", "role"},
	} {
		var inv *InvalidError
		if _, _, err := keys.Create(tt.name, tt.role, "x"); !errors.As(err, &inv) || inv.Field != tt.field {
			t.Errorf("Create(%q, %q) = %v, want an InvalidError on %s", tt.name, tt.role, err, tt.field)
		}
	}
	if l, _ := keys.List(); len(l) != 0 {
		t.Errorf("refused keys were stored: %d", len(l))
	}
}

func TestWellFormedKey(t *testing.T) {
	for key, want := range map[string]bool{
		NewAPIKey():                            true,
		"pmk_" + strings.Repeat("A", 52):       true,
		"pmk_" + strings.Repeat("A", 51) + "B": false, // same bytes as the one above: unused bits set
		"pmk_" + strings.Repeat("A", 51):       false,
		"pmk_" + strings.Repeat("a", 52):       false,
		"PMK_" + strings.Repeat("A", 52):       false,
		"":                                     false,
	} {
		if got := wellFormedKey(key); got != want {
			t.Errorf("wellFormedKey(%q) = %t, want %t", key, got, want)
		}
	}
}

func TestBootstrapKey(t *testing.T) {
	keys, _ := NewAPIKeys(APIKeyOptions{Store: storetest.Memory(t), Bootstrap: "from-the-caddyfile-0123456789"})
	rec, err := keys.Authenticate("from-the-caddyfile-0123456789")
	if err != nil || rec.ID != BootstrapKeyID || rec.Role != storage.RoleAdmin {
		t.Errorf("bootstrap key: %+v %v", rec, err)
	}
	if _, err := keys.Authenticate("from-the-caddyfile-012345678"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("near miss: %v", err)
	}
	none, _ := NewAPIKeys(APIKeyOptions{Store: storetest.Memory(t)})
	if _, err := none.Authenticate(""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("empty key without a bootstrap key: %v", err)
	}
}
