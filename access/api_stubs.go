package access

import (
	"context"
	"errors"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// errNotYet marks API methods whose behaviour lands in the following commits.
var errNotYet = errors.New("access: not implemented yet")

// Grant creates or updates a user and shares now or schedules the start.
func (s *Service) Grant(ctx context.Context, actor string, req GrantRequest) (GrantResult, error) {
	return GrantResult{}, errNotYet
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

// BulkPreview returns per-user diffs of op over userIDs without changing anything.
func (s *Service) BulkPreview(ctx context.Context, userIDs []int64, op BulkOp) (BulkReport, error) {
	return BulkReport{}, errNotYet
}
