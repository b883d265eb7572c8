package plex

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// ShareSettings are a share's permissions and restriction filters.
type ShareSettings struct {
	// AllowSync allows downloads.
	AllowSync bool
	// AllowCameraUpload allows uploading photos to the server.
	AllowCameraUpload bool
	// AllowChannels allows channels (plugins).
	AllowChannels bool
	// Filters are the restriction filters.
	Filters Filters
}

// ShareRequest describes a new share of one server.
type ShareRequest struct {
	// MachineID is the server's machine identifier.
	MachineID string
	// Invitee is an email address or Plex username; or set InviteeID (a
	// plex.tv user id, required for managed users). Exactly one is needed.
	Invitee string
	// InviteeID is the invitee's plex.tv user id.
	InviteeID int64
	// SectionIDs are plex.tv's global section ids (see SectionList.IDs);
	// never server library keys. An empty list is refused unless ShareAll
	// is set, because plex.tv reads an empty list as "every library".
	SectionIDs []int64
	// ShareAll shares every library, including libraries added later. It
	// excludes SectionIDs.
	ShareAll bool
	// Settings are the share's permissions and filters.
	Settings ShareSettings
}

// ShareResult is what plex.tv reports about a created share.
type ShareResult struct {
	// ShareID is the new share's id (0 when the legacy route did not say).
	ShareID int64
	// MachineID is the shared server.
	MachineID string
	// InviteeID is the invitee's plex.tv id when known.
	InviteeID int64
	// Email is the address the invitation went to, when known.
	Email string
	// Pending is true until the invitee accepts.
	Pending bool
	// SectionIDs and LibraryKeys are the shared libraries as plex.tv
	// reported them (or as requested when it did not say).
	SectionIDs  []int64
	LibraryKeys []string
	// AllLibraries means every library, including future ones.
	AllLibraries bool
	// Legacy is true when plex.tv refused the v2 route and the v1 route was
	// used instead.
	Legacy bool
}

// v2Settings is the full settings object of the v2 share routes; every key
// is sent every time (plex.tv resets what is left out).
type v2Settings struct {
	AllowSync          bool    `json:"allowSync"`
	AllowCameraUpload  bool    `json:"allowCameraUpload"`
	AllowChannels      bool    `json:"allowChannels"`
	AllowTuners        int     `json:"allowTuners"`
	AllowSubtitleAdmin bool    `json:"allowSubtitleAdmin"`
	FilterMovies       string  `json:"filterMovies"`
	FilterTelevision   string  `json:"filterTelevision"`
	FilterMusic        string  `json:"filterMusic"`
	FilterPhotos       *string `json:"filterPhotos"`
	FilterAll          *string `json:"filterAll"`
}

func toV2Settings(s ShareSettings) v2Settings {
	return v2Settings{
		AllowSync: s.AllowSync, AllowCameraUpload: s.AllowCameraUpload, AllowChannels: s.AllowChannels,
		FilterMovies: s.Filters.Movies, FilterTelevision: s.Filters.Television, FilterMusic: s.Filters.Music,
	}
}

// v1Settings is the legacy sharing_settings object ("1"/"0" strings).
type v1Settings struct {
	AllowSync         string `json:"allowSync"`
	AllowCameraUpload string `json:"allowCameraUpload"`
	AllowChannels     string `json:"allowChannels"`
	FilterMovies      string `json:"filterMovies"`
	FilterTelevision  string `json:"filterTelevision"`
	FilterMusic       string `json:"filterMusic"`
}

func toV1Settings(s ShareSettings) v1Settings {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return v1Settings{
		AllowSync: b(s.AllowSync), AllowCameraUpload: b(s.AllowCameraUpload), AllowChannels: b(s.AllowChannels),
		FilterMovies: s.Filters.Movies, FilterTelevision: s.Filters.Television, FilterMusic: s.Filters.Music,
	}
}

type v2CreateBody struct {
	MachineIdentifier string     `json:"machineIdentifier"`
	InvitedEmail      string     `json:"invitedEmail,omitempty"`
	InvitedID         int64      `json:"invitedId,omitempty"`
	LibrarySectionIDs []int64    `json:"librarySectionIds"`
	Settings          v2Settings `json:"settings"`
	SkipFriendship    bool       `json:"skipFriendship"`
}

