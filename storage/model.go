package storage

import "time"

// Record kinds kept by the store. Every record is stored as JSON under a versioned key prefix; the
// struct tags are therefore part of the on-disk format: rename a field only with a migration.

// Server is one Plex Media Server the product manages.
type Server struct {
	// ID is the server's machineIdentifier.
	ID string `json:"id"`
	// Name is the server's friendly name.
	Name string `json:"name"`
	// URL is the base URL used to reach the server.
	URL string `json:"url"`
	// Token is the server access token, sealed at rest (see Sealer); empty when the owner token is used.
	Token string `json:"token,omitempty"`
	// Version is the Plex Media Server version last seen.
	Version string `json:"version,omitempty"`
	// Libraries are the server's libraries with both their server key and plex.tv section id.
	Libraries []Library `json:"libraries,omitempty"`
	// Online reports whether the last health check reached the server.
	Online bool `json:"online"`
	// LatencyMS is the round trip of the last health check in milliseconds.
	LatencyMS int64 `json:"latency_ms,omitempty"`
	// CheckedAt is when the server was last checked.
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// PlexPass reports whether the owner has Plex Pass on this server (needed to terminate streams).
	PlexPass bool `json:"plex_pass,omitempty"`
	// CreatedAt is when the server was added.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// UpdatedAt is when the record last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Library is one library of a server.
type Library struct {
	// Key is the server's own library key (PMS Directory@key), the name used in the REST API.
	Key string `json:"key"`
	// SectionID is plex.tv's global section id, the number the sharing endpoints want.
	SectionID int64 `json:"section_id"`
	// Title is the library's title.
	Title string `json:"title"`
	// Type is movie, show, artist or photo.
	Type string `json:"type"`
}

// User kinds.
const (
	KindFriend  = "friend"
	KindHome    = "home"
	KindManaged = "managed"
	KindPending = "pending"
)

// User statuses.
const (
	// StatusActive: has access now.
	StatusActive = "active"
	// StatusPending: invited, has not accepted yet.
	StatusPending = "pending"
	// StatusScheduled: access starts later (StartsAt in the future).
	StatusScheduled = "scheduled"
	// StatusExpired: the access window ended and the share was removed.
	StatusExpired = "expired"
	// StatusRemoved: removed by an admin, a purge, or gone from Plex.
	StatusRemoved = "removed"
)

// User is a person with (or formerly with) access to one or more servers. The ID is the plex.tv account
// id; a pending invite to an email address with no Plex account yet uses a negative synthetic id derived
// from the email (see PendingUserID).
type User struct {
	ID       int64  `json:"id"`
	UUID     string `json:"uuid,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Title    string `json:"title,omitempty"`
	Thumb    string `json:"thumb,omitempty"`
	// Kind is friend, home, managed or pending.
	Kind string `json:"kind"`
	// Status is active, pending, scheduled, expired or removed.
	Status string `json:"status"`
	// Shares holds the user's share per server id (machineIdentifier).
	Shares map[string]Share `json:"shares,omitempty"`
	// StartsAt is when access begins (nil: immediately).
	StartsAt *time.Time `json:"starts_at,omitempty"`
	// ExpiresAt is when access ends (nil: never).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Notes are the admins' free-text notes.
	Notes string `json:"notes,omitempty"`
	// Whitelisted users are never purged.
	Whitelisted bool `json:"whitelisted,omitempty"`
	// SharesBack is true when the user shares a server of their own with the owner.
	SharesBack bool `json:"shares_back,omitempty"`
	// LastActivityAt is the last time the user was seen streaming.
	LastActivityAt *time.Time `json:"last_activity_at,omitempty"`
	// DiscordID and DiscordName link the user to a Discord account when they signed in with Discord.
	DiscordID   string `json:"discord_id,omitempty"`
	DiscordName string `json:"discord_name,omitempty"`
	// InviteID is the invite the user joined with, if any.
	InviteID string `json:"invite_id,omitempty"`
	// StreamLimit is the user's maximum of concurrent streams (0: the default rule applies).
	StreamLimit int `json:"stream_limit,omitempty"`
	// No4KTranscode forbids transcoding 4K sources for this user.
	No4KTranscode bool `json:"no_4k_transcode,omitempty"`
	// CreatedAt is when the record was created here (joined or adopted).
	CreatedAt time.Time `json:"created_at,omitzero"`
	// UpdatedAt is when the record last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// RemovedAt is when the user was removed, if Status is removed or expired.
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

// Share is a user's access to one server.
type Share struct {
	// ShareID is plex.tv's shared-server id (0 while not known).
	ShareID int64 `json:"share_id,omitempty"`
	// Libraries are server library keys. Never empty for a friend share we manage: plex.tv reads an
	// empty list as "all libraries".
	Libraries []string `json:"libraries,omitempty"`
	// AllLibraries is true when the share covers every library including future ones.
	AllLibraries bool `json:"all_libraries,omitempty"`
	// AllowDownloads maps to Plex's allowSync.
	AllowDownloads bool `json:"allow_downloads,omitempty"`
	// Filters are Plex restriction filters.
	Filters Filters `json:"filters,omitzero"`
	// Pending is true while the invitee has not accepted.
	Pending bool `json:"pending,omitempty"`
	// LibraryWindows optionally limit single libraries in time, by library key.
	LibraryWindows map[string]Window `json:"library_windows,omitempty"`
}

// Filters are Plex restriction filters in Plex's own syntax (e.g. "contentRating=G%2CPG|label!=adult").
type Filters struct {
	Movies     string `json:"movies,omitempty"`
	Television string `json:"television,omitempty"`
	Music      string `json:"music,omitempty"`
}

// Window is a time range; a nil end is open-ended.
type Window struct {
	StartsAt  *time.Time `json:"starts_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Discord modes of an invite.
const (
	DiscordOff      = "off"
	DiscordOptional = "optional"
	DiscordRequired = "required"
)

// Invite is a public invite link.
type Invite struct {
	// ID is a random identifier, stable across code changes.
	ID string `json:"id"`
	// Code is the path segment of the link: random (≥128 bits) or a custom path.
	Code string `json:"code"`
	// Label is the admin's name for the invite.
	Label string `json:"label,omitempty"`
	// ExpiresAt is when the link stops working (nil: never).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// MaxUses caps redemptions (0: unlimited).
	MaxUses int `json:"max_uses,omitempty"`
	// Uses counts completed redemptions plus reservations in flight.
	Uses int `json:"uses"`
	// Libraries maps server id to server library keys.
	Libraries map[string][]string `json:"libraries"`
	// AllowDownloads maps to Plex's allowSync on the created shares.
	AllowDownloads bool `json:"allow_downloads,omitempty"`
	// Filters are applied to the created shares.
	Filters Filters `json:"filters,omitzero"`
	// MembershipDays makes the user's access expire that many days after joining (0: never).
	MembershipDays int `json:"membership_days,omitempty"`
	// StartsAt delays the share until then (nil: at once).
	StartsAt *time.Time `json:"starts_at,omitempty"`
	// Discord is off, optional or required.
	Discord string `json:"discord,omitempty"`
	// DiscordGuildID, when set, requires membership of that guild.
	DiscordGuildID string `json:"discord_guild_id,omitempty"`
	// Onboarding is Markdown shown after joining.
	Onboarding string `json:"onboarding,omitempty"`
	// Enabled invites can be redeemed.
	Enabled bool `json:"enabled"`
	// CreatedBy is the admin who created it.
	CreatedBy string `json:"created_by,omitempty"`
	// CreatedAt and UpdatedAt track changes.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Redemption outcomes.
const (
	OutcomeReserved = "reserved"
	OutcomeJoined   = "joined"
	OutcomeUpdated  = "updated"
	OutcomeFailed   = "failed"
)

// Redemption is one use (or attempted use) of an invite.
type Redemption struct {
	ID       string    `json:"id"`
	InviteID string    `json:"invite_id"`
	UserID   int64     `json:"user_id,omitempty"`
	Username string    `json:"username,omitempty"`
	At       time.Time `json:"at"`
	// IP is the client address as Caddy saw it (honouring trusted proxies).
	IP string `json:"ip,omitempty"`
	// Outcome is reserved, joined, updated or failed.
	Outcome string `json:"outcome"`
	// Reason explains a failure in plain language.
	Reason string `json:"reason,omitempty"`
}

// Admin roles.
const (
	RoleAdmin     = "admin"
	RoleModerator = "moderator"
	RoleAuditor   = "auditor"
)

// Admin is a person who may sign in to the admin UI.
type Admin struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	// PasswordHash is an argon2id PHC string; empty when the admin signs in with Plex only.
	PasswordHash string `json:"password_hash,omitempty"`
	// PlexID links a plex.tv account that may sign in as this admin.
	PlexID int64 `json:"plex_id,omitempty"`
	// Role is admin, moderator or auditor.
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// LastLoginAt is the last successful sign-in.
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// APIKey is a REST API key. Only a hash of the secret is stored.
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Prefix is the first characters of the key, shown so admins can tell keys apart.
	Prefix string `json:"prefix"`
	// Hash is the SHA-256 of the full key, hex encoded.
	Hash       string     `json:"hash"`
	Role       string     `json:"role"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at,omitzero"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Session is a server-side browser session. The cookie holds a random token; the store keys the
// session by the token's hash so a leaked database does not yield live cookies.
type Session struct {
	// AdminID is the admin the session belongs to ("" before sign-in), so an admin can sign out
	// everywhere.
	AdminID string `json:"admin_id,omitempty"`
	// Data is opaque to the store.
	Data []byte `json:"data"`
	// Expiry is the absolute end of the session.
	Expiry time.Time `json:"expiry"`
}

// Event is an audit-log entry.
type Event struct {
	// ID sorts by time (see NewEventID).
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Type is a dotted name such as "invite.redeemed" or "user.expired".
	Type string `json:"type"`
	// Actor is who did it: "admin:<name>", "apikey:<name>", "system", "user:<id>".
	Actor    string `json:"actor"`
	UserID   int64  `json:"user_id,omitempty"`
	InviteID string `json:"invite_id,omitempty"`
	ServerID string `json:"server_id,omitempty"`
	// Message is a human-readable sentence.
	Message string `json:"message"`
	// Data carries structured details.
	Data map[string]any `json:"data,omitempty"`
}

// Intent states.
const (
	IntentPending = "pending"
	IntentDone    = "done"
	IntentFailed  = "failed"
)

// Intent is an outbox entry: a Plex change written before the call and completed after it, so a crash in
// between is finished (or rolled back) at the next start.
type Intent struct {
	ID string `json:"id"`
	// Kind names the operation, e.g. "share", "update_share", "remove_share", "remove_friend".
	Kind     string `json:"kind"`
	UserID   int64  `json:"user_id,omitempty"`
	ServerID string `json:"server_id,omitempty"`
	// Payload is the operation's input, JSON.
	Payload []byte `json:"payload,omitempty"`
	// Reason is why the change is made (audit).
	Reason    string    `json:"reason,omitempty"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// NotBefore delays the next attempt (backoff).
	NotBefore time.Time `json:"not_before,omitzero"`
}
