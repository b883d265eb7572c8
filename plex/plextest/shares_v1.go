package plextest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// usersNodeLocked builds GET /api/users: friends, Home members and every
// account with a share, each with one Server child per share. The shares
// are sorted and grouped by account once, so a listing is linear in the
// number of accounts and shares.
func (f *Fake) usersNodeLocked() *node {
	byUser := f.sharesByUserLocked()
	var users []*node
	for _, acc := range f.sortedAccountsLocked() {
		if acc.ID == f.ownerID || acc.Guest {
			continue
		}
		shares := byUser[acc.ID]
		if !acc.Friend && !acc.Home && len(shares) == 0 {
			continue
		}
		// User-level flags mirror the first share (plex.tv keeps them per
		// friend; the fake has them per share).
		var first Share
		if len(shares) > 0 {
			first = *shares[0]
		}
		u := el("User", a("id", acc.ID), a("title", acc.Title), a("username", acc.Username), a("email", acc.Email),
			a("recommendationsPlaylistId", ""), a("thumb", acc.Thumb), a("protected", acc.Protected),
			a("home", acc.Home), a("allowTuners", first.AllowTuners), a("allowSync", first.AllowSync),
			a("allowCameraUpload", first.AllowCameraUpload), a("allowChannels", first.AllowChannels),
			a("allowSubtitleAdmin", first.AllowSubtitleAdmin), a("filterAll", first.FilterAll),
			a("filterMovies", first.FilterMovies), a("filterMusic", first.FilterMusic),
			a("filterPhotos", first.FilterPhotos), a("filterTelevision", first.FilterTelevision),
			a("restricted", acc.Managed))
		for _, sh := range shares {
			s := f.serverLocked(sh.MachineID)
			lastSeen := int64(0)
			if !sh.Pending {
				lastSeen = sh.AcceptedAt.Unix()
			}
			u.add(el("Server", a("id", sh.ID), a("serverId", s.ID), a("machineIdentifier", s.MachineID),
				a("name", s.Name), a("lastSeenAt", lastSeen), a("numLibraries", len(f.sharedLibrariesLocked(sh))),
				a("allLibraries", sh.AllLibraries), a("owned", true), a("pending", sh.Pending)))
		}
		users = append(users, u)
	}
	return usersContainer(len(users)).add(users...)
}

// usersContainer is the root of GET /api/users holding n users.
func usersContainer(n int) *node {
	return el("MediaContainer", a("friendlyName", "myPlex"), a("identifier", "com.plexapp.plugins.myplex"),
		a("machineIdentifier", plexTVContainerID), a("totalSize", n), a("size", n))
}

// sharesByUserLocked groups the shares by account id, each group in
// sortedSharesLocked order (server, then share id).
func (f *Fake) sharesByUserLocked() map[int64][]*Share {
	out := make(map[int64][]*Share, len(f.accounts))
	for _, sh := range f.sortedSharesLocked() {
		out[sh.UserID] = append(out[sh.UserID], sh)
	}
	return out
}