type v1SharedServer struct {
	LibrarySectionIDs []int64 `json:"library_section_ids"`
	InvitedEmail      string  `json:"invited_email,omitempty"`
	InvitedID         int64   `json:"invited_id,omitempty"`
}

type v1ShareBody struct {
	ServerID        string         `json:"server_id"`
	SharedServer    v1SharedServer `json:"shared_server"`
	SharingSettings v1Settings     `json:"sharing_settings"`
}

type v2UpdateBody struct {
	Settings          v2Settings `json:"settings"`
	LibrarySectionIDs []int64    `json:"librarySectionIds"`
}

// validate checks a share request before any call.
func (req ShareRequest) validate(endpoint string) error {
	if strings.TrimSpace(req.MachineID) == "" {
		return invalidArg(endpoint, "no server machine id given")
	}
	switch {
	case strings.TrimSpace(req.Invitee) == "" && req.InviteeID <= 0:
		return invalidArg(endpoint, "no invitee given (an email address, a username or a user id)")
	case strings.TrimSpace(req.Invitee) != "" && req.InviteeID > 0:
		return invalidArg(endpoint, "give either an invitee name or an invitee id, not both")
	}
	if req.ShareAll && len(req.SectionIDs) > 0 {
		return invalidArg(endpoint, "ShareAll and a list of libraries exclude each other")
	}
	if !req.ShareAll {
		if err := checkSectionIDs(endpoint, req.SectionIDs); err != nil {
			return err
		}
	}
	if err := req.Settings.Filters.Validate(); err != nil {
		return invalidArg(endpoint, "%v", err)
	}
	return nil
}

// checkSectionIDs refuses an empty list (plex.tv reads it as every library)
// and non-positive ids.
func checkSectionIDs(endpoint string, ids []int64) error {
	if len(ids) == 0 {
		return invalidArg(endpoint, "no libraries given: plex.tv would read an empty list as every library (use ShareAll for that, or remove the share)")
	}
	for _, id := range ids {
		if id <= 0 {
			return invalidArg(endpoint, "library section id %d is not a plex.tv section id", id)
		}
	}
	return nil
}

// fallsBack reports whether plex.tv refused a v2 route in a way that calls
// for the v1 route: 410 Gone, or 404 with code 1002 ("resource or endpoint
// could not be found", seen when the route itself moved).
func fallsBack(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	return e.Status == http.StatusGone || (e.Status == http.StatusNotFound && e.Code == 1002)
}

// jsonBody encodes v for a request.
func jsonBody(r *call, v any) {
	b, _ := json.Marshal(v) // plain structs of strings, numbers and bools cannot fail
	r.body = b
	r.contentType = "application/json"
}

// Share shares a server with someone: POST /api/v2/shared_servers with
// skipFriendship; if plex.tv answers 410 or 404 code 1002, the legacy
// POST /api/servers/{machineId}/shared_servers. A share that exists or is
// pending is ErrAlreadyShared. An empty SectionIDs list is refused with
// ErrInvalidArgument and no call (plex.tv would share everything); use
// ShareAll to mean every library. ShareAll has no legacy form: when the v2
// route is refused it returns that error rather than guess.
func (c *Client) Share(ctx context.Context, token string, req ShareRequest) (ShareResult, error) {
	r := c.tvCall(http.MethodPost, "/api/v2/shared_servers", "/api/v2/shared_servers")
	if token == "" {
		return ShareResult{}, invalidArg(r.endpoint(), "no token given")
	}
	if err := req.validate(r.endpoint()); err != nil {
		return ShareResult{}, err
	}
	ids := req.SectionIDs
	if req.ShareAll {
		ids = []int64{}
	}
	r.token = token
	r.accept = acceptJSON
	jsonBody(r, v2CreateBody{
		MachineIdentifier: req.MachineID, InvitedEmail: strings.TrimSpace(req.Invitee), InvitedID: req.InviteeID,
		LibrarySectionIDs: ids, Settings: toV2Settings(req.Settings), SkipFriendship: true,
	})
	resp, err := c.do(ctx, r)
	switch {
	case err == nil:
		j, perr := parseShareObject(resp.body)
		if perr != nil {
			return ShareResult{}, badBody(r, resp, perr)
		}
		res := ShareResult{
			ShareID: int64(j.ID), MachineID: req.MachineID, InviteeID: req.InviteeID, Email: string(j.InvitedEmail),
			Pending: !bool(j.Accepted), SectionIDs: ids, AllLibraries: req.ShareAll || bool(j.AllLibraries),
		}
		if int64(j.InvitedID) > 0 {
			res.InviteeID = int64(j.InvitedID)
		}
		if len(j.Libraries) > 0 {
			res.SectionIDs, res.LibraryKeys = nil, nil
			for _, l := range j.Libraries {
				res.SectionIDs = append(res.SectionIDs, int64(l.ID))
				res.LibraryKeys = append(res.LibraryKeys, string(l.Key))
			}
		}
		return res, nil
	case isStatus(err, http.StatusUnprocessableEntity):
		e, _ := asError(err)
		return ShareResult{}, e.withKind(ErrAlreadyShared, "the server is already shared with this user, or an invitation is pending")
	case fallsBack(err) && !req.ShareAll:
		return c.shareV1(ctx, token, req)
	}
	return ShareResult{}, err
}

