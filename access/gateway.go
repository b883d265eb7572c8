package access

import (
	"context"
	"errors"

	"github.com/plex-manager/caddy-plex-manager/plex"
)

// Gateway is every Plex call the domain makes, with the owner token applied. PlexGateway implements it
// over *plex.Client; tests use that implementation against plex/plextest. Errors are the plex client's
// typed errors (errors.Is with plex.ErrNotFound, plex.ErrAlreadyShared, plex.ErrUnauthorized, …).
type Gateway interface {
	// Users lists friends, Home and managed users and pending invitees with their shares of the given
	// servers, in a constant number of requests (2 + servers). A failed request fails the whole call.
	Users(ctx context.Context, machineIDs ...string) ([]plex.User, error)
	// HomeUsers lists the members of the owner's Plex Home.
	HomeUsers(ctx context.Context) ([]plex.HomeUser, error)
	// PendingInvites lists the owner's invitations that are not accepted yet.
	PendingInvites(ctx context.Context) ([]plex.PendingInvite, error)
	// Sections returns plex.tv's library map of one server (server key ↔ global section id).
	Sections(ctx context.Context, machineID string) (plex.SectionList, error)
	// Share creates a share (or an invitation). An existing share is plex.ErrAlreadyShared.
	Share(ctx context.Context, req plex.ShareRequest) (plex.ShareResult, error)
	// UpdateShare replaces a share's libraries (plex.tv section ids, never empty) and settings.
	UpdateShare(ctx context.Context, machineID string, shareID int64, sectionIDs []int64, settings plex.ShareSettings) error
	// UpdateShareAll gives a share every library, libraries added later included, and sets its settings.
	UpdateShareAll(ctx context.Context, machineID string, shareID int64, settings plex.ShareSettings) error
	// RemoveShare deletes one share; an unknown share is plex.ErrNotFound.
	RemoveShare(ctx context.Context, machineID string, shareID int64) error
	// RemoveFriend drops every share of a user and the friendship.
	RemoveFriend(ctx context.Context, userID int64) error
	// CancelInvite withdraws a pending invitation.
	CancelInvite(ctx context.Context, inv plex.PendingInvite) error
	// AcceptInvite accepts, with the invitee's own token, their pending share of a server.
	AcceptInvite(ctx context.Context, inviteeToken, machineID string) (int64, error)
	// ValidateInvitee checks that an email address or username belongs to a Plex account.
	ValidateInvitee(ctx context.Context, emailOrUsername string) error
	// CreateManagedUser creates a managed Home user.
	CreateManagedUser(ctx context.Context, name, restrictionProfile string) (plex.HomeUser, error)
	// RemoveHomeUser removes a member (managed or not) from the owner's Home.
	RemoveHomeUser(ctx context.Context, userID int64) error
	// Resources lists the owner's own servers as plex.tv knows them.
	Resources(ctx context.Context) ([]plex.Resource, error)
	// ForeignServers lists servers other accounts share with the owner (share-back detection).
	// Implementations that cannot tell return an error wrapping ErrUnsupported; sync then leaves the
	// share-back flags as they are.
	ForeignServers(ctx context.Context) ([]ForeignServer, error)
	// ServerIdentity reads a Plex Media Server's identity (no token needed).
	ServerIdentity(ctx context.Context, baseURL string) (plex.Identity, error)
	// ServerRoot reads a Plex Media Server's root document (name, version, Plex Pass).
	ServerRoot(ctx context.Context, baseURL string) (plex.ServerInfo, error)
	// ServerLibraries lists a Plex Media Server's libraries.
	ServerLibraries(ctx context.Context, baseURL string) ([]plex.Library, error)
	// ServerHistory reads a Plex Media Server's watch history (server account 1 is the owner).
	ServerHistory(ctx context.Context, baseURL string, q plex.HistoryQuery) ([]plex.HistoryItem, error)
}

// ForeignServer is a server that another account shares with the owner.
type ForeignServer struct {
	// MachineID is the server's machineIdentifier.
	MachineID string `json:"machine_id"`
	// Name is the server's friendly name.
	Name string `json:"name,omitempty"`
	// OwnerID is the plex.tv id of the server's owner.
	OwnerID int64 `json:"owner_id"`
}

// ErrUnsupported is returned (wrapped) by a Gateway method the implementation cannot perform.
var ErrUnsupported = errors.New("not supported by this Plex gateway")

// ErrNoToken is returned (wrapped) when no Plex owner token is configured yet.
var ErrNoToken = errors.New("no Plex token is configured")

// PlexGateway is the Gateway over the real plex client. The owner token is read through a function at
// every call, so a token entered in the setup wizard is used at once.
type PlexGateway struct {
	c     *plex.Client
	token func() string
}

// NewPlexGateway returns a Gateway calling Plex through c with the token token() returns.
func NewPlexGateway(c *plex.Client, token func() string) Gateway {
	return &PlexGateway{c: c, token: token}
}

// tok returns the current owner token or ErrNoToken.
func (g *PlexGateway) tok() (string, error) {
	if g.token == nil {
		return "", ErrNoToken
	}
	t := g.token()
	if t == "" {
		return "", ErrNoToken
	}
	return t, nil
}

