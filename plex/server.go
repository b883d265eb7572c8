package plex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Server is a handle on one Plex Media Server: its base URL (for example
// http://192.168.1.20:32400, or a plextest URL with a path prefix) and the
// token to use with it. It holds no connection; create it with
// Client.Server whenever needed.
type Server struct {
	c       *Client
	base    string
	baseErr error
	token   string
}

// Server returns a handle on the Plex Media Server at baseURL using token
// (the owner's token or the server's access token from Resources). An
// invalid baseURL makes every call fail with ErrInvalidArgument.
func (c *Client) Server(baseURL, token string) *Server {
	s := &Server{c: c, token: token}
	u, err := parseBaseURL(baseURL)
	if err != nil {
		s.baseErr = err
		return s
	}
	s.base = u.String()
	return s
}

// BaseURL returns the server's base URL without a trailing slash.
func (s *Server) BaseURL() string { return s.base }

// call starts a call to this server; it fails when the base URL or the token
// is missing (withToken false for the token-less /identity).
func (s *Server) call(method, route, path string, withToken bool) (*call, error) {
	r := &call{
		method: method, base: s.base, pms: true, route: route, path: path, accept: acceptJSON,
		idempotent: method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete,
	}
	if s.baseErr != nil {
		return nil, invalidArg(r.endpoint(), "server base URL: %v", s.baseErr)
	}
	if withToken {
		if s.token == "" {
			return nil, invalidArg(r.endpoint(), "no token given")
		}
		r.token = s.token
	}
	return r, nil
}

// get sends a GET and returns the body.
func (s *Server) get(ctx context.Context, r *call) (*response, error) {
	return s.c.do(ctx, r)
}

// decodeContainer decodes a PMS body, JSON ({"MediaContainer":{…}}) or XML
// (<MediaContainer …>), into container, whose fields carry both json and xml
// tags.
func decodeContainer(body []byte, container any) error {
	switch sniff(body) {
	case formatJSON:
		var wrap struct {
			MediaContainer json.RawMessage `json:"MediaContainer"`
		}
		if err := decodeJSON(body, &wrap); err != nil {
			return err
		}
		if len(wrap.MediaContainer) == 0 {
			return errors.New("no MediaContainer in the answer")
		}
		return decodeJSON(wrap.MediaContainer, container)
	case formatXML:
		return decodeXML(body, container)
	}
	return errors.New("body is neither JSON nor XML")
}

// Identity is what a server says about itself without a token.
type Identity struct {
	// MachineID is the server's machineIdentifier.
	MachineID string
	// Version is the PMS version.
	Version string
	// Claimed is true once the server is linked to a plex.tv account.
	Claimed bool
}

type identityContainer struct {
	MachineIdentifier string   `json:"machineIdentifier" xml:"machineIdentifier,attr"`
	Version           string   `json:"version" xml:"version,attr"`
	Claimed           flexBool `json:"claimed" xml:"claimed,attr"`
}

// Identity reads GET {pms}/identity (sent without a token).
func (s *Server) Identity(ctx context.Context) (Identity, error) {
	r, err := s.call(http.MethodGet, "/identity", "/identity", false)
	if err != nil {
		return Identity{}, err
	}
	resp, err := s.get(ctx, r)
	if err != nil {
		return Identity{}, err
	}
	id, perr := parseIdentity(resp.body)
	if perr != nil {
		return Identity{}, badBody(r, resp, perr)
	}
	return id, nil
}

// parseIdentity decodes GET {pms}/identity.
func parseIdentity(body []byte) (Identity, error) {
	var c identityContainer
	if err := decodeContainer(body, &c); err != nil {
		return Identity{}, err
	}
	if strings.TrimSpace(c.MachineIdentifier) == "" {
		return Identity{}, errors.New("no machineIdentifier")
	}
	return Identity{MachineID: c.MachineIdentifier, Version: c.Version, Claimed: bool(c.Claimed)}, nil
}

// ServerInfo is the root document of a server.
type ServerInfo struct {
	// Name is the server's friendly name.
	Name string
	// MachineID is the server's machineIdentifier.
	MachineID string
	// Version is the PMS version.
	Version string
	// Platform and PlatformVersion describe the host.
	Platform        string
	PlatformVersion string
	// MyPlexUsername is the plex.tv account the server is signed in with.
	MyPlexUsername string
	// MyPlexSubscription is the server's own report of Plex Pass.
	MyPlexSubscription bool
	// Features are the owner's features (ownerFeatures).
	Features []string
	// PlexPass is true when the owner has Plex Pass (myPlexSubscription, or
	// a Plex Pass marker among the owner's features).
	PlexPass bool
	// AllowSharing is true when the server may be shared.
	AllowSharing bool
	// TranscoderActiveVideoSessions counts running video transcodes.
	TranscoderActiveVideoSessions int
}

type rootContainer struct {
	FriendlyName                  string   `json:"friendlyName" xml:"friendlyName,attr"`
	MachineIdentifier             string   `json:"machineIdentifier" xml:"machineIdentifier,attr"`
	Version                       string   `json:"version" xml:"version,attr"`
	Platform                      string   `json:"platform" xml:"platform,attr"`
	PlatformVersion               string   `json:"platformVersion" xml:"platformVersion,attr"`
	MyPlexUsername                string   `json:"myPlexUsername" xml:"myPlexUsername,attr"`
	MyPlexSubscription            flexBool `json:"myPlexSubscription" xml:"myPlexSubscription,attr"`
	OwnerFeatures                 string   `json:"ownerFeatures" xml:"ownerFeatures,attr"`
	AllowSharing                  flexBool `json:"allowSharing" xml:"allowSharing,attr"`
	TranscoderActiveVideoSessions flexInt  `json:"transcoderActiveVideoSessions" xml:"transcoderActiveVideoSessions,attr"`
}

// Root reads GET {pms}/ : name, version and Plex Pass status.
func (s *Server) Root(ctx context.Context) (ServerInfo, error) {
	r, err := s.call(http.MethodGet, "/", "/", true)
	if err != nil {
		return ServerInfo{}, err
	}
	resp, err := s.get(ctx, r)
	if err != nil {
		return ServerInfo{}, err
	}
	info, perr := parseRoot(resp.body)
	if perr != nil {
		return ServerInfo{}, badBody(r, resp, perr)
	}
	return info, nil
}

// parseRoot decodes GET {pms}/.
func parseRoot(body []byte) (ServerInfo, error) {
	var c rootContainer
	if err := decodeContainer(body, &c); err != nil {
		return ServerInfo{}, err
	}
	info := ServerInfo{
		Name: c.FriendlyName, MachineID: c.MachineIdentifier, Version: c.Version, Platform: c.Platform,
		PlatformVersion: c.PlatformVersion, MyPlexUsername: c.MyPlexUsername, MyPlexSubscription: bool(c.MyPlexSubscription),
		AllowSharing: bool(c.AllowSharing), TranscoderActiveVideoSessions: int(max(c.TranscoderActiveVideoSessions, 0)),
	}
	for _, f := range strings.Split(c.OwnerFeatures, ",") {
		if f = strings.TrimSpace(f); f != "" {
			info.Features = append(info.Features, f)
		}
	}
	info.PlexPass = info.MyPlexSubscription || hasPassFeature(info.Features)
	return info, nil
}

// hasPassFeature recognises the Plex Pass markers in ownerFeatures.
func hasPassFeature(features []string) bool {
	for _, f := range features {
		switch strings.ToLower(f) {
		case "plexpass", "plex_pass", "pass":
			return true
		}
	}
	return false
}

// Library is one library section of a server.
type Library struct {
	// Key is the server's library key (what plex.tv calls Section@key).
	Key string
	// Type is movie, show, artist or photo.
	Type string
	// Title is the library's name.
	Title string
	// UUID is the library's uuid on the server.
	UUID string
	// Agent, Scanner and Language are the metadata settings.
	Agent    string
	Scanner  string
	Language string
	// Hidden is true for libraries hidden from home screens.
	Hidden bool
	// Locations are the folders of the library.
	Locations []string
	// UpdatedAt and ScannedAt are the last change and scan.
	UpdatedAt time.Time
	ScannedAt time.Time
}

type librariesContainer struct {
	Directories oneOrMany[libraryItem] `json:"Directory" xml:"Directory"`
}

type libraryItem struct {
	Key       flexString              `json:"key" xml:"key,attr"`
	Type      string                  `json:"type" xml:"type,attr"`
	Title     string                  `json:"title" xml:"title,attr"`
	UUID      string                  `json:"uuid" xml:"uuid,attr"`
	Agent     string                  `json:"agent" xml:"agent,attr"`
	Scanner   string                  `json:"scanner" xml:"scanner,attr"`
	Language  string                  `json:"language" xml:"language,attr"`
	Hidden    flexBool                `json:"hidden" xml:"hidden,attr"`
	UpdatedAt flexTime                `json:"updatedAt" xml:"updatedAt,attr"`
	ScannedAt flexTime                `json:"scannedAt" xml:"scannedAt,attr"`
	Locations oneOrMany[locationItem] `json:"Location" xml:"Location"`
}

type locationItem struct {
	Path string `json:"path" xml:"path,attr"`
}

// parseLibraries decodes GET /library/sections.
func parseLibraries(body []byte) ([]Library, error) {
	var c librariesContainer
	if err := decodeContainer(body, &c); err != nil {
		return nil, err
	}
	out := make([]Library, 0, len(c.Directories))
	seen := make(map[flexString]bool, len(c.Directories))
	for _, d := range c.Directories {
		if strings.TrimSpace(string(d.Key)) == "" {
			return nil, errors.New("library without key")
		}
		if seen[d.Key] {
			return nil, fmt.Errorf("library key %q listed twice", truncate(string(d.Key), 40))
		}
		seen[d.Key] = true
		l := Library{
			Key: string(d.Key), Type: d.Type, Title: d.Title, UUID: d.UUID, Agent: d.Agent, Scanner: d.Scanner,
			Language: d.Language, Hidden: bool(d.Hidden), UpdatedAt: d.UpdatedAt.Time(), ScannedAt: d.ScannedAt.Time(),
		}
		for _, loc := range d.Locations {
			l.Locations = append(l.Locations, loc.Path)
		}
		out = append(out, l)
	}
	return out, nil
}

// Libraries lists the server's library sections (GET {pms}/library/sections).
func (s *Server) Libraries(ctx context.Context) ([]Library, error) {
	r, err := s.call(http.MethodGet, "/library/sections", "/library/sections", true)
	if err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, r)
	if err != nil {
		return nil, err
	}
	out, perr := parseLibraries(resp.body)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return out, nil
}

