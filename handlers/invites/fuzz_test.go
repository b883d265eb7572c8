package invites

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
)

// FuzzFormInput sends arbitrary form values through the form reader, the settings conversion and
// the service's validation: nothing may panic, every refusal is a *FieldError naming a form field,
// and whatever is accepted is stored as validated.
func FuzzFormInput(f *testing.F) {
	f.Add("fam-1", "Family", "2026-06-01T10:00", "5", testServerID+"/4", "30", "", "contentRating=G", "off", "", "# hi")
	f.Add("", "", "yesterday", "-1", "x/y", "abc", "2020-01-01T00:00", "label", "required", "nope", "\x00")
	f.Add("static", strings.Repeat("l", 200), "2026-06-01T10:00:00Z", "99999999999999999999", "/", "", "", "", "optional", "123456789012345678", "")
	e := newEnv(f, nil)
	fields := map[string]bool{"code": true, "label": true, "expires_at": true, "max_uses": true, "libraries": true,
		"membership_days": true, "starts_at": true, "discord": true, "discord_guild_id": true, "onboarding": true,
		"filters.movies": true, "filters.television": true, "filters.music": true}
	f.Fuzz(func(t *testing.T, code, label, expires, maxUses, lib, days, starts, filter, discord, guild, onboarding string) {
		v := url.Values{"code": {code}, "label": {label}, "expires_at": {expires}, "max_uses": {maxUses}, "lib": {lib},
			"membership_days": {days}, "starts_at": {starts}, "filter_movies": {filter}, "discord": {discord},
			"discord_guild_id": {guild}, "onboarding": {onboarding}, "enabled": {"on"}}
		r := httptest.NewRequest("POST", "/invites", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		spec, err := readForm(r).spec()
		if err == nil {
			inv, cerr := e.svc.Create(context.Background(), "admin:fuzz", spec)
			if cerr == nil {
				if inv.Code == "" || (spec.Code != "" && invite.CheckCustomCode(inv.Code) != "") || len(inv.Libraries) == 0 {
					t.Fatalf("stored an invalid invite: %+v", inv)
				}
				return
			}
			err = cerr
		}
		var fe *invite.FieldError
		if !errors.As(err, &fe) || !fields[fe.Field] {
			t.Fatalf("refusal is not a FieldError on a known field: %v", err)
		}
	})
}

// FuzzAPIInput decodes arbitrary JSON bodies as InviteInput and applies them: nothing may panic.
func FuzzAPIInput(f *testing.F) {
	f.Add(`{"libraries":{"a":["1"]},"expires_at":null,"code":"x"}`)
	f.Add(`{"expires_at":"2026-01-01T00:00:00Z","starts_at":"bad","filters":{"movies":"x"}}`)
	f.Add(`{"max_uses":1e99}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in InviteInput
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			return
		}
		spec := invite.Spec{}
		in.apply(&spec)
		if in.ExpiresAt.Set && in.ExpiresAt.Time != nil && in.ExpiresAt.Time.Location().String() != "UTC" {
			t.Fatal("a decoded time is not UTC")
		}
	})
}
