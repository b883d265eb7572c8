package invite

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Limits of invite settings.
const (
	MaxLabelLength      = 100
	MaxUsesLimit        = 100000
	MaxMembershipDays   = 3650
	MaxOnboardingLength = 20000
)

// Spec is everything an admin sets on an invite. It is the input of Create and Update; SpecOf
// reads it back from a stored invite.
type Spec struct {
	// Code is the link's path segment: "" on create picks a random code; otherwise a custom code
	// (see CheckCustomCode). A random code kept unchanged on update is accepted as is.
	Code string
	// Label is the admin's name for the invite.
	Label string
	// ExpiresAt is when the link stops working (nil: never).
	ExpiresAt *time.Time
	// MaxUses caps redemptions (0: unlimited).
	MaxUses int
	// Libraries maps server id (machineIdentifier) to server library keys.
	Libraries map[string][]string
	// AllowDownloads allows downloads (Plex's allowSync) on the created shares.
	AllowDownloads bool
	// Filters are Plex restriction filters applied to the created shares.
	Filters storage.Filters
	// MembershipDays makes a joined user's access expire that many days after it starts (0: never).
	MembershipDays int
	// StartsAt delays access (nil: at once): joiners are recorded scheduled and shared at that time.
	StartsAt *time.Time
	// Discord is storage.DiscordOff, DiscordOptional or DiscordRequired ("" means off).
	Discord string
	// DiscordGuildID, when set, requires membership of that Discord guild.
	DiscordGuildID string
	// Onboarding is Markdown shown after joining.
	Onboarding string
	// Enabled invites can be redeemed.
	Enabled bool
}

// SpecOf returns the settings of a stored invite.
func SpecOf(inv storage.Invite) Spec {
	libs := make(map[string][]string, len(inv.Libraries))
	for id, keys := range inv.Libraries {
		libs[id] = slices.Clone(keys)
	}
	return Spec{
		Code: inv.Code, Label: inv.Label, ExpiresAt: cloneTime(inv.ExpiresAt), MaxUses: inv.MaxUses,
		Libraries: libs, AllowDownloads: inv.AllowDownloads, Filters: inv.Filters,
		MembershipDays: inv.MembershipDays, StartsAt: cloneTime(inv.StartsAt), Discord: discordMode(inv.Discord),
		DiscordGuildID: inv.DiscordGuildID, Onboarding: inv.Onboarding, Enabled: inv.Enabled,
	}
}

// apply writes s onto inv (the code is set by the caller).
func (s Spec) apply(inv *storage.Invite) {
	inv.Label = s.Label
	inv.ExpiresAt = cloneTime(s.ExpiresAt)
	inv.MaxUses = s.MaxUses
	inv.Libraries = s.Libraries
	inv.AllowDownloads = s.AllowDownloads
	inv.Filters = s.Filters
	inv.MembershipDays = s.MembershipDays
	inv.StartsAt = cloneTime(s.StartsAt)
	inv.Discord = s.Discord
	inv.DiscordGuildID = s.DiscordGuildID
	inv.Onboarding = s.Onboarding
	inv.Enabled = s.Enabled
}

// discordMode maps "" to off.
func discordMode(m string) string {
	if m == "" {
		return storage.DiscordOff
	}
	return m
}

// cloneTime copies a time pointer.
func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC()
	return &c
}

// checkContext is what validation needs besides the spec.
type checkContext struct {
	// servers are the stored servers (their libraries are the valid keys).
	servers []storage.Server
	// now is the current time.
	now time.Time
	// discord reports whether Discord sign-in is configured.
	discord bool
	// old is the invite being edited, nil on create.
	old *storage.Invite
}

// normalize checks s and returns its normalised copy (trimmed strings, sorted unique library keys,
// UTC times), or the first *FieldError in form order.
func (s Spec) normalize(cc checkContext) (Spec, error) {
	out := s
	out.Code = strings.TrimSpace(s.Code)
	if err := checkCode(out.Code, cc.old); err != nil {
		return Spec{}, err
	}
	out.Label = strings.TrimSpace(s.Label)
	if err := checkText("label", out.Label, MaxLabelLength, false); err != nil {
		return Spec{}, err
	}
	out.ExpiresAt = cloneTime(s.ExpiresAt)
	if out.ExpiresAt != nil && !out.ExpiresAt.After(cc.now) && changedTime(cc.old, out.ExpiresAt, func(i storage.Invite) *time.Time { return i.ExpiresAt }) {
		return Spec{}, fieldErr("expires_at", "must be in the future")
	}
	if s.MaxUses < 0 || s.MaxUses > MaxUsesLimit {
		return Spec{}, fieldErr("max_uses", "must be between 0 (unlimited) and %d", MaxUsesLimit)
	}
	libs, err := checkLibraries(s.Libraries, cc.servers)
	if err != nil {
		return Spec{}, err
	}
	out.Libraries = libs
	out.Filters = storage.Filters{
		Movies: strings.TrimSpace(s.Filters.Movies), Television: strings.TrimSpace(s.Filters.Television),
		Music: strings.TrimSpace(s.Filters.Music),
	}
	if err := checkFilters(out.Filters); err != nil {
		return Spec{}, err
	}
	if s.MembershipDays < 0 || s.MembershipDays > MaxMembershipDays {
		return Spec{}, fieldErr("membership_days", "must be between 0 (no end) and %d", MaxMembershipDays)
	}
	out.StartsAt = cloneTime(s.StartsAt)
	if out.StartsAt != nil && !out.StartsAt.After(cc.now) && changedTime(cc.old, out.StartsAt, func(i storage.Invite) *time.Time { return i.StartsAt }) {
		return Spec{}, fieldErr("starts_at", "must be in the future (leave it empty to give access at once)")
	}
	out.Discord = discordMode(strings.TrimSpace(s.Discord))
	switch out.Discord {
	case storage.DiscordOff:
	case storage.DiscordOptional, storage.DiscordRequired:
		if !cc.discord {
			return Spec{}, fieldErr("discord", "Discord sign-in is not configured (set client_id and client_secret)")
		}
	default:
		return Spec{}, fieldErr("discord", "must be off, optional or required")
	}
	out.DiscordGuildID = strings.TrimSpace(s.DiscordGuildID)
	if out.DiscordGuildID != "" {
		if out.Discord == storage.DiscordOff {
			return Spec{}, fieldErr("discord_guild_id", "needs Discord sign-in set to optional or required")
		}
		if !isSnowflake(out.DiscordGuildID) {
			return Spec{}, fieldErr("discord_guild_id", "must be a Discord server id (17 to 20 digits)")
		}
	}
	out.Onboarding = strings.TrimSpace(strings.ReplaceAll(s.Onboarding, "\r\n", "\n"))
	if err := checkText("onboarding", out.Onboarding, MaxOnboardingLength, true); err != nil {
		return Spec{}, err
	}
	return out, nil
}

