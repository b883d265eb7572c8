package users

import (
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// StartsAtInput is a starts_at field: an RFC 3339 time, or null to clear.
type StartsAtInput struct{ web.OptionalTime }

// UnmarshalJSON reads null or an RFC 3339 time.
func (o *StartsAtInput) UnmarshalJSON(b []byte) error { return o.Decode("starts_at", b) }

// ExpiresAtInput is an expires_at field: an RFC 3339 time, or null to clear.
type ExpiresAtInput struct{ web.OptionalTime }

// UnmarshalJSON reads null or an RFC 3339 time.
func (o *ExpiresAtInput) UnmarshalJSON(b []byte) error { return o.Decode("expires_at", b) }

// UserPatchInput is the body of PATCH /users/{id}. Only the fields given change; starts_at and
// expires_at take null to clear. Every field is checked before anything changes.
type UserPatchInput struct {
	// Libraries sets the libraries per server id (library keys); an empty list removes that
	// server's share; servers not named are left alone.
	Libraries *map[string][]string `json:"libraries,omitempty"`
	// AllowDownloads sets downloads on every share.
	AllowDownloads *bool `json:"allow_downloads,omitempty"`
	// Filters replaces the restriction filters of every share (a missing member clears it).
	Filters *Filters `json:"filters,omitempty"`
	// StartsAt sets when access begins; null clears it.
	StartsAt StartsAtInput `json:"starts_at,omitzero"`
	// ExpiresAt sets when access ends; null clears it (never expires).
	ExpiresAt ExpiresAtInput `json:"expires_at,omitzero"`
	// Notes replaces the admins' notes.
	Notes *string `json:"notes,omitempty"`
	// Whitelisted protects the user from purges.
	Whitelisted *bool `json:"whitelisted,omitempty"`
	// StreamLimit is the concurrent stream limit (0: the default rule).
	StreamLimit *int `json:"stream_limit,omitempty"`
	// No4KTranscode forbids transcoding 4K sources.
	No4KTranscode *bool `json:"no_4k_transcode,omitempty"`
	// Reason is recorded with the change.
	Reason string `json:"reason,omitempty"`
}

// maxReason bounds the free-text reason of a change.
const maxReason = 500

// patch converts the input into an engine patch.
func (in UserPatchInput) patch() (access.UserPatch, error) {
	p := access.UserPatch{AllowDownloads: in.AllowDownloads, Notes: in.Notes, Whitelisted: in.Whitelisted,
		StreamLimit: in.StreamLimit, No4KTranscode: in.No4KTranscode, Reason: strings.TrimSpace(in.Reason)}
	if len(p.Reason) > maxReason {
		return p, web.NewInputError("reason", "must be at most %d characters", maxReason)
	}
	if in.Libraries != nil {
		p.Libraries = *in.Libraries
		if p.Libraries == nil {
			p.Libraries = map[string][]string{}
		}
	}
	if in.Filters != nil {
		f := in.Filters.storage()
		p.Filters = &f
	}
	if in.StartsAt.Set {
		if in.StartsAt.Time == nil {
			p.ClearStartsAt = true
		} else {
			p.StartsAt = in.StartsAt.Time
		}
	}
	if in.ExpiresAt.Set {
		if in.ExpiresAt.Time == nil {
			p.ClearExpiresAt = true
		} else {
			p.ExpiresAt = in.ExpiresAt.Time
		}
	}
	return p, nil
}

// formTimeLayouts are the time formats the forms accept: datetime-local inputs (minutes or
// seconds), RFC 3339 and a bare date, all read as UTC.
var formTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", time.RFC3339, "2006-01-02"}

// parseFormTime reads a form's time; "" is no time (ok, nil).
func parseFormTime(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, layout := range formTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, web.NewInputError(field, "enter a date and time in UTC, like 2025-06-01 12:00")
}

// formTime formats a time for a datetime-local input (UTC, minutes).
func formTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}
