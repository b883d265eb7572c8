package invite

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testServers() []storage.Server {
	return []storage.Server{
		{ID: "srv1", Name: "Basement", Libraries: []storage.Library{
			{Key: "1", SectionID: 101, Title: "Movies", Type: "movie"},
			{Key: "2", SectionID: 102, Title: "TV Shows", Type: "show"},
			{Key: "10", SectionID: 110, Title: "Music", Type: "artist"},
		}},
		{ID: "srv2", Name: "Attic", Libraries: []storage.Library{{Key: "3", SectionID: 203, Title: "Films", Type: "movie"}}},
	}
}

func tp(t time.Time) *time.Time { return &t }

func validSpec() Spec {
	return Spec{Libraries: map[string][]string{"srv1": {"1"}}, Enabled: true}
}

func TestSpecNormalize(t *testing.T) {
	old := storage.Invite{ID: "i1", Code: "kept-code", ExpiresAt: tp(testNow.Add(-time.Hour)), StartsAt: tp(testNow.Add(-time.Hour))}
	for _, tc := range []struct {
		name    string
		mod     func(*Spec)
		discord bool
		old     *storage.Invite
		field   string // "" = valid
	}{
		{"minimal", func(*Spec) {}, false, nil, ""},
		{"random code on create", func(s *Spec) { s.Code = "" }, false, nil, ""},
		{"custom code", func(s *Spec) { s.Code = "family-2026" }, false, nil, ""},
		{"reserved code", func(s *Spec) { s.Code = "join" }, false, nil, "code"},
		{"reserved code other case", func(s *Spec) { s.Code = "HealthZ" }, false, nil, "code"},
		{"code with slash", func(s *Spec) { s.Code = "a/b" }, false, nil, "code"},
		{"code too short", func(s *Spec) { s.Code = "ab" }, false, nil, "code"},
		{"empty code on edit", func(s *Spec) { s.Code = "" }, false, &old, "code"},
		{"kept code on edit", func(s *Spec) { s.Code = "kept-code" }, false, &old, ""},
		{"label too long", func(s *Spec) { s.Label = strings.Repeat("x", 101) }, false, nil, "label"},
		{"label control char", func(s *Spec) { s.Label = "a\x07b" }, false, nil, "label"},
		{"label newline", func(s *Spec) { s.Label = "a\nb" }, false, nil, "label"},
		{"label bad utf8", func(s *Spec) { s.Label = "a\xffb" }, false, nil, "label"},
		{"expiry in past", func(s *Spec) { s.ExpiresAt = tp(testNow.Add(-time.Minute)) }, false, nil, "expires_at"},
		{"expiry now", func(s *Spec) { s.ExpiresAt = tp(testNow) }, false, nil, "expires_at"},
		{"expiry future", func(s *Spec) { s.ExpiresAt = tp(testNow.Add(time.Minute)) }, false, nil, ""},
		{"past expiry kept on edit", func(s *Spec) { s.Code = "kept-code"; s.ExpiresAt = tp(testNow.Add(-time.Hour)) }, false, &old, ""},
		{"past expiry changed on edit", func(s *Spec) { s.Code = "kept-code"; s.ExpiresAt = tp(testNow.Add(-time.Minute)) }, false, &old, "expires_at"},
		{"negative max uses", func(s *Spec) { s.MaxUses = -1 }, false, nil, "max_uses"},
		{"huge max uses", func(s *Spec) { s.MaxUses = MaxUsesLimit + 1 }, false, nil, "max_uses"},
		{"no libraries", func(s *Spec) { s.Libraries = nil }, false, nil, "libraries"},
		{"empty library list", func(s *Spec) { s.Libraries = map[string][]string{"srv1": {}} }, false, nil, "libraries"},
		{"unknown server", func(s *Spec) { s.Libraries = map[string][]string{"nope": {"1"}} }, false, nil, "libraries"},
		{"unknown library", func(s *Spec) { s.Libraries = map[string][]string{"srv1": {"99"}} }, false, nil, "libraries"},
		{"section id instead of key", func(s *Spec) { s.Libraries = map[string][]string{"srv1": {"101"}} }, false, nil, "libraries"},
		{"library of other server", func(s *Spec) { s.Libraries = map[string][]string{"srv1": {"3"}} }, false, nil, "libraries"},
		{"filter ok", func(s *Spec) { s.Filters.Movies = "contentRating=G%2CPG|label!=adult" }, false, nil, ""},
		{"filter bad", func(s *Spec) { s.Filters.Television = "contentRating" }, false, nil, "filters.television"},
		{"filter bad key", func(s *Spec) { s.Filters.Movies = "genre=horror" }, false, nil, "filters.movies"},
		{"music rating", func(s *Spec) { s.Filters.Music = "contentRating=G" }, false, nil, "filters.music"},
		{"music label", func(s *Spec) { s.Filters.Music = "label=kids" }, false, nil, ""},
		{"negative membership", func(s *Spec) { s.MembershipDays = -1 }, false, nil, "membership_days"},
		{"long membership", func(s *Spec) { s.MembershipDays = MaxMembershipDays + 1 }, false, nil, "membership_days"},
		{"membership", func(s *Spec) { s.MembershipDays = 30 }, false, nil, ""},
		{"start in past", func(s *Spec) { s.StartsAt = tp(testNow.Add(-time.Second)) }, false, nil, "starts_at"},
		{"start future", func(s *Spec) { s.StartsAt = tp(testNow.Add(48 * time.Hour)) }, false, nil, ""},
		{"past start kept on edit", func(s *Spec) { s.Code = "kept-code"; s.StartsAt = tp(testNow.Add(-time.Hour)) }, false, &old, ""},
		{"discord unknown mode", func(s *Spec) { s.Discord = "maybe" }, true, nil, "discord"},
		{"discord not configured", func(s *Spec) { s.Discord = storage.DiscordRequired }, false, nil, "discord"},
		{"discord required", func(s *Spec) { s.Discord = storage.DiscordRequired }, true, nil, ""},
		{"discord off explicit", func(s *Spec) { s.Discord = "off" }, false, nil, ""},
		{"guild without discord", func(s *Spec) { s.DiscordGuildID = "123456789012345678" }, true, nil, "discord_guild_id"},
		{"guild not a snowflake", func(s *Spec) { s.Discord = "optional"; s.DiscordGuildID = "my-guild" }, true, nil, "discord_guild_id"},
		{"guild ok", func(s *Spec) { s.Discord = "optional"; s.DiscordGuildID = "123456789012345678" }, true, nil, ""},
		{"onboarding too long", func(s *Spec) { s.Onboarding = strings.Repeat("x", MaxOnboardingLength+1) }, false, nil, "onboarding"},
		{"onboarding multiline", func(s *Spec) { s.Onboarding = "# Hi\n\n\tcode\r\n" }, false, nil, ""},
		{"onboarding NUL", func(s *Spec) { s.Onboarding = "a\x00" }, false, nil, "onboarding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.mod(&s)
			_, err := s.normalize(checkContext{servers: testServers(), now: testNow, discord: tc.discord, old: tc.old})
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FieldError on %s", err, tc.field)
			}
			if fe.Field != tc.field {
				t.Fatalf("error on %q (%s), want %q", fe.Field, fe.Message, tc.field)
			}
		})
	}
}