func (f *Fake) handleUsers(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV1(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	root := usersContainer(0)
	if acc.ID == f.ownerID {
		root = f.usersNodeLocked()
	}
	f.mu.Unlock()
	writeXML(w, http.StatusOK, root)
}

// sharedServerNodeLocked is one v1 SharedServer with every library of the
// server as a Section (shared 1/0).
func (f *Fake) sharedServerNodeLocked(sh *Share) *node {
	s := f.serverLocked(sh.MachineID)
	acc := f.accounts[sh.UserID]
	username, email := "", sh.InvitedEmail
	if acc != nil {
		username, email = acc.Username, acc.Email
	}
	accepted := ""
	if !sh.Pending {
		accepted = strconv.FormatInt(sh.AcceptedAt.Unix(), 10)
	}
	n := el("SharedServer", a("id", sh.ID), a("username", username), a("email", email), a("userID", sh.UserID),
		a("accessToken", sh.AccessToken), a("name", s.Name), a("acceptedAt", accepted),
		a("invitedAt", sh.InvitedAt.Unix()), a("allowSync", sh.AllowSync), a("allowCameraUpload", sh.AllowCameraUpload),
		a("allowChannels", sh.AllowChannels), a("allLibraries", sh.AllLibraries), a("owned", false))
	shared := f.sharedLibrariesLocked(sh)
	for _, l := range s.Libraries {
		on := false
		for _, x := range shared {
			on = on || x.SectionID == l.SectionID
		}
		n.add(el("Section", a("id", l.SectionID), a("key", l.Key), a("title", l.Title), a("type", l.Type), a("shared", on)))
	}
	return n
}

func (f *Fake) handleV1SharedServers(w http.ResponseWriter, r *http.Request) {
	s, ok := f.v1OwnedServer(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	var kids []*node
	for _, sh := range f.sortedSharesLocked() {
		if sh.MachineID == s.MachineID {
			kids = append(kids, f.sharedServerNodeLocked(sh))
		}
	}
	f.mu.Unlock()
	writeXML(w, http.StatusOK, myPlexContainer(len(kids)).add(kids...))
}

// v1OwnedServer authenticates a v1 request and returns the path's server
// {machineId} when the caller owns it; otherwise it answers the error.
func (f *Fake) v1OwnedServer(w http.ResponseWriter, r *http.Request) (*serverState, bool) {
	acc, ok := f.authV1(w, r)
	if !ok {
		return nil, false
	}
	return f.ownedServer(w, r, acc, false)
}

// v1ShareLocked finds {id} among the shares of the path's server.
func (f *Fake) v1ShareLocked(r *http.Request, s *serverState) *Share {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil
	}
	sh := f.shares[id]
	if sh == nil || sh.MachineID != s.MachineID {
		return nil
	}
	return sh
}

// v1ShareAt runs do, under the lock, on the share {id} of the caller's
// server {machineId}. It reports whether do ran; if not, the error (not
// authenticated, not the owner, unknown share) has been answered.
func (f *Fake) v1ShareAt(w http.ResponseWriter, r *http.Request, do func(*Share)) bool {
	s, ok := f.v1OwnedServer(w, r)
	if !ok {
		return false
	}
	f.mu.Lock()
	sh := f.v1ShareLocked(r, s)
	if sh != nil {
		do(sh)
	}
	f.mu.Unlock()
	if sh == nil {
		writeV1NotFound(w)
		return false
	}
	return true
}

func writeV1NotFound(w http.ResponseWriter) {
	writeXML(w, http.StatusNotFound, el("errors").add(&node{name: "error", text: "Not found"}))
}

// writeV1SharedServer answers a v1 share route: the sharing error, or the
// share n in a container.
func writeV1SharedServer(w http.ResponseWriter, n *node, err error) {
	if err != nil {
		writeV1ShareError(w, err)
		return
	}
	writeXML(w, http.StatusOK, myPlexContainer(1).add(n))
}

func (f *Fake) handleV1SharedServer(w http.ResponseWriter, r *http.Request) {
	var n *node
	if f.v1ShareAt(w, r, func(sh *Share) { n = f.sharedServerNodeLocked(sh) }) {
		writeV1SharedServer(w, n, nil)
	}
}

// v1ShareBody is the JSON of the v1 invite and update routes.
type v1ShareBody struct {
	ServerID     string `json:"server_id"`
	SharedServer struct {
		LibrarySectionIDs json.RawMessage `json:"library_section_ids"`
		InvitedEmail      string          `json:"invited_email"`
		InvitedID         json.RawMessage `json:"invited_id"`
	} `json:"shared_server"`
	SharingSettings map[string]json.RawMessage `json:"sharing_settings"`
}

// parseV1Body decodes and checks a v1 share body; it answers the error.
func parseV1Body(w http.ResponseWriter, r *http.Request, machineID string) (v1ShareBody, []int64, bool) {
	var body v1ShareBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Invalid JSON body")
		return body, nil, false
	}
	if body.ServerID != machineID {
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "server_id does not match the server in the URL")
		return body, nil, false
	}
	var ids []int64
	if raw := body.SharedServer.LibrarySectionIDs; len(raw) > 0 && string(raw) != "null" {
		var err error
		if ids, err = parseIDList(raw); err != nil {
			writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "library_section_ids must be a list of ids")
			return body, nil, false
		}
	}
	return body, ids, true
}