// shareV1 creates a share with the legacy route.
func (c *Client) shareV1(ctx context.Context, token string, req ShareRequest) (ShareResult, error) {
	r := c.tvCall(http.MethodPost, "/api/servers/{machineId}/shared_servers", "/api/servers/"+pathEscape(req.MachineID)+"/shared_servers")
	r.token = token
	r.accept = acceptXML
	jsonBody(r, v1ShareBody{
		ServerID: req.MachineID,
		SharedServer: v1SharedServer{
			LibrarySectionIDs: req.SectionIDs, InvitedEmail: strings.TrimSpace(req.Invitee), InvitedID: req.InviteeID,
		},
		SharingSettings: toV1Settings(req.Settings),
	})
	resp, err := c.do(ctx, r)
	if err != nil {
		if e, ok := asError(err); ok && e.Status == http.StatusBadRequest && mentionsAlreadyShared(e.Message) {
			return ShareResult{}, e.withKind(ErrAlreadyShared, "")
		}
		return ShareResult{}, err
	}
	res := ShareResult{MachineID: req.MachineID, InviteeID: req.InviteeID, Pending: true, SectionIDs: req.SectionIDs, Legacy: true}
	if sniff(resp.body) == formatXML {
		list, perr := parseSharedServers(resp.body, req.MachineID)
		if perr != nil {
			return ShareResult{}, badBody(r, resp, perr)
		}
		if len(list) > 0 {
			s := list[0]
			res.ShareID = s.ShareID
			if s.UserID > 0 {
				res.InviteeID = s.UserID
			}
			res.Email = s.Email
			res.Pending = s.AcceptedAt.IsZero()
			if ids, keys := s.shared(); len(ids) > 0 {
				res.SectionIDs, res.LibraryKeys = ids, keys
			}
		}
	}
	return res, nil
}

// mentionsAlreadyShared recognises the v1 duplicate messages ("You're
// already sharing this server with X", "invite is already pending").
func mentionsAlreadyShared(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "already shar") || strings.Contains(m, "already pending") || strings.Contains(m, "already been invited")
}

// isStatus reports whether err is an *Error with that HTTP status.
func isStatus(err error, status int) bool {
	e, ok := asError(err)
	return ok && e.Status == status
}

