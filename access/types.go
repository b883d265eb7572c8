package access

import (
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// UserPatch is an edit of one user. Nil fields are left alone. Every field is validated before anything
// changes; on error nothing changes (in the store or on Plex).
type UserPatch struct {
	// Libraries sets the libraries per server id (server library keys). An empty list for a server
	// removes that server's share; servers not in the map are left alone.
	Libraries map[string][]string `json:"libraries,omitempty"`
	// AllowDownloads sets allowSync on every share of the user.
	AllowDownloads *bool `json:"allow_downloads,omitempty"`
	// Filters sets the restriction filters on every share of the user.
	Filters *storage.Filters `json:"filters,omitempty"`
	// StartsAt and ExpiresAt set the access window; ClearStartsAt/ClearExpiresAt remove a bound
	// (JSON null in the REST API).
	StartsAt       *time.Time `json:"starts_at,omitempty"`
	ClearStartsAt  bool       `json:"clear_starts_at,omitempty"`  // see StartsAt
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`       // see StartsAt
	ClearExpiresAt bool       `json:"clear_expires_at,omitempty"` // see StartsAt
	// LibraryWindows sets per-library windows per server (library key → window); an empty map for a
	// server clears that server's windows.
	LibraryWindows map[string]map[string]storage.Window `json:"library_windows,omitempty"`
	// Notes replaces the admin notes.
	Notes *string `json:"notes,omitempty"`
	// Whitelisted protects the user from purges.
	Whitelisted *bool `json:"whitelisted,omitempty"`
	// StreamLimit sets the concurrent stream limit (0: the default rule).
	StreamLimit *int `json:"stream_limit,omitempty"`
	// No4KTranscode forbids transcoding 4K sources.
	No4KTranscode *bool `json:"no_4k_transcode,omitempty"`
	// Reason is recorded with the change (optional).
	Reason string `json:"reason,omitempty"`
}

// GrantRequest gives a Plex account access: the invite redemption and direct invites use it. It creates
// or updates the user record, then shares now or schedules the start.
type GrantRequest struct {
	// UserID is the plex.tv account id (0 for an email invite without a Plex account: then Email is
	// required and the user gets storage.PendingUserID(Email)).
	UserID int64 `json:"user_id,omitempty"`
	// UUID, Username, Email, Title and Thumb describe the account (from its sign-in).
	UUID     string `json:"uuid,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Title    string `json:"title,omitempty"`
	Thumb    string `json:"thumb,omitempty"`
	// Invitee is what Plex is asked to share with when UserID is 0: an email address or username.
	Invitee string `json:"invitee,omitempty"`
	// Libraries are server library keys per server id; each list must be non-empty.
	Libraries map[string][]string `json:"libraries"`
	// AllowDownloads and Filters are the shares' settings.
	AllowDownloads bool            `json:"allow_downloads,omitempty"`
	Filters        storage.Filters `json:"filters,omitzero"`
	// StartsAt delays the share (nil or past: now). ExpiresAt ends access (nil: never).
	StartsAt  *time.Time `json:"starts_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// MembershipDays, when ExpiresAt is nil, sets ExpiresAt to the start plus that many days.
	MembershipDays int `json:"membership_days,omitempty"`
	// InviteID links the user to the invite used.
	InviteID string `json:"invite_id,omitempty"`
	// DiscordID and DiscordName link the Discord account used to join.
	DiscordID   string `json:"discord_id,omitempty"`
	DiscordName string `json:"discord_name,omitempty"`
	// InviteeToken, when set, accepts the new invitations on the invitee's behalf. It is used once and
	// never stored or logged.
	InviteeToken string `json:"-"`
	// Reason is recorded with the change.
	Reason string `json:"reason,omitempty"`
}

// GrantResult is what Grant did.
type GrantResult struct {
	// User is the stored user after the grant.
	User storage.User `json:"user"`
	// Scheduled is true when the start lies in the future (nothing was shared yet).
	Scheduled bool `json:"scheduled"`
	// Shared are the servers shared now; Accepted those whose invitation was accepted for the user.
	Shared   []string `json:"shared,omitempty"`
	Accepted []string `json:"accepted,omitempty"` // see Shared
	// Changes are the Plex changes with their results.
	Changes []Change `json:"changes,omitempty"`
}

// InviteSettings are the settings of a direct invite.
type InviteSettings struct {
	// AllowDownloads and Filters are the share settings; StartsAt, ExpiresAt and MembershipDays the
	// window (as in GrantRequest); Notes are stored on the user.
	AllowDownloads bool            `json:"allow_downloads,omitempty"`
	Filters        storage.Filters `json:"filters,omitzero"`
	StartsAt       *time.Time      `json:"starts_at,omitempty"`
	ExpiresAt      *time.Time      `json:"expires_at,omitempty"`
	MembershipDays int             `json:"membership_days,omitempty"`
	Notes          string          `json:"notes,omitempty"`
}

// BulkOp is one edit applied to many users.
type BulkOp struct {
	// Libraries sets libraries per server (as in UserPatch).
	Libraries map[string][]string `json:"libraries,omitempty"`
	// AddLibraries and RemoveLibraries add or remove single library keys per server, keeping the rest.
	AddLibraries    map[string][]string `json:"add_libraries,omitempty"`
	RemoveLibraries map[string][]string `json:"remove_libraries,omitempty"` // see AddLibraries
	// AllowDownloads sets downloads on every share.
	AllowDownloads *bool `json:"allow_downloads,omitempty"`
	// StartsAt/ExpiresAt/Clear* set the window (as in UserPatch). ExtendDays moves each user's expiry
	// (or now, without one) by that many days.
	StartsAt       *time.Time `json:"starts_at,omitempty"`
	ClearStartsAt  bool       `json:"clear_starts_at,omitempty"`  // see StartsAt
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`       // see StartsAt
	ClearExpiresAt bool       `json:"clear_expires_at,omitempty"` // see StartsAt
	ExtendDays     int        `json:"extend_days,omitempty"`      // see StartsAt
	// Whitelisted sets the whitelist flag.
	Whitelisted *bool `json:"whitelisted,omitempty"`
	// Remove removes the users (revoke everywhere, then record); it excludes every other field.
	Remove bool `json:"remove,omitempty"`
	// Reason is recorded with every change.
	Reason string `json:"reason,omitempty"`
}

// BulkItem is the preview or result for one user.
type BulkItem struct {
	// UserID and Username name the user.
	UserID   int64  `json:"user_id"`
	Username string `json:"username,omitempty"`
	// Diff lists what would change (field → before/after).
	Diff map[string]FieldDiff `json:"diff,omitempty"`
	// Result is planned (preview), done, failed or skipped.
	Result string `json:"result"`
	// Error says why a user failed or was skipped.
	Error string `json:"error,omitempty"`
}

// FieldDiff is a before/after pair.
type FieldDiff struct {
	// Before and After are the values.
	Before any `json:"before"`
	After  any `json:"after"`
}

// EveryLibrary is the Before or After of a "libraries.<server>" FieldDiff when the share covers every
// library of the server, libraries added later included; a share of listed libraries shows as the list
// ([]string). Libraries are the ones it covers today.
type EveryLibrary struct {
	// All is always true: it tells this value from a list in JSON.
	All       bool     `json:"all_libraries"`
	Libraries []string `json:"libraries"`
}

// BulkReport is a bulk preview or result.
type BulkReport struct {
	// Items are per user; Changed and Failed count them.
	Items   []BulkItem `json:"items"`
	Changed int        `json:"changed"`
	Failed  int        `json:"failed"`
}

// PendingInvite is an invitation not accepted yet, as the admin UI lists it.
type PendingInvite struct {
	// UserID is the invitee's plex.tv id, or the synthetic negative id of an email invite.
	UserID int64 `json:"user_id"`
	// Email, Username and Title describe the invitee; ServerID and Server the server; ShareID is the
	// pending share; Libraries are offered (server keys); InvitedAt is when.
	Email     string    `json:"email,omitempty"`
	Username  string    `json:"username,omitempty"`
	Title     string    `json:"title,omitempty"`
	ServerID  string    `json:"server_id"`
	Server    string    `json:"server,omitempty"`
	ShareID   int64     `json:"share_id"`
	Libraries []string  `json:"libraries,omitempty"`
	InvitedAt time.Time `json:"invited_at,omitzero"`
}

// HomeMember is a member of the owner's Plex Home.
type HomeMember struct {
	// ID is the plex.tv id; Title, Username, Email and Thumb describe the member (managed users have
	// no username or email); Admin marks the owner, Guest the guest account, Managed a managed user
	// with its RestrictionProfile; Protected means a Home PIN.
	ID                 int64  `json:"id"`
	Title              string `json:"title"`
	Username           string `json:"username,omitempty"`
	Email              string `json:"email,omitempty"`
	Thumb              string `json:"thumb,omitempty"`
	Admin              bool   `json:"admin,omitempty"`
	Guest              bool   `json:"guest,omitempty"`
	Managed            bool   `json:"managed,omitempty"`
	RestrictionProfile string `json:"restriction_profile,omitempty"`
	Protected          bool   `json:"protected,omitempty"`
}

// ManagedUserRequest creates a managed Home user with libraries.
type ManagedUserRequest struct {
	// Name is the managed user's display name.
	Name string `json:"name"`
	// RestrictionProfile is little_kid, older_kid, teen or empty (no restriction).
	RestrictionProfile string `json:"restriction_profile,omitempty"`
	// Libraries, AllowDownloads and Filters are shared once the user exists.
	Libraries      map[string][]string `json:"libraries,omitempty"`
	AllowDownloads bool                `json:"allow_downloads,omitempty"`
	Filters        storage.Filters     `json:"filters,omitzero"`
}