// changedTime reports whether t differs from the old invite's value (always true on create), so an
// edit of another field of an invite whose date has passed is not refused.
func changedTime(old *storage.Invite, t *time.Time, field func(storage.Invite) *time.Time) bool {
	if old == nil {
		return true
	}
	prev := field(*old)
	return prev == nil || !prev.Equal(*t)
}

// checkCode validates the code of a create ("" is fine: random) or an update (a custom code, or
// the invite's current code kept as is).
func checkCode(code string, old *storage.Invite) error {
	if code == "" {
		if old != nil {
			return fieldErr("code", "is required")
		}
		return nil
	}
	if old != nil && code == old.Code {
		return nil
	}
	if reason := CheckCustomCode(code); reason != "" {
		return fieldErr("code", "%s", reason)
	}
	return nil
}

// checkText checks a free-text field: valid UTF-8, at most max bytes, no control characters
// (newlines and tabs allowed when multiline).
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return fieldErr(field, "is not valid UTF-8")
	}
	if len(s) > max {
		return fieldErr(field, "must be at most %d bytes", max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return fieldErr(field, "must not contain control characters")
		}
	}
	return nil
}

// checkLibraries validates libraries against the stored servers: every server must exist, every
// key must be one of its libraries, and at least one library must be chosen. Keys come back sorted
// (numerically when they are numbers) without duplicates; servers with no key are dropped.
func checkLibraries(in map[string][]string, servers []storage.Server) (map[string][]string, error) {
	byID := make(map[string]storage.Server, len(servers))
	for _, srv := range servers {
		byID[srv.ID] = srv
	}
	out := make(map[string][]string, len(in))
	for _, id := range slices.Sorted(maps.Keys(in)) {
		srv, ok := byID[id]
		if !ok {
			return nil, fieldErr("libraries", "server %q is not one of the connected servers", truncate(id, 64))
		}
		var keys []string
		for _, key := range in[id] {
			key = strings.TrimSpace(key)
			if !slices.ContainsFunc(srv.Libraries, func(l storage.Library) bool { return l.Key == key }) {
				return nil, fieldErr("libraries", "server %s has no library with key %q", srv.Name, truncate(key, 64))
			}
			if !slices.Contains(keys, key) {
				keys = append(keys, key)
			}
		}
		if len(keys) == 0 {
			continue
		}
		slices.SortFunc(keys, compareKeys)
		out[id] = keys
	}
	if len(out) == 0 {
		return nil, fieldErr("libraries", "choose at least one library")
	}
	return out, nil
}

// compareKeys orders library keys numerically when both are numbers, else as strings.
func compareKeys(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// checkFilters validates each restriction filter with the plex package's parser; music allows
// labels only.
func checkFilters(f storage.Filters) error {
	for _, x := range []struct{ field, s string }{
		{"filters.movies", f.Movies}, {"filters.television", f.Television}, {"filters.music", f.Music},
	} {
		if len(x.s) > 2000 {
			return fieldErr(x.field, "must be at most 2000 bytes")
		}
		p, err := plex.ParseFilter(x.s)
		if err != nil {
			return fieldErr(x.field, "%v", err)
		}
		if x.field == "filters.music" && (len(p.ContentRatings) > 0 || len(p.ExcludeContentRatings) > 0) {
			return fieldErr(x.field, "Plex filters music by label only, not by content rating")
		}
	}
	return nil
}

// isSnowflake reports whether s looks like a Discord id: 17 to 20 decimal digits.
func isSnowflake(s string) bool {
	if len(s) < 17 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes (on a rune boundary) for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// describe is a one-line summary of a spec for events.
func (s Spec) describe() string {
	n := 0
	for _, keys := range s.Libraries {
		n += len(keys)
	}
	return fmt.Sprintf("%d libraries on %d servers", n, len(s.Libraries))
}