// UpdateShare replaces a share's libraries and settings:
// POST /api/v2/shared_servers/{id} with the full settings object; on 410 or
// 404 code 1002, the legacy PUT /api/servers/{machineId}/shared_servers/{id}.
// An empty sectionIDs list is refused (plex.tv would read it as every
// library); to take all access away, use RemoveShare, and to give every
// library, UpdateShareAll. An unknown share is ErrNotFound. The update is
// idempotent and is retried like a PUT.
func (c *Client) UpdateShare(ctx context.Context, token, machineID string, shareID int64, sectionIDs []int64, settings ShareSettings) error {
	r, err := c.updateCall(token, machineID, shareID, settings)
	if err != nil {
		return err
	}
	if err := checkSectionIDs(r.endpoint(), sectionIDs); err != nil {
		return err
	}
	jsonBody(r, v2UpdateBody{Settings: toV2Settings(settings), LibrarySectionIDs: sectionIDs})
	_, err = c.do(ctx, r)
	if err == nil || !fallsBack(err) {
		return err
	}

	v1 := c.tvCall(http.MethodPut, "/api/servers/{machineId}/shared_servers/{id}",
		"/api/servers/"+pathEscape(machineID)+"/shared_servers/"+idSegment(shareID))
	v1.token = token
	v1.accept = acceptXML
	jsonBody(v1, v1ShareBody{ServerID: machineID, SharedServer: v1SharedServer{LibrarySectionIDs: sectionIDs}, SharingSettings: toV1Settings(settings)})
	_, err = c.do(ctx, v1)
	return err
}

// UpdateShareAll gives a share every library of its server, libraries added
// later included, and sets its settings: POST /api/v2/shared_servers/{id}
// with an empty librarySectionIds list, which plex.tv reads as every library.
// Writing today's libraries as a list instead would drop the ones added
// later. The legacy route has no documented form of "every library", so when
// plex.tv refuses the v2 route (410, 404 code 1002) that error is returned
// rather than a guess made. An unknown share is ErrNotFound. The update is
// idempotent and is retried like a PUT.
func (c *Client) UpdateShareAll(ctx context.Context, token, machineID string, shareID int64, settings ShareSettings) error {
	r, err := c.updateCall(token, machineID, shareID, settings)
	if err != nil {
		return err
	}
	jsonBody(r, v2UpdateBody{Settings: toV2Settings(settings), LibrarySectionIDs: []int64{}})
	_, err = c.do(ctx, r)
	return err
}

// updateCall checks the arguments of a share update and returns its v2 call
// (without a body).
func (c *Client) updateCall(token, machineID string, shareID int64, settings ShareSettings) (*call, error) {
	r := c.tvCall(http.MethodPost, "/api/v2/shared_servers/{id}", "/api/v2/shared_servers/"+idSegment(shareID))
	r.idempotent = true
	if err := checkArgs(r, token, machineID); err != nil {
		return nil, err
	}
	if shareID <= 0 {
		return nil, invalidArg(r.endpoint(), "no share id given")
	}
	if err := settings.Filters.Validate(); err != nil {
		return nil, invalidArg(r.endpoint(), "%v", err)
	}
	r.accept = acceptJSON
	return r, nil
}

// RemoveShare deletes a share (DELETE /api/v2/shared_servers/{id}; on 410
// or 404 code 1002, DELETE /api/servers/{machineId}/shared_servers/{id}).
// The user stays a friend. An unknown share is ErrNotFound; a caller that
// retries a removal should treat ErrNotFound as done.
func (c *Client) RemoveShare(ctx context.Context, token, machineID string, shareID int64) error {
	r := c.tvCall(http.MethodDelete, "/api/v2/shared_servers/{id}", "/api/v2/shared_servers/"+idSegment(shareID))
	if err := checkArgs(r, token, machineID); err != nil {
		return err
	}
	if shareID <= 0 {
		return invalidArg(r.endpoint(), "no share id given")
	}
	r.accept = acceptJSON
	_, err := c.do(ctx, r)
	if err == nil || !fallsBack(err) {
		return err
	}
	v1 := c.tvCall(http.MethodDelete, "/api/servers/{machineId}/shared_servers/{id}",
		"/api/servers/"+pathEscape(machineID)+"/shared_servers/"+idSegment(shareID))
	v1.token = token
	v1.accept = acceptXML
	_, err = c.do(ctx, v1)
	return err
}

// RemoveFriend removes a user from all sharing and from the friends list
// (DELETE /api/v2/sharings/{userId}).
func (c *Client) RemoveFriend(ctx context.Context, token string, userID int64) error {
	r := c.tvCall(http.MethodDelete, "/api/v2/sharings/{userId}", "/api/v2/sharings/"+idSegment(userID))
	if token == "" {
		return invalidArg(r.endpoint(), "no token given")
	}
	if userID <= 0 {
		return invalidArg(r.endpoint(), "no user id given")
	}
	r.token = token
	r.accept = acceptJSON
	_, err := c.do(ctx, r)
	return err
}