// Users implements Gateway.
func (g *PlexGateway) Users(ctx context.Context, machineIDs ...string) ([]plex.User, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.Users(ctx, t, machineIDs...)
}

// HomeUsers implements Gateway.
func (g *PlexGateway) HomeUsers(ctx context.Context) ([]plex.HomeUser, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.HomeUsers(ctx, t)
}

// PendingInvites implements Gateway.
func (g *PlexGateway) PendingInvites(ctx context.Context) ([]plex.PendingInvite, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.ListPendingInvites(ctx, t)
}

// Sections implements Gateway.
func (g *PlexGateway) Sections(ctx context.Context, machineID string) (plex.SectionList, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.Sections(ctx, t, machineID)
}

// Share implements Gateway.
func (g *PlexGateway) Share(ctx context.Context, req plex.ShareRequest) (plex.ShareResult, error) {
	t, err := g.tok()
	if err != nil {
		return plex.ShareResult{}, err
	}
	return g.c.Share(ctx, t, req)
}

// UpdateShare implements Gateway.
func (g *PlexGateway) UpdateShare(ctx context.Context, machineID string, shareID int64, sectionIDs []int64, settings plex.ShareSettings) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.UpdateShare(ctx, t, machineID, shareID, sectionIDs, settings)
}

// UpdateShareAll implements Gateway.
func (g *PlexGateway) UpdateShareAll(ctx context.Context, machineID string, shareID int64, settings plex.ShareSettings) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.UpdateShareAll(ctx, t, machineID, shareID, settings)
}

// RemoveShare implements Gateway.
func (g *PlexGateway) RemoveShare(ctx context.Context, machineID string, shareID int64) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.RemoveShare(ctx, t, machineID, shareID)
}

// RemoveFriend implements Gateway.
func (g *PlexGateway) RemoveFriend(ctx context.Context, userID int64) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.RemoveFriend(ctx, t, userID)
}

// CancelInvite implements Gateway.
func (g *PlexGateway) CancelInvite(ctx context.Context, inv plex.PendingInvite) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.CancelInvite(ctx, t, inv)
}

// AcceptInvite implements Gateway. It uses the invitee's token, not the owner's.
func (g *PlexGateway) AcceptInvite(ctx context.Context, inviteeToken, machineID string) (int64, error) {
	return g.c.AcceptInvite(ctx, inviteeToken, machineID)
}

// ValidateInvitee implements Gateway.
func (g *PlexGateway) ValidateInvitee(ctx context.Context, emailOrUsername string) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.ValidateInvitee(ctx, t, emailOrUsername)
}

// CreateManagedUser implements Gateway.
func (g *PlexGateway) CreateManagedUser(ctx context.Context, name, restrictionProfile string) (plex.HomeUser, error) {
	t, err := g.tok()
	if err != nil {
		return plex.HomeUser{}, err
	}
	return g.c.CreateManagedUser(ctx, t, name, restrictionProfile)
}

// RemoveHomeUser implements Gateway.
func (g *PlexGateway) RemoveHomeUser(ctx context.Context, userID int64) error {
	t, err := g.tok()
	if err != nil {
		return err
	}
	return g.c.RemoveHomeUser(ctx, t, userID)
}

// Resources implements Gateway.
func (g *PlexGateway) Resources(ctx context.Context) ([]plex.Resource, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.Resources(ctx, t)
}

// ForeignServers implements Gateway: the servers plex.tv lists as shared with the owner (resources the
// owner does not own), each with its owner's plex.tv id. A server whose owner plex.tv does not name keeps
// OwnerID 0, which flags nobody.
func (g *PlexGateway) ForeignServers(ctx context.Context) ([]ForeignServer, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	list, err := g.c.SharedResources(ctx, t)
	if err != nil {
		return nil, err
	}
	out := make([]ForeignServer, 0, len(list))
	for _, r := range list {
		out = append(out, ForeignServer{MachineID: r.MachineID, Name: r.Name, OwnerID: r.OwnerID})
	}
	return out, nil
}

// ServerIdentity implements Gateway.
func (g *PlexGateway) ServerIdentity(ctx context.Context, baseURL string) (plex.Identity, error) {
	return g.c.Server(baseURL, "").Identity(ctx)
}

// ServerRoot implements Gateway.
func (g *PlexGateway) ServerRoot(ctx context.Context, baseURL string) (plex.ServerInfo, error) {
	t, err := g.tok()
	if err != nil {
		return plex.ServerInfo{}, err
	}
	return g.c.Server(baseURL, t).Root(ctx)
}

// ServerLibraries implements Gateway.
func (g *PlexGateway) ServerLibraries(ctx context.Context, baseURL string) ([]plex.Library, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.Server(baseURL, t).Libraries(ctx)
}

// ServerHistory implements Gateway.
func (g *PlexGateway) ServerHistory(ctx context.Context, baseURL string, q plex.HistoryQuery) ([]plex.HistoryItem, error) {
	t, err := g.tok()
	if err != nil {
		return nil, err
	}
	return g.c.Server(baseURL, t).History(ctx, q)
}