func TestSpecNormalizeCleansUp(t *testing.T) {
	s := Spec{
		Code: "  my-code ", Label: "  Friends ", Discord: "",
		Libraries:  map[string][]string{"srv1": {"10", "2", " 2", "1"}, "srv2": {}},
		Filters:    storage.Filters{Movies: " label=kids "},
		Onboarding: "line\r\nnext",
	}
	out, err := s.normalize(checkContext{servers: testServers(), now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if out.Code != "my-code" || out.Label != "Friends" || out.Discord != storage.DiscordOff || out.Filters.Movies != "label=kids" || out.Onboarding != "line\nnext" {
		t.Fatalf("not normalised: %+v", out)
	}
	if got := slices.Sorted(maps.Keys(out.Libraries)); !slices.Equal(got, []string{"srv1"}) {
		t.Fatalf("servers %v, want only srv1", got)
	}
	if got := out.Libraries["srv1"]; !slices.Equal(got, []string{"1", "2", "10"}) {
		t.Fatalf("keys %v, want [1 2 10]", got)
	}
}

func TestSpecOfRoundTrip(t *testing.T) {
	inv := storage.Invite{
		ID: "i", Code: "c0de", Label: "L", ExpiresAt: tp(testNow), MaxUses: 3,
		Libraries: map[string][]string{"srv1": {"1"}}, AllowDownloads: true, Filters: storage.Filters{Music: "label=x"},
		MembershipDays: 7, StartsAt: tp(testNow), Discord: "required", DiscordGuildID: "123456789012345678",
		Onboarding: "hi", Enabled: true,
	}
	s := SpecOf(inv)
	var back storage.Invite
	s.apply(&back)
	back.ID, back.Code = inv.ID, inv.Code
	if back.Label != inv.Label || !back.ExpiresAt.Equal(*inv.ExpiresAt) || back.MaxUses != 3 || !back.AllowDownloads ||
		back.Filters != inv.Filters || back.MembershipDays != 7 || !back.StartsAt.Equal(*inv.StartsAt) ||
		back.Discord != "required" || back.DiscordGuildID != inv.DiscordGuildID || back.Onboarding != "hi" || !back.Enabled ||
		!slices.Equal(back.Libraries["srv1"], []string{"1"}) {
		t.Fatalf("round trip lost data: %+v", back)
	}
	// SpecOf copies: changing the spec must not change the invite.
	s.Libraries["srv1"][0] = "2"
	if inv.Libraries["srv1"][0] != "1" {
		t.Fatal("SpecOf shares the library slice with the invite")
	}
}

func FuzzSpecNormalize(f *testing.F) {
	f.Add("code-1", "label", "1", "contentRating=G", "label=a", "", 5, 30, "optional", "123456789012345678", "# hi")
	f.Add("", "", "99", "x", "", "contentRating=R", -1, -1, "x", "y", "\x00")
	f.Fuzz(func(t *testing.T, code, label, key, movies, tv, music string, maxUses, days int, discord, guild, onboarding string) {
		s := Spec{Code: code, Label: label, Libraries: map[string][]string{"srv1": {key}}, MaxUses: maxUses,
			MembershipDays: days, Filters: storage.Filters{Movies: movies, Television: tv, Music: music},
			Discord: discord, DiscordGuildID: guild, Onboarding: onboarding}
		out, err := s.normalize(checkContext{servers: testServers(), now: testNow, discord: true})
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Message == "" {
				t.Fatalf("error is not a FieldError: %v", err)
			}
			return
		}
		if out.Code != "" && CheckCustomCode(out.Code) != "" {
			t.Fatalf("accepted bad code %q", out.Code)
		}
		if out.MaxUses < 0 || out.MembershipDays < 0 || len(out.Label) > MaxLabelLength {
			t.Fatalf("accepted out-of-range values: %+v", out)
		}
		for _, k := range out.Libraries["srv1"] {
			if k != "1" && k != "2" && k != "10" {
				t.Fatalf("accepted unknown library key %q", k)
			}
		}
	})
}
