package access

import (
	"context"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
)

// Bounds of the engine's Plex calls (Options.PlexCallTimeout overrides the first).
const (
	// DefaultPlexCallTimeout bounds each Plex call the engine makes, the client's own retries included,
	// so a call Plex never answers cannot hold the pass lock — and the admins' edits waiting for it —
	// any longer; the pass then finds Plex down and leaves the rest to the next pass.
	DefaultPlexCallTimeout = 30 * time.Second
	// DefaultHistoryReadTimeout bounds one server's watch-history read, which pages through up to
	// HistoryLookback of plays. The history pass reads without the pass lock.
	DefaultHistoryReadTimeout = 5 * time.Minute
)

// boundedGateway is the Service's view of its Gateway: every call gets a deadline, and the outcome of
// every plex.tv call is reported to tvResult (see Service.notePlexTV). Calls to a Plex Media Server are
// not reported: every intent's change is made on plex.tv.
type boundedGateway struct {
	gw       Gateway
	timeout  time.Duration
	history  time.Duration
	tvResult func(group string, err error)
}

// bound returns ctx with a deadline d from now (or its own, if sooner).
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// tv reports the outcome of a plex.tv call of group (callsSharing, callsHome, callsListing) and
// returns err unchanged. A call
// cut short because the caller's ctx was cancelled (Caddy stopping or reloading, a request given up)
// says nothing about plex.tv and is not reported; a deadline, the call's own or the caller's, is a real
// timeout.
func (g *boundedGateway) tv(ctx context.Context, group string, err error) error {
	if g.tvResult != nil && (err == nil || !wasStopped(ctx)) {
		g.tvResult(group, err)
	}
	return err
}

// Users implements Gateway.
func (g *boundedGateway) Users(ctx context.Context, machineIDs ...string) ([]plex.User, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.Users(cctx, machineIDs...)
	return out, g.tv(ctx, callsListing, err)
}

// HomeUsers implements Gateway.
func (g *boundedGateway) HomeUsers(ctx context.Context) ([]plex.HomeUser, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.HomeUsers(cctx)
	return out, g.tv(ctx, callsHome, err)
}

// PendingInvites implements Gateway.
func (g *boundedGateway) PendingInvites(ctx context.Context) ([]plex.PendingInvite, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.PendingInvites(cctx)
	return out, g.tv(ctx, callsListing, err)
}

// Sections implements Gateway.
func (g *boundedGateway) Sections(ctx context.Context, machineID string) (plex.SectionList, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.Sections(cctx, machineID)
	return out, g.tv(ctx, callsListing, err)
}

// Share implements Gateway.
func (g *boundedGateway) Share(ctx context.Context, req plex.ShareRequest) (plex.ShareResult, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.Share(cctx, req)
	return out, g.tv(ctx, callsSharing, err)
}

// UpdateShare implements Gateway.
func (g *boundedGateway) UpdateShare(ctx context.Context, machineID string, shareID int64, sectionIDs []int64, settings plex.ShareSettings) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsSharing, g.gw.UpdateShare(cctx, machineID, shareID, sectionIDs, settings))
}

// UpdateShareAll implements Gateway.
func (g *boundedGateway) UpdateShareAll(ctx context.Context, machineID string, shareID int64, settings plex.ShareSettings) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsSharing, g.gw.UpdateShareAll(cctx, machineID, shareID, settings))
}

// RemoveShare implements Gateway.
func (g *boundedGateway) RemoveShare(ctx context.Context, machineID string, shareID int64) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsSharing, g.gw.RemoveShare(cctx, machineID, shareID))
}

// RemoveFriend implements Gateway.
func (g *boundedGateway) RemoveFriend(ctx context.Context, userID int64) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsSharing, g.gw.RemoveFriend(cctx, userID))
}

// CancelInvite implements Gateway.
func (g *boundedGateway) CancelInvite(ctx context.Context, inv plex.PendingInvite) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsSharing, g.gw.CancelInvite(cctx, inv))
}

// AcceptInvite implements Gateway.
func (g *boundedGateway) AcceptInvite(ctx context.Context, inviteeToken, machineID string) (int64, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.AcceptInvite(cctx, inviteeToken, machineID)
	return out, g.tv(ctx, callsSharing, err)
}

// ValidateInvitee implements Gateway.
func (g *boundedGateway) ValidateInvitee(ctx context.Context, emailOrUsername string) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsSharing, g.gw.ValidateInvitee(cctx, emailOrUsername))
}

// CreateManagedUser implements Gateway.
func (g *boundedGateway) CreateManagedUser(ctx context.Context, name, restrictionProfile string) (plex.HomeUser, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.CreateManagedUser(cctx, name, restrictionProfile)
	return out, g.tv(ctx, callsHome, err)
}

// RemoveHomeUser implements Gateway.
func (g *boundedGateway) RemoveHomeUser(ctx context.Context, userID int64) error {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.tv(ctx, callsHome, g.gw.RemoveHomeUser(cctx, userID))
}

// Resources implements Gateway.
func (g *boundedGateway) Resources(ctx context.Context) ([]plex.Resource, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.Resources(cctx)
	return out, g.tv(ctx, callsListing, err)
}

// ForeignServers implements Gateway.
func (g *boundedGateway) ForeignServers(ctx context.Context) ([]ForeignServer, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	out, err := g.gw.ForeignServers(cctx)
	return out, g.tv(ctx, callsListing, err)
}

// ServerIdentity implements Gateway.
func (g *boundedGateway) ServerIdentity(ctx context.Context, baseURL string) (plex.Identity, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.gw.ServerIdentity(cctx, baseURL)
}

// ServerRoot implements Gateway.
func (g *boundedGateway) ServerRoot(ctx context.Context, baseURL string) (plex.ServerInfo, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.gw.ServerRoot(cctx, baseURL)
}

// ServerLibraries implements Gateway.
func (g *boundedGateway) ServerLibraries(ctx context.Context, baseURL string) ([]plex.Library, error) {
	cctx, cancel := bound(ctx, g.timeout)
	defer cancel()
	return g.gw.ServerLibraries(cctx, baseURL)
}

// ServerHistory implements Gateway with the longer history bound (it reads many pages).
func (g *boundedGateway) ServerHistory(ctx context.Context, baseURL string, q plex.HistoryQuery) ([]plex.HistoryItem, error) {
	cctx, cancel := bound(ctx, g.history)
	defer cancel()
	return g.gw.ServerHistory(cctx, baseURL, q)
}