// v1ShareRequest starts the v1 invite and update: the caller's server
// {machineId} and the checked body with its library ids. It answers the
// error when there is one.
func (f *Fake) v1ShareRequest(w http.ResponseWriter, r *http.Request) (*serverState, v1ShareBody, []int64, bool) {
	s, ok := f.v1OwnedServer(w, r)
	if !ok {
		return nil, v1ShareBody{}, nil, false
	}
	body, ids, ok := parseV1Body(w, r, s.MachineID)
	return s, body, ids, ok
}

// handleV1Invite serves POST /api/servers/{machineId}/shared_servers.
//
// An empty library_section_ids is refused: in v1 an empty list is reported
// to remove access rather than grant all (PPUM adds a "Default" library to
// avoid it); this strictness is the fake's choice (UNCONFIRMED).
func (f *Fake) handleV1Invite(w http.ResponseWriter, r *http.Request) {
	s, body, ids, ok := f.v1ShareRequest(w, r)
	if !ok {
		return
	}
	if len(ids) == 0 {
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Please select at least one library to share")
		return
	}
	req := inviteRequest{machineID: s.MachineID, login: body.SharedServer.InvitedEmail, sectionIDs: ids, settings: body.SharingSettings}
	if raw := body.SharedServer.InvitedID; len(raw) > 0 && string(raw) != "null" {
		id, err := parseID(raw)
		if err != nil {
			writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "invited_id is not a number")
			return
		}
		req.invitedID = id
	}
	f.mu.Lock()
	sh, err := f.createShareLocked(req)
	var n *node
	if err == nil {
		n = f.sharedServerNodeLocked(sh)
	}
	f.mu.Unlock()
	writeV1SharedServer(w, n, err)
}

// writeV1ShareError maps a sharing error to a plex.tv v1 answer.
func writeV1ShareError(w http.ResponseWriter, err error) {
	var dup *duplicateError
	var bad *badSectionsError
	switch {
	case errors.As(err, &dup):
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest,
			"You're already sharing this server with "+dup.name+". Please edit your existing share.")
	case errors.As(err, &bad):
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Invalid library section ids")
	case errors.Is(err, errSelf):
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "You cannot share with yourself")
	case errors.Is(err, errUnknownUser):
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Invalid user")
	default:
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, err.Error())
	}
}

// handleV1UpdateShare serves PUT /api/servers/{machineId}/shared_servers/{id}.
// As reported for v1 (PPUM), an empty library list removes the share.
func (f *Fake) handleV1UpdateShare(w http.ResponseWriter, r *http.Request) {
	s, body, ids, ok := f.v1ShareRequest(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	sh := f.v1ShareLocked(r, s)
	if sh == nil {
		f.mu.Unlock()
		writeV1NotFound(w)
		return
	}
	if len(ids) == 0 {
		f.deleteShareLocked(sh.ID)
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	err := f.updateShareLocked(sh, ids, true, body.SharingSettings)
	n := f.sharedServerNodeLocked(sh)
	f.mu.Unlock()
	writeV1SharedServer(w, n, err)
}

func (f *Fake) handleV1DeleteShare(w http.ResponseWriter, r *http.Request) {
	if f.v1ShareAt(w, r, func(sh *Share) { f.deleteShareLocked(sh.ID) }) {
		w.WriteHeader(http.StatusOK)
	}
}

// handleValidateUser serves POST /api/users/validate?invited_email=: an
// existing account (email or username) or a well-formed email is valid.
func (f *Fake) handleValidateUser(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.authV1(w, r); !ok {
		return
	}
	login := r.URL.Query().Get("invited_email")
	f.mu.Lock()
	found := f.accountByLoginLocked(login) != nil
	f.mu.Unlock()
	if found || looksLikeEmail(login) {
		writeResponse(w, http.StatusOK, 0, "Valid user")
		return
	}
	writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Invalid user")
}
