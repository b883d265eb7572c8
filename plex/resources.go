package plex

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Resource is a Plex Media Server as plex.tv lists it (GET /api/v2/resources):
// one the account owns (Resources) or one another account shares with it
// (SharedResources).
type Resource struct {
	// MachineID is the server's machineIdentifier (the resource's
	// clientIdentifier).
	MachineID string
	// Name is the server's friendly name.
	Name string
	// ProductVersion is the PMS version.
	ProductVersion string
	// Platform and PlatformVersion describe the host.
	Platform        string
	PlatformVersion string
	// AccessToken is the token to use with this server. It is a secret.
	AccessToken string
	// PublicAddress is the server's public IP address.
	PublicAddress string
	// Owned is true for the account's own servers (every server Resources
	// returns) and false for servers shared with the account.
	Owned bool
	// OwnerID is the plex.tv id of the owner of a server shared with the
	// account (ownerId); 0 for the account's own servers and when plex.tv
	// does not say.
	OwnerID int64
	// SourceTitle is the name plex.tv shows for the owner of a server shared
	// with the account (sourceTitle); empty for the account's own servers.
	SourceTitle string
	// Presence is true when the server is online for plex.tv.
	Presence bool
	// HTTPSRequired is true when the server refuses plain HTTP.
	HTTPSRequired bool
	// LastSeenAt is when plex.tv last heard from the server.
	LastSeenAt time.Time
	// Connections are ordered: local first, then remote, relay last.
	Connections []Connection
}

// Connection is one way to reach a server.
type Connection struct {
	// Protocol is http or https.
	Protocol string
	// Address and Port are the host and port.
	Address string
	Port    int
	// URI is the base URL to use (often a plex.direct name).
	URI string
	// Local marks a LAN address.
	Local bool
	// Relay marks plex.tv's bandwidth-limited relay.
	Relay bool
	// IPv6 marks an IPv6 address.
	IPv6 bool
}

type resourceJSON struct {
	Name             flexString `json:"name"`
	Product          flexString `json:"product"`
	ProductVersion   flexString `json:"productVersion"`
	Platform         flexString `json:"platform"`
	PlatformVersion  flexString `json:"platformVersion"`
	ClientIdentifier flexString `json:"clientIdentifier"`
	Provides         flexString `json:"provides"`
	OwnerID          flexInt    `json:"ownerId"`
	SourceTitle      flexString `json:"sourceTitle"`
	AccessToken      flexString `json:"accessToken"`
	PublicAddress    flexString `json:"publicAddress"`
	Owned            flexBool   `json:"owned"`
	Presence         flexBool   `json:"presence"`
	HTTPSRequired    flexBool   `json:"httpsRequired"`
	LastSeenAt       flexTime   `json:"lastSeenAt"`
	Connections      []struct {
		Protocol flexString `json:"protocol"`
		Address  flexString `json:"address"`
		Port     flexInt    `json:"port"`
		URI      flexString `json:"uri"`
		Local    flexBool   `json:"local"`
		Relay    flexBool   `json:"relay"`
		IPv6     flexBool   `json:"IPv6"`
	} `json:"connections"`
}

// parseResources decodes /api/v2/resources and keeps the media servers whose
// owned flag equals owned: the account's own servers or the servers shared
// with it. Other devices (players, clients) are left out.
func parseResources(body []byte, owned bool) ([]Resource, error) {
	var list []resourceJSON
	if err := decodeJSON(body, &list); err != nil {
		return nil, err
	}
	var out []Resource
	for _, j := range list {
		if !providesServer(string(j.Provides), string(j.Product)) || bool(j.Owned) != owned {
			continue
		}
		if strings.TrimSpace(string(j.ClientIdentifier)) == "" {
			return nil, errors.New("server resource without clientIdentifier")
		}
		res := Resource{
			MachineID: string(j.ClientIdentifier), Name: string(j.Name), ProductVersion: string(j.ProductVersion),
			Platform: string(j.Platform), PlatformVersion: string(j.PlatformVersion), AccessToken: string(j.AccessToken),
			PublicAddress: string(j.PublicAddress), Owned: bool(j.Owned), Presence: bool(j.Presence),
			HTTPSRequired: bool(j.HTTPSRequired), LastSeenAt: j.LastSeenAt.Time(),
		}
		if !owned {
			res.SourceTitle = string(j.SourceTitle)
			if j.OwnerID > 0 {
				res.OwnerID = int64(j.OwnerID)
			}
		}
		for _, cj := range j.Connections {
			res.Connections = append(res.Connections, Connection{
				Protocol: string(cj.Protocol), Address: string(cj.Address), Port: int(cj.Port), URI: string(cj.URI),
				Local: bool(cj.Local), Relay: bool(cj.Relay), IPv6: bool(cj.IPv6),
			})
		}
		slices.SortStableFunc(res.Connections, func(a, b Connection) int { return connRank(a) - connRank(b) })
		out = append(out, res)
	}
	return out, nil
}

// connRank orders connections: local, remote, relay.
func connRank(c Connection) int {
	switch {
	case c.Relay:
		return 2
	case c.Local:
		return 0
	default:
		return 1
	}
}

// providesServer reports whether a resource is a media server.
func providesServer(provides, product string) bool {
	for _, p := range strings.Split(provides, ",") {
		if strings.TrimSpace(p) == "server" {
			return true
		}
	}
	return product == "Plex Media Server"
}

// Resources lists the servers the account owns with their machine ids,
// access tokens and connections (local first, relay last).
func (c *Client) Resources(ctx context.Context, token string) ([]Resource, error) {
	return c.resources(ctx, token, true)
}

// SharedResources lists the servers other accounts share with the token's
// account, each with its owner's plex.tv id (OwnerID) and name
// (SourceTitle), its access token and connections. A friend who shares a
// server with the owner is found here by OwnerID.
func (c *Client) SharedResources(ctx context.Context, token string) ([]Resource, error) {
	return c.resources(ctx, token, false)
}

// resources reads /api/v2/resources and keeps the owned or the shared servers.
func (c *Client) resources(ctx context.Context, token string, owned bool) ([]Resource, error) {
	r := c.tvCall(http.MethodGet, "/api/v2/resources", "/api/v2/resources")
	if token == "" {
		return nil, invalidArg(r.endpoint(), "no token given")
	}
	r.query = "includeHttps=1&includeRelay=1&includeIPv6=1"
	r.token = token
	r.accept = acceptJSON
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	out, perr := parseResources(resp.body, owned)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return out, nil
}