// ServerAccount is a server-local account. ID 1 is the owner; other ids are
// plex.tv user ids (quirk 2); 0 is the unnamed local account.
type ServerAccount struct {
	// ID is the server account id.
	ID int64
	// Name is the account's name on the server.
	Name string
	// Thumb is the avatar URL.
	Thumb string
}

type accountsContainer struct {
	Accounts oneOrMany[struct {
		ID    flexInt `json:"id" xml:"id,attr"`
		Name  string  `json:"name" xml:"name,attr"`
		Thumb string  `json:"thumb" xml:"thumb,attr"`
	}] `json:"Account" xml:"Account"`
}

// Accounts lists the server's local accounts (GET {pms}/accounts).
func (s *Server) Accounts(ctx context.Context) ([]ServerAccount, error) {
	r, err := s.call(http.MethodGet, "/accounts", "/accounts", true)
	if err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, r)
	if err != nil {
		return nil, err
	}
	out, perr := parseServerAccounts(resp.body)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return out, nil
}

// parseServerAccounts decodes GET {pms}/accounts. Ids are 0 (the local
// account), 1 (the owner) or plex.tv ids, so a negative one is refused.
func parseServerAccounts(body []byte) ([]ServerAccount, error) {
	var c accountsContainer
	if err := decodeContainer(body, &c); err != nil {
		return nil, err
	}
	out := make([]ServerAccount, 0, len(c.Accounts))
	for _, a := range c.Accounts {
		if a.ID < 0 {
			return nil, fmt.Errorf("account id %d", int64(a.ID))
		}
		out = append(out, ServerAccount{ID: int64(a.ID), Name: a.Name, Thumb: a.Thumb})
	}
	return out, nil
}
