package users

import (
	"cmp"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// User is a user in the REST API (DESIGN.md's field names). Times are RFC 3339 in UTC; null means
// not set.
type User struct {
	// ID is the plex.tv account id (negative for an invitee known only by email).
	ID int64 `json:"id"`
	// Username is the plex.tv username ("" for managed users and invitees known by email).
	Username string `json:"username"`
	// Email is the account's email address, when Plex tells it.
	Email string `json:"email"`
	// Title is the name shown by Plex.
	Title string `json:"title"`
	// Kind is friend, home, managed or pending.
	Kind string `json:"kind"`
	// Status is active, pending, scheduled, expired or removed.
	Status string `json:"status"`
	// Shares are the user's shares by server id (machineIdentifier).
	Shares map[string]Share `json:"shares"`
	// StartsAt is when access begins (null: already).
	StartsAt *time.Time `json:"starts_at"`
	// ExpiresAt is when access ends (null: never).
	ExpiresAt *time.Time `json:"expires_at"`
	// Notes are the admins' notes.
	Notes string `json:"notes"`
	// Whitelisted users are never purged.
	Whitelisted bool `json:"whitelisted"`
	// SharesBack is true when the user shares a server of their own with the owner.
	SharesBack bool `json:"shares_back"`
	// LastActivityAt is the last time the user was seen streaming.
	LastActivityAt *time.Time `json:"last_activity_at"`
	// DiscordID links the user to a Discord account.
	DiscordID string `json:"discord_id,omitempty"`
	// DiscordName is the linked Discord account's name.
	DiscordName string `json:"discord_name,omitempty"`
	// InviteID is the invite the user joined with.
	InviteID string `json:"invite_id,omitempty"`
	// StreamLimit is the user's concurrent stream limit (0: the default rule).
	StreamLimit int `json:"stream_limit"`
	// No4KTranscode forbids transcoding 4K sources for the user.
	No4KTranscode bool `json:"no_4k_transcode"`
	// CreatedAt is when the user joined or was adopted from Plex.
	CreatedAt *time.Time `json:"created_at"`
	// UpdatedAt is when the record last changed.
	UpdatedAt *time.Time `json:"updated_at"`
	// RemovedAt is when the user was removed or expired.
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

// Share is a user's access to one server.
type Share struct {
	// Libraries are the server's library keys (as GET /servers/{id}/libraries lists them).
	Libraries []string `json:"libraries"`
	// AllLibraries is true when the share covers every library, future ones included.
	AllLibraries bool `json:"all_libraries"`
	// AllowDownloads is Plex's allowSync.
	AllowDownloads bool `json:"allow_downloads"`
	// Filters are the Plex restriction filters.
	Filters Filters `json:"filters"`
	// Pending is true while the invitation is not accepted.
	Pending bool `json:"pending"`
	// LibraryWindows limit single libraries in time, by library key.
	LibraryWindows map[string]Window `json:"library_windows,omitempty"`
}

// Filters are Plex restriction filters per media type, in Plex's syntax
// ("contentRating=G%2CPG|label!=adult"); music allows labels only.
type Filters struct {
	// Movies filters movie libraries.
	Movies string `json:"movies"`
	// Television filters TV libraries.
	Television string `json:"television"`
	// Music filters music libraries (labels only).
	Music string `json:"music"`
}

// Window is a time range; null bounds are open.
type Window struct {
	// StartsAt opens the window (null: open since ever).
	StartsAt *time.Time `json:"starts_at"`
	// ExpiresAt closes it (null: never).
	ExpiresAt *time.Time `json:"expires_at"`
}

// UserList is one page of GET /users.
type UserList struct {
	// Users are the users of this page.
	Users []User `json:"users"`
	// Total counts every user matching the filters.
	Total int `json:"total"`
	// Page is the page number used (from 1).
	Page int `json:"page"`
	// PerPage is the page size used.
	PerPage int `json:"per_page"`
	// Pages is the number of pages.
	Pages int `json:"pages"`
}

// Server is a Plex Media Server in the REST API.
type Server struct {
	// ID is the machineIdentifier.
	ID string `json:"id"`
	// Name is the server's friendly name.
	Name string `json:"name"`
	// URL is the base URL the server is reached at.
	URL string `json:"url"`
	// Version is the Plex Media Server version last seen.
	Version string `json:"version"`
	// Online reports whether the last check reached the server.
	Online bool `json:"online"`
	// LatencyMS is the round trip of the last check.
	LatencyMS int64 `json:"latency_ms"`
	// PlexPass reports whether the owner has Plex Pass (needed to stop streams).
	PlexPass bool `json:"plex_pass"`
	// CheckedAt is when the server was last checked.
	CheckedAt *time.Time `json:"checked_at"`
	// Libraries are the server's libraries.
	Libraries []Library `json:"libraries"`
}

// Library is one library of a server.
type Library struct {
	// Key is the server's own library key: the name the API uses for it.
	Key string `json:"key"`
	// Title is the library's name.
	Title string `json:"title"`
	// Type is movie, show, artist or photo.
	Type string `json:"type"`
	// SectionID is plex.tv's id of the library (what the sharing calls take).
	SectionID int64 `json:"section_id"`
}

// utcTime returns t in UTC, nil for nil or the zero time.
func utcTime(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// utcValue returns a pointer to t in UTC, nil for the zero time.
func utcValue(t time.Time) *time.Time { return utcTime(&t) }

// filtersOut converts filters for the API.
func filtersOut(f storage.Filters) Filters {
	return Filters{Movies: f.Movies, Television: f.Television, Music: f.Music}
}

// storage converts filters from the API.
func (f Filters) storage() storage.Filters {
	return storage.Filters{Movies: f.Movies, Television: f.Television, Music: f.Music}
}

// toUser converts a stored user for the API.
func toUser(u storage.User) User {
	out := User{
		ID: u.ID, Username: u.Username, Email: u.Email, Title: u.Title, Kind: u.Kind, Status: u.Status,
		Shares: make(map[string]Share, len(u.Shares)), StartsAt: utcTime(u.StartsAt), ExpiresAt: utcTime(u.ExpiresAt),
		Notes: u.Notes, Whitelisted: u.Whitelisted, SharesBack: u.SharesBack, LastActivityAt: utcTime(u.LastActivityAt),
		DiscordID: u.DiscordID, DiscordName: u.DiscordName, InviteID: u.InviteID, StreamLimit: u.StreamLimit,
		No4KTranscode: u.No4KTranscode, CreatedAt: utcValue(u.CreatedAt), UpdatedAt: utcValue(u.UpdatedAt),
		RemovedAt: utcTime(u.RemovedAt),
	}
	for srv, sh := range u.Shares {
		s := Share{Libraries: slices.Clone(sh.Libraries), AllLibraries: sh.AllLibraries, AllowDownloads: sh.AllowDownloads,
			Filters: filtersOut(sh.Filters), Pending: sh.Pending}
		if s.Libraries == nil {
			s.Libraries = []string{}
		}
		if len(sh.LibraryWindows) > 0 {
			s.LibraryWindows = make(map[string]Window, len(sh.LibraryWindows))
			for k, w := range sh.LibraryWindows {
				s.LibraryWindows[k] = Window{StartsAt: utcTime(w.StartsAt), ExpiresAt: utcTime(w.ExpiresAt)}
			}
		}
		out.Shares[srv] = s
	}
	return out
}

// toServer converts a stored server for the API.
func toServer(srv storage.Server) Server {
	out := Server{ID: srv.ID, Name: srv.Name, URL: srv.URL, Version: srv.Version, Online: srv.Online,
		LatencyMS: srv.LatencyMS, PlexPass: srv.PlexPass, CheckedAt: utcValue(srv.CheckedAt), Libraries: toLibraries(srv.Libraries)}
	return out
}

// toLibraries converts a server's libraries for the API (never nil).
func toLibraries(libs []storage.Library) []Library {
	out := make([]Library, 0, len(libs))
	for _, l := range libs {
		out = append(out, Library{Key: l.Key, Title: l.Title, Type: l.Type, SectionID: l.SectionID})
	}
	return out
}

// sortServers orders servers by name, then id.
func sortServers(list []storage.Server) {
	slices.SortStableFunc(list, func(a, b storage.Server) int {
		return cmp.Or(cmp.Compare(cmp.Or(a.Name, a.ID), cmp.Or(b.Name, b.ID)), cmp.Compare(a.ID, b.ID))
	})
}
