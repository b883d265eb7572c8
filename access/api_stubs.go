package access

import (
	"context"
	"errors"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// errNotYet marks API methods whose behaviour lands in the following commits.
var errNotYet = errors.New("access: not implemented yet")

// ApplyShare makes the user's share of one server equal to want (libraries as server keys, downloads,
// filters): created when missing, updated when present. Intent first, then Plex, then the store and a
// user.shared event. "Already shared" on create is looked up and updated.
func (s *Service) ApplyShare(ctx context.Context, actor string, userID int64, serverID string, want storage.Share, reason string) (storage.Share, error) {
	return storage.Share{}, errNotYet
}

// RevokeShare removes the user's share of one server (404 from Plex counts as done).
func (s *Service) RevokeShare(ctx context.Context, actor string, userID int64, serverID, reason string) error {
	return errNotYet
}

// RemoveUser revokes the user on Plex (every share, then the friendship; Home members via
// RemoveHomeUser), then records them as removed.
func (s *Service) RemoveUser(ctx context.Context, actor string, userID int64, reason string) error {
	return errNotYet
}

// UpdateUser validates p and applies it: store fields, then the Plex changes it implies at once
// (including due starts and expiries of a changed window).
func (s *Service) UpdateUser(ctx context.Context, actor string, userID int64, p UserPatch) (storage.User, error) {
	return storage.User{}, errNotYet
}

// Grant creates or updates a user and shares now or schedules the start.
func (s *Service) Grant(ctx context.Context, actor string, req GrantRequest) (GrantResult, error) {
	return GrantResult{}, errNotYet
}

// Sync mirrors Plex into the store.
func (s *Service) Sync(ctx context.Context, actor string) (SyncReport, error) {
	return SyncReport{}, errNotYet
}

// ConfirmHeldSync applies the held removals of heldID for users Plex still does not list.
func (s *Service) ConfirmHeldSync(ctx context.Context, actor, heldID string) (SyncReport, error) {
	return SyncReport{}, errNotYet
}

// HeldSync returns the held sync change, or nil.
func (s *Service) HeldSync() (*HeldSync, error) { return nil, errNotYet }

// EnforceOptions change one enforcement pass.
type EnforceOptions struct {
	// IgnoreCap lets an admin run a pass whose removals exceed the cap.
	IgnoreCap bool `json:"ignore_cap,omitempty"`
}

// Enforce runs one enforcement pass: retries due intents, then starts and expiries that are due.
func (s *Service) Enforce(ctx context.Context, actor string) (PassReport, error) {
	return s.EnforceWith(ctx, actor, EnforceOptions{})
}

// EnforceWith is Enforce with options.
func (s *Service) EnforceWith(ctx context.Context, actor string, o EnforceOptions) (PassReport, error) {
	return PassReport{}, errNotYet
}

// PurgePreview returns who a purge would remove and who it keeps, with why.
func (s *Service) PurgePreview(ctx context.Context) (PurgePlan, error) { return PurgePlan{}, errNotYet }

// Purge removes exactly the given users that are still eligible.
func (s *Service) Purge(ctx context.Context, actor string, userIDs []int64) (PurgeReport, error) {
	return PurgeReport{}, errNotYet
}

// AutoPurge runs a purge of every eligible user when the AutoPurge setting is on (capped).
func (s *Service) AutoPurge(ctx context.Context) (PurgeReport, error) {
	return PurgeReport{}, errNotYet
}

// HistoryPass reads every server's watch history since its watermark and records last activity.
func (s *Service) HistoryPass(ctx context.Context) (PassReport, error) {
	return PassReport{}, errNotYet
}

// ResumeIntents completes or rolls back the intents left pending (call at start).
func (s *Service) ResumeIntents(ctx context.Context) error { return errNotYet }

// MarkActivity records that a user was seen streaming at at.
func (s *Service) MarkActivity(userID int64, at time.Time) error { return errNotYet }

// BulkPreview returns per-user diffs of op over userIDs without changing anything.
func (s *Service) BulkPreview(ctx context.Context, userIDs []int64, op BulkOp) (BulkReport, error) {
	return BulkReport{}, errNotYet
}

// BulkApply applies op to every user in userIDs, one by one, and reports per-user results.
func (s *Service) BulkApply(ctx context.Context, actor string, userIDs []int64, op BulkOp) (BulkReport, error) {
	return BulkReport{}, errNotYet
}

// InviteDirect invites an email address or Plex username without an invite link.
func (s *Service) InviteDirect(ctx context.Context, actor, emailOrUsername string, libraries map[string][]string, settings InviteSettings) (GrantResult, error) {
	return GrantResult{}, errNotYet
}

// PendingInvites lists the invitations not accepted yet.
func (s *Service) PendingInvites(ctx context.Context) ([]PendingInvite, error) { return nil, errNotYet }

// ResendInvite cancels and re-sends a pending invitation.
func (s *Service) ResendInvite(ctx context.Context, actor string, userID int64, serverID string) error {
	return errNotYet
}

// CancelInvite withdraws a pending invitation.
func (s *Service) CancelInvite(ctx context.Context, actor string, userID int64, serverID string) error {
	return errNotYet
}

// HomeMembers lists the members of the owner's Plex Home.
func (s *Service) HomeMembers(ctx context.Context) ([]HomeMember, error) { return nil, errNotYet }

// CreateManagedUser creates a managed Home user and shares the libraries with them.
func (s *Service) CreateManagedUser(ctx context.Context, actor string, req ManagedUserRequest) (storage.User, error) {
	return storage.User{}, errNotYet
}

// RemoveManagedUser removes a managed user (or any Home member) from the Home.
func (s *Service) RemoveManagedUser(ctx context.Context, actor string, userID int64) error {
	return errNotYet
}

// Servers refreshes the configured and stored servers from Plex and returns them.
func (s *Service) Servers(ctx context.Context) ([]storage.Server, error) { return nil, errNotYet }

// AddServer adds (or refreshes) the server at baseURL.
func (s *Service) AddServer(ctx context.Context, actor, baseURL string) (storage.Server, error) {
	return storage.Server{}, errNotYet
}

// Upcoming lists the next scheduled starts and expiries, soonest first.
func (s *Service) Upcoming(limit int) ([]UpcomingItem, error) { return nil, errNotYet }

// RecentPasses lists the last pass reports, newest first.
func (s *Service) RecentPasses(limit int) ([]PassSummary, error) { return nil, errNotYet }

// Health reports the token state, pending intents and alerts.
func (s *Service) Health() (Health, error) { return Health{}, errNotYet }