// CancelInvite withdraws a pending invitation: DELETE
// /api/v2/shared_servers/{id} with its share id; on 410 or 404 code 1002,
// the legacy DELETE /api/invites/requested/{invitee}?friend=0&server=1&home=0
// keyed by the invitee's id or, for addresses without an account, email.
func (c *Client) CancelInvite(ctx context.Context, token string, inv PendingInvite) error {
	r := c.tvCall(http.MethodDelete, "/api/v2/shared_servers/{id}", "/api/v2/shared_servers/"+idSegment(inv.ShareID))
	if token == "" {
		return invalidArg(r.endpoint(), "no token given")
	}
	if inv.ShareID <= 0 {
		return invalidArg(r.endpoint(), "the invitation has no share id")
	}
	r.token = token
	r.accept = acceptJSON
	_, err := c.do(ctx, r)
	if err == nil || !fallsBack(err) {
		return err
	}
	key := inv.Email
	if inv.InviteeID > 0 {
		key = idSegment(inv.InviteeID)
	}
	if key == "" {
		return err
	}
	v1 := c.tvCall(http.MethodDelete, "/api/invites/requested/{id}", "/api/invites/requested/"+pathEscape(key))
	v1.token = token
	v1.accept = acceptXML
	v1.query = "friend=0&server=1&home=0"
	_, err = c.do(ctx, v1)
	return err
}

// AcceptInvite accepts, as the invitee (inviteeToken is the invitee's own
// token), the pending share of the given server: it lists the invitee's
// received invitations (GET /api/v2/shared_servers/invites/received/pending)
// and accepts the one for that server (POST /api/v2/shared_servers/{id}/accept).
// It returns the share id; no pending invitation for the server is
// ErrNotFound.
func (c *Client) AcceptInvite(ctx context.Context, inviteeToken, machineID string) (int64, error) {
	const listRoute = "/api/v2/shared_servers/invites/received/pending"
	if strings.TrimSpace(machineID) == "" {
		return 0, invalidArg("GET "+listRoute, "no server machine id given")
	}
	list, err := c.pendingList(ctx, inviteeToken, listRoute)
	if err != nil {
		return 0, err
	}
	var shareID int64
	for _, inv := range list {
		if inv.MachineID == machineID {
			shareID = inv.ShareID
			break
		}
	}
	if shareID == 0 {
		return 0, &Error{Kind: ErrNotFound, Endpoint: "GET " + listRoute, Message: "no pending invitation for this server"}
	}
	r := c.tvCall(http.MethodPost, "/api/v2/shared_servers/{id}/accept", "/api/v2/shared_servers/"+idSegment(shareID)+"/accept")
	r.token = inviteeToken
	r.accept = acceptJSON
	if _, err := c.do(ctx, r); err != nil {
		return 0, err
	}
	return shareID, nil
}

// ValidateInvitee checks that an email address or username belongs to a
// Plex account (POST /api/users/validate). No account is ErrNotFound. An
// email without an account can still be invited: Plex then emails a sign-up
// invitation.
func (c *Client) ValidateInvitee(ctx context.Context, token, emailOrUsername string) error {
	r := c.tvCall(http.MethodPost, "/api/users/validate", "/api/users/validate")
	r.idempotent = true // a lookup: retrying it changes nothing
	who := strings.TrimSpace(emailOrUsername)
	if token == "" {
		return invalidArg(r.endpoint(), "no token given")
	}
	if who == "" {
		return invalidArg(r.endpoint(), "no email address or username given")
	}
	r.token = token
	r.accept = acceptXML
	r.query = "invited_email=" + url.QueryEscape(who)
	_, err := c.do(ctx, r)
	if e, ok := asError(err); ok && (e.Status == http.StatusBadRequest || e.Status == http.StatusNotFound || e.Status == http.StatusUnprocessableEntity) {
		if errors.Is(err, ErrUnverifiedEmail) {
			return err
		}
		return e.withKind(ErrNotFound, "no Plex account matches that email address or username")
	}
	return err
}
