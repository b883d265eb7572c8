package users

import (
	"context"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Engine is what the feature needs from the domain engine; *access.Service implements it. Every
// method that changes something on Plex pushes the change at once (intent first, then Plex, then
// the store), so its error says what Plex answered.
type Engine interface {
	// Users.
	UpdateUser(ctx context.Context, actor string, userID int64, p access.UserPatch) (storage.User, error)
	RemoveUser(ctx context.Context, actor string, userID int64, reason string) error
	BulkPreview(ctx context.Context, userIDs []int64, op access.BulkOp) (access.BulkReport, error)
	BulkApply(ctx context.Context, actor string, userIDs []int64, op access.BulkOp) (access.BulkReport, error)

	// Invitations and the Plex Home.
	InviteDirect(ctx context.Context, actor, emailOrUsername string, libraries map[string][]string, settings access.InviteSettings) (access.GrantResult, error)
	PendingInvites(ctx context.Context) ([]access.PendingInvite, error)
	ResendInvite(ctx context.Context, actor string, userID int64, serverID string) error
	CancelInvite(ctx context.Context, actor string, userID int64, serverID string) error
	HomeMembers(ctx context.Context) ([]access.HomeMember, error)
	CreateManagedUser(ctx context.Context, actor string, req access.ManagedUserRequest) (storage.User, error)
	RemoveManagedUser(ctx context.Context, actor string, userID int64) error

	// Passes.
	Sync(ctx context.Context, actor string) (access.SyncReport, error)
	ConfirmHeldSync(ctx context.Context, actor, heldID string) (access.SyncReport, error)
	HeldSync() (*access.HeldSync, error)
	EnforceWith(ctx context.Context, actor string, o access.EnforceOptions) (access.PassReport, error)
	PurgePreview(ctx context.Context) (access.PurgePlan, error)
	Purge(ctx context.Context, actor string, userIDs []int64) (access.PurgeReport, error)
	Upcoming(limit int) ([]access.UpcomingItem, error)
	RecentPasses(limit int) ([]access.PassSummary, error)
	Health() (access.Health, error)

	// Servers.
	Servers(ctx context.Context) ([]storage.Server, error)
	ListServers() ([]storage.Server, error)

	// Settings: the purge rules and safety limits. PutSettings validates, stores and records a
	// settings.engine_changed event.
	Settings() (access.Settings, error)
	PutSettings(actor string, st access.Settings) (access.Settings, error)
}

// The domain engine is the Engine.
var _ Engine = (*access.Service)(nil)
