package invites

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Time formats accepted from forms: the datetime-local input's (read as UTC) and RFC 3339.
const (
	formTime        = "2006-01-02T15:04"
	formTimeSeconds = "2006-01-02T15:04:05"
)

// formValues are the form's inputs as text (shown again after an error).
type formValues struct {
	Code           string
	Label          string
	ExpiresAt      string
	MaxUses        string
	AllowDownloads bool
	FilterMovies   string
	FilterTV       string
	FilterMusic    string
	MembershipDays string
	StartsAt       string
	Discord        string
	DiscordGuildID string
	Onboarding     string
	Enabled        bool
	Libraries      map[string][]string
}

// valuesOf fills the form from an invite.
func valuesOf(inv storage.Invite) formValues {
	v := formValues{
		Code: inv.Code, Label: inv.Label, ExpiresAt: formatFormTime(inv.ExpiresAt), AllowDownloads: inv.AllowDownloads,
		FilterMovies: inv.Filters.Movies, FilterTV: inv.Filters.Television, FilterMusic: inv.Filters.Music,
		StartsAt: formatFormTime(inv.StartsAt), Discord: inv.Discord, DiscordGuildID: inv.DiscordGuildID,
		Onboarding: inv.Onboarding, Enabled: inv.Enabled, Libraries: inv.Libraries,
	}
	if v.Discord == "" {
		v.Discord = storage.DiscordOff
	}
	if inv.MaxUses > 0 {
		v.MaxUses = strconv.Itoa(inv.MaxUses)
	}
	if inv.MembershipDays > 0 {
		v.MembershipDays = strconv.Itoa(inv.MembershipDays)
	}
	return v
}

// formatFormTime formats a time for a datetime-local input (UTC).
func formatFormTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(formTime)
}

// readForm reads the posted form (already parsed) into its text values.
func readForm(r *http.Request) formValues {
	f := r.PostForm
	v := formValues{
		Code: strings.TrimSpace(f.Get("code")), Label: f.Get("label"), ExpiresAt: strings.TrimSpace(f.Get("expires_at")),
		MaxUses: strings.TrimSpace(f.Get("max_uses")), AllowDownloads: checked(f.Get("allow_downloads")),
		FilterMovies: f.Get("filter_movies"), FilterTV: f.Get("filter_television"), FilterMusic: f.Get("filter_music"),
		MembershipDays: strings.TrimSpace(f.Get("membership_days")), StartsAt: strings.TrimSpace(f.Get("starts_at")),
		Discord: strings.TrimSpace(f.Get("discord")), DiscordGuildID: strings.TrimSpace(f.Get("discord_guild_id")),
		Onboarding: f.Get("onboarding"), Enabled: checked(f.Get("enabled")), Libraries: map[string][]string{},
	}
	for _, lib := range f["lib"] {
		server, key, ok := strings.Cut(lib, "/")
		if !ok || server == "" || key == "" {
			continue
		}
		v.Libraries[server] = append(v.Libraries[server], key)
	}
	return v
}

// checked reads a checkbox.
func checked(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "1", "true", "yes":
		return true
	}
	return false
}

// spec converts the form to invite settings; a value that does not parse is a *FieldError.
func (v formValues) spec() (invite.Spec, error) {
	s := invite.Spec{
		Code: v.Code, Label: v.Label, Libraries: v.Libraries, AllowDownloads: v.AllowDownloads,
		Filters: storage.Filters{Movies: v.FilterMovies, Television: v.FilterTV, Music: v.FilterMusic},
		Discord: v.Discord, DiscordGuildID: v.DiscordGuildID, Onboarding: v.Onboarding, Enabled: v.Enabled,
	}
	var err error
	if s.ExpiresAt, err = parseFormTime("expires_at", v.ExpiresAt); err != nil {
		return invite.Spec{}, err
	}
	if s.StartsAt, err = parseFormTime("starts_at", v.StartsAt); err != nil {
		return invite.Spec{}, err
	}
	if s.MaxUses, err = parseFormInt("max_uses", v.MaxUses); err != nil {
		return invite.Spec{}, err
	}
	if s.MembershipDays, err = parseFormInt("membership_days", v.MembershipDays); err != nil {
		return invite.Spec{}, err
	}
	return s, nil
}

// parseFormTime reads an optional time: datetime-local (UTC) or RFC 3339.
func parseFormTime(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{formTime, formTimeSeconds, time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, &invite.FieldError{Field: field, Message: "is not a date and time (YYYY-MM-DDTHH:MM, UTC)"}
}

// parseFormInt reads an optional whole number ("" is 0).
func parseFormInt(field, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &invite.FieldError{Field: field, Message: "is not a whole number"}
	}
	return n, nil
}
