package access

import (
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Change results.
const (
	ResultDone    = "done"    // carried out (Plex and the store agree)
	ResultRetry   = "retry"   // Plex could not be reached; the intent waits for the next pass
	ResultFailed  = "failed"  // Plex refused; given up
	ResultSkipped = "skipped" // not attempted (cap, held, no longer eligible, busy)
	ResultPlanned = "planned" // a preview: nothing was done
)

// Change actions.
const (
	ActionAdopt         = "adopt"          // sync: a Plex user new to the store
	ActionUpdate        = "update"         // sync: the store follows Plex (shares, kind, status, names)
	ActionMarkRemoved   = "mark_removed"   // sync: gone from Plex
	ActionStart         = "start"          // schedule: access starts (share created)
	ActionExpire        = "expire"         // schedule: access ends (share removed)
	ActionLibraryStart  = "library_start"  // schedule: a library window opens (share updated)
	ActionLibraryExpire = "library_expire" // schedule: a library window ends (share updated or removed)
	ActionShare         = "share"          // admin: create or update a share
	ActionRevoke        = "revoke"         // admin: remove a share
	ActionRemoveUser    = "remove_user"    // admin or purge: remove a user everywhere
	ActionPurge         = "purge"          // purge: an inactive user
)

// Change is one step of a plan and, after it ran, its result.
type Change struct {
	// Action is one of the Action* constants.
	Action string `json:"action"`
	// UserID is the user's plex.tv id (negative for an invitee known only by email).
	UserID int64 `json:"user_id"`
	// Username is the user's name as shown (username, title or email).
	Username string `json:"username,omitempty"`
	// ServerID is the server the change is about, if one.
	ServerID string `json:"server_id,omitempty"`
	// Libraries are the server library keys the share has after the change.
	Libraries []string `json:"libraries,omitempty"`
	// Before and After describe a sync update field by field ("libraries", "status", …).
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"` // see Before
	// Reason says why, in plain language.
	Reason string `json:"reason"`
	// Result is one of the Result* constants.
	Result string `json:"result"`
	// Error explains a failure or a skip.
	Error string `json:"error,omitempty"`
}

// SyncReport is what a sync pass did.
type SyncReport struct {
	// ID identifies the pass; Actor started it; StartedAt and FinishedAt bound it (UTC).
	ID         string    `json:"id"`
	Actor      string    `json:"actor"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Servers are the servers read.
	Servers []string `json:"servers"`
	// PlexUsers counts the users Plex listed.
	PlexUsers int `json:"plex_users"`
	// Adopted, Updated and Removed count the applied changes.
	Adopted int `json:"adopted"`
	Updated int `json:"updated"` // see Adopted
	Removed int `json:"removed"` // see Adopted
	// Changes lists every change with its result.
	Changes []Change `json:"changes"`
	// Held is set when removals were held for confirmation (see ConfirmHeldSync).
	Held *HeldSync `json:"held,omitempty"`
	// ShareBackChecked is false when the gateway could not list servers shared with the owner.
	ShareBackChecked bool `json:"share_back_checked"`
	// Refused is set when Plex's answer was empty, failed or partial and nothing was changed.
	Refused string `json:"refused,omitempty"`
	// Error is the failure that ended the pass, if any.
	Error string `json:"error,omitempty"`
}

// HeldSync is a large shrink of the user list that sync did not apply.
type HeldSync struct {
	// ID identifies the held change for ConfirmHeldSync.
	ID string `json:"id"`
	// At is when it was held.
	At time.Time `json:"at"`
	// UserIDs are the users Plex no longer lists.
	UserIDs []int64 `json:"user_ids"`
	// Active is how many active users the store had.
	Active int `json:"active"`
	// Reason explains the hold.
	Reason string `json:"reason"`
}

// PassReport is what an enforcement pass (or a purge) did.
type PassReport struct {
	// ID identifies the pass; Kind is enforce or purge; Actor started it; StartedAt and FinishedAt
	// bound it (UTC).
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Actor      string    `json:"actor"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Planned lists the plan as decided; Changes the same steps with their results (and retried
	// intents).
	Planned []Change `json:"planned"`
	Changes []Change `json:"changes"` // see Planned
	// Capped is true when the plan removed more than Cap shares, so nothing was removed.
	Capped bool `json:"capped"`
	// Cap is the removal cap in force.
	Cap int `json:"cap"`
	// Retried counts intents from earlier passes that were tried again.
	Retried int `json:"retried"`
	// Error is the failure that ended the pass, if any.
	Error string `json:"error,omitempty"`
}

// PurgeCandidate is one user a purge would remove.
type PurgeCandidate struct {
	// UserID and Username name the user.
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	// LastActivityAt is the last time the user watched (nil: never).
	LastActivityAt *time.Time `json:"last_activity_at,omitempty"`
	// InactiveDays counts the days since the last activity (or since joining).
	InactiveDays int `json:"inactive_days"`
	// Reason says why the user qualifies.
	Reason string `json:"reason"`
}

// PurgeExclusion is a user the purge keeps, with why.
type PurgeExclusion struct {
	// UserID and Username name the user; Reason says why they are kept.
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Reason   string `json:"reason"`
}

// PurgePlan is a purge preview.
type PurgePlan struct {
	// At is when the plan was made; InactiveDays and NeverWatched are the settings it used;
	// Candidates would be removed, Excluded are kept with why.
	At           time.Time        `json:"at"`
	InactiveDays int              `json:"inactive_days"`
	NeverWatched bool             `json:"never_watched_included"`
	Candidates   []PurgeCandidate `json:"candidates"`
	Excluded     []PurgeExclusion `json:"excluded"`
}

// PurgeReport is what a purge did.
type PurgeReport struct {
	// PassReport is the pass as a whole.
	PassReport
	// Removed are the users removed.
	Removed []int64 `json:"removed"`
	// Skipped are requested users that were not removed, with why.
	Skipped []PurgeExclusion `json:"skipped"`
}

// Health is the engine's health for the status page.
type Health struct {
	// TokenValid is false after Plex rejected the token (401) until a call succeeds again.
	TokenValid bool `json:"token_valid"`
	// TokenInvalidSince is when Plex first rejected the token.
	TokenInvalidSince *time.Time `json:"token_invalid_since,omitempty"`
	// PendingIntents counts Plex changes waiting to be retried.
	PendingIntents int `json:"pending_intents"`
	// Held is the held sync change, if any.
	Held *HeldSync `json:"held,omitempty"`
	// LastSync is when the last sync finished.
	LastSync *time.Time `json:"last_sync,omitempty"`
	// LastEnforce is when the last enforcement pass finished.
	LastEnforce *time.Time `json:"last_enforce,omitempty"`
	// Alerts are sentences for a banner.
	Alerts []string `json:"alerts,omitempty"`
}

// UpcomingItem is one scheduled change for the schedule page.
type UpcomingItem struct {
	// At is when; Kind what (start, expiry, library_start, library_expiry); UserID and Username who;
	// ServerID and Library which library for the per-library kinds.
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // start, expiry, library_start, library_expiry
	UserID   int64     `json:"user_id"`
	Username string    `json:"username"`
	ServerID string    `json:"server_id,omitempty"`
	Library  string    `json:"library,omitempty"`
}

// PassSummary is one stored pass report for the schedule page.
type PassSummary struct {
	// ID is the stored event; Kind the pass; Actor who ran it; At when it finished; Message a
	// summary; Changes and Failures count its changes; Error is why it stopped, if it did.
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // sync, enforce, purge, history
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
	Message  string    `json:"message"`
	Changes  int       `json:"changes"`
	Failures int       `json:"failures"`
	Error    string    `json:"error,omitempty"`
	// Report is the full report as stored.
	Report map[string]any `json:"report,omitempty"`
}

// displayName is how a user is named in reports and events.
func displayName(u storage.User) string {
	switch {
	case u.Username != "":
		return u.Username
	case u.Title != "":
		return u.Title
	case u.Email != "":
		return u.Email
	}
	return ""
}
