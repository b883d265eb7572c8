package plextest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

type invitedJSON struct {
	ID           int64  `json:"id"`
	UUID         string `json:"uuid"`
	Title        string `json:"title"`
	Username     string `json:"username"`
	Email        string `json:"email"`
	FriendlyName string `json:"friendlyName"`
	Restricted   bool   `json:"restricted"`
	Home         bool   `json:"home"`
	Thumb        string `json:"thumb"`
	Status       string `json:"status"`
}

type sharingSettingsJSON struct {
	AllowChannels      bool    `json:"allowChannels"`
	FilterMovies       string  `json:"filterMovies"`
	FilterMusic        string  `json:"filterMusic"`
	FilterPhotos       *string `json:"filterPhotos"`
	FilterTelevision   string  `json:"filterTelevision"`
	FilterAll          *string `json:"filterAll"`
	AllowSync          bool    `json:"allowSync"`
	AllowCameraUpload  bool    `json:"allowCameraUpload"`
	AllowSubtitleAdmin bool    `json:"allowSubtitleAdmin"`
	AllowTuners        int     `json:"allowTuners"`
}

type shareLibraryJSON struct {
	ID    int64  `json:"id"`
	Key   any    `json:"key"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

type shareJSON struct {
	ID                int64               `json:"id"`
	Name              string              `json:"name"`
	OwnerID           int64               `json:"ownerId"`
	InvitedID         *int64              `json:"invitedId"`
	InvitedEmail      string              `json:"invitedEmail"`
	ServerID          int64               `json:"serverId"`
	Accepted          bool                `json:"accepted"`
	AcceptedAt        *int64              `json:"acceptedAt"`
	DeletedAt         *int64              `json:"deletedAt"`
	LeftAt            *int64              `json:"leftAt"`
	Owned             bool                `json:"owned"`
	InviteToken       *string             `json:"inviteToken"`
	MachineIdentifier string              `json:"machineIdentifier"`
	LastSeenAt        int64               `json:"lastSeenAt"`
	NumLibraries      int                 `json:"numLibraries"`
	Invited           *invitedJSON        `json:"invited"`
	SharingSettings   sharingSettingsJSON `json:"sharingSettings"`
	Libraries         []shareLibraryJSON  `json:"libraries"`
	AllLibraries      bool                `json:"allLibraries"`
}

// inviteJSON groups the pending shares of one invitee. Only sharedServers
// is documented (docs/plex-api.md §4.4); the other fields are UNCONFIRMED.
type inviteJSON struct {
	ID            int64        `json:"id"`
	InvitedEmail  string       `json:"invitedEmail"`
	CreatedAt     int64        `json:"createdAt"`
	Friend        bool         `json:"friend"`
	Home          bool         `json:"home"`
	Server        bool         `json:"server"`
	Invited       *invitedJSON `json:"invited"`
	SharedServers []shareJSON  `json:"sharedServers"`
	SharedSources []any        `json:"sharedSources"`
}

// keyValue renders a server key as a number when it is one.
func keyValue(k string) any {
	if n, err := strconv.ParseInt(k, 10, 64); err == nil {
		return n
	}
	return k
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (f *Fake) shareJSONLocked(sh *Share) shareJSON {
	s := f.serverLocked(sh.MachineID)
	out := shareJSON{
		ID: sh.ID, OwnerID: f.ownerID, InvitedEmail: sh.InvitedEmail, Accepted: !sh.Pending,
		MachineIdentifier: sh.MachineID, AllLibraries: sh.AllLibraries, Libraries: []shareLibraryJSON{},
		SharingSettings: sharingSettingsJSON{
			AllowChannels: sh.AllowChannels, FilterMovies: sh.FilterMovies, FilterMusic: sh.FilterMusic,
			FilterPhotos: nullIfEmpty(sh.FilterPhotos), FilterTelevision: sh.FilterTelevision,
			FilterAll: nullIfEmpty(sh.FilterAll), AllowSync: sh.AllowSync, AllowCameraUpload: sh.AllowCameraUpload,
			AllowSubtitleAdmin: sh.AllowSubtitleAdmin,
		},
	}
	if sh.AllowTuners {
		out.SharingSettings.AllowTuners = 1
	}
	if s != nil {
		out.Name, out.ServerID = s.Name, s.ID
	}
	if sh.UserID != 0 {
		id := sh.UserID
		out.InvitedID = &id
	}
	if !sh.Pending {
		at := sh.AcceptedAt.Unix()
		out.AcceptedAt = &at
		out.LastSeenAt = sh.AcceptedAt.Unix()
	} else {
		tok := "invite-" + strconv.FormatInt(sh.ID, 36)
		out.InviteToken = &tok
	}
	for _, l := range f.sharedLibrariesLocked(sh) {
		out.Libraries = append(out.Libraries, shareLibraryJSON{ID: l.SectionID, Key: keyValue(l.Key), Title: l.Title, Type: l.Type})
	}
	out.NumLibraries = len(out.Libraries)
	out.Invited = f.invitedJSONLocked(sh)
	return out
}

func (f *Fake) invitedJSONLocked(sh *Share) *invitedJSON {
	status := "pending"
	if !sh.Pending {
		status = "accepted"
	}
	acc := f.accounts[sh.UserID]
	if acc == nil {
		return &invitedJSON{Title: sh.InvitedEmail, Email: sh.InvitedEmail, FriendlyName: sh.InvitedEmail, Status: status}
	}
	return &invitedJSON{ID: acc.ID, UUID: acc.UUID, Title: acc.Title, Username: acc.Username, Email: acc.Email,
		FriendlyName: acc.Title, Restricted: acc.Managed, Home: acc.Home, Thumb: acc.Thumb, Status: status}
}

func (f *Fake) handleV2Accepted(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok || !requireJSON(w, r) {
		return
	}
	f.mu.Lock()
	out := []shareJSON{}
	if acc.ID == f.ownerID {
		for _, sh := range f.sortedSharesLocked() {
			if !sh.Pending {
				out = append(out, f.shareJSONLocked(sh))
			}
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// invitesLocked groups pending shares by invitee; keep selects them.
func (f *Fake) invitesLocked(keep func(*Share) bool) []inviteJSON {
	out := []inviteJSON{}
	index := map[string]int{}
	for _, sh := range f.sortedSharesLocked() {
		if !sh.Pending || !keep(sh) {
			continue
		}
		key := strconv.FormatInt(sh.UserID, 10)
		if sh.UserID == 0 {
			key = strings.ToLower(sh.InvitedEmail)
		}
		i, seen := index[key]
		if !seen {
			i = len(out)
			index[key] = i
			out = append(out, inviteJSON{ID: sh.UserID, InvitedEmail: sh.InvitedEmail, CreatedAt: sh.InvitedAt.Unix(),
				Friend: !sh.SkipFriendship, Server: true, Invited: f.invitedJSONLocked(sh), SharedSources: []any{}})
		}
		out[i].SharedServers = append(out[i].SharedServers, f.shareJSONLocked(sh))
	}
	return out
}

func (f *Fake) handleV2OwnedPending(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok || !requireJSON(w, r) {
		return
	}
	f.mu.Lock()
	isOwner := acc.ID == f.ownerID
	out := f.invitesLocked(func(*Share) bool { return isOwner })
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// addressedTo reports whether a share was sent to acc.
func addressedTo(sh *Share, acc Account) bool {
	if sh.UserID != 0 {
		return sh.UserID == acc.ID
	}
	return acc.Email != "" && strings.EqualFold(sh.InvitedEmail, acc.Email)
}

func (f *Fake) handleV2ReceivedPending(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok || !requireJSON(w, r) {
		return
	}
	f.mu.Lock()
	out := f.invitesLocked(func(sh *Share) bool { return addressedTo(sh, acc) })
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// v2InviteBody is POST /api/v2/shared_servers.
type v2InviteBody struct {
	MachineIdentifier string                     `json:"machineIdentifier"`
	InvitedEmail      string                     `json:"invitedEmail"`
	InvitedID         json.RawMessage            `json:"invitedId"`
	LibrarySectionIDs json.RawMessage            `json:"librarySectionIds"`
	Settings          map[string]json.RawMessage `json:"settings"`
	SkipFriendship    json.RawMessage            `json:"skipFriendship"`
}

// duplicateV2Body is plex.tv's answer (HTTP 422) to sharing a server again
// with a user who has a share or a pending invite.
const duplicateV2Body = `<errors><error code="1999" field="base" status="400"/></errors>`

func (f *Fake) handleV2Invite(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok || !requireJSON(w, r) {
		return
	}
	var body v2InviteBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "base", "Invalid JSON body")
		return
	}
	req := inviteRequest{machineID: body.MachineIdentifier, login: body.InvitedEmail, settings: body.Settings}
	if len(body.InvitedID) > 0 && string(body.InvitedID) != "null" {
		id, err := parseID(body.InvitedID)
		if err != nil {
			writeV2Error(w, r, http.StatusBadRequest, codeBase, "invitedId", "invitedId is not a number")
			return
		}
		req.invitedID = id
	}
	if len(body.LibrarySectionIDs) > 0 && string(body.LibrarySectionIDs) != "null" {
		ids, err := parseIDList(body.LibrarySectionIDs)
		if err != nil {
			writeV2Error(w, r, http.StatusBadRequest, codeBase, "librarySectionIds", "librarySectionIds must be a list of ids")
			return
		}
		req.sectionIDs = ids
	}
	if len(body.SkipFriendship) > 0 {
		skip, err := parseBoolish(body.SkipFriendship)
		if err != nil {
			writeV2Error(w, r, http.StatusBadRequest, codeBase, "skipFriendship", "skipFriendship must be a boolean")
			return
		}
		req.skipFriendship = skip
	}
	f.mu.Lock()
	if acc.ID != f.ownerID {
		req.machineID = "" // only the owner may share the servers
	}
	sh, err := f.createShareLocked(req)
	var out shareJSON
	if err == nil {
		out = f.shareJSONLocked(sh)
	}
	f.mu.Unlock()
	if err != nil {
		f.writeV2ShareError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// writeV2ShareError maps a sharing error to a plex.tv v2 answer. Only the
// 422 duplicate body is documented; the 400s are the fake's choice.
func (f *Fake) writeV2ShareError(w http.ResponseWriter, r *http.Request, err error) {
	var dup *duplicateError
	var bad *badSectionsError
	var setting *badSettingError
	switch {
	case errors.As(err, &dup):
		writeRawXML(w, http.StatusUnprocessableEntity, duplicateV2Body)
	case errors.As(err, &bad):
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "librarySectionIds",
			"Invalid library section ids (plex.tv global section ids expected): "+strings.TrimPrefix(bad.Error(), "invalid library section ids: "))
	case errors.As(err, &setting):
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "settings", setting.Error())
	case errors.Is(err, errUnknownServer):
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "machineIdentifier", "Server not found")
	case errors.Is(err, errSelf):
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "invitedEmail", "You cannot share with yourself")
	default:
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "invitedEmail", "User not found")
	}
}

// shareByPathLocked finds the share of {id} owned by the caller.
func (f *Fake) shareByPathLocked(r *http.Request, acc Account) *Share {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || acc.ID != f.ownerID {
		return nil
	}
	return f.shares[id]
}

type v2UpdateBody struct {
	Settings          map[string]json.RawMessage `json:"settings"`
	LibrarySectionIDs json.RawMessage            `json:"librarySectionIds"`
}

// handleV2UpdateShare serves POST /api/v2/shared_servers/{id}. The response
// body is not documented; the fake answers the updated share object.
func (f *Fake) handleV2UpdateShare(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok || !requireJSON(w, r) {
		return
	}
	var body v2UpdateBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "base", "Invalid JSON body")
		return
	}
	var ids []int64
	setSections := len(body.LibrarySectionIDs) > 0 && string(body.LibrarySectionIDs) != "null"
	if setSections {
		var err error
		if ids, err = parseIDList(body.LibrarySectionIDs); err != nil {
			writeV2Error(w, r, http.StatusBadRequest, codeBase, "librarySectionIds", "librarySectionIds must be a list of ids")
			return
		}
	}
	f.mu.Lock()
	sh := f.shareByPathLocked(r, acc)
	if sh == nil {
		f.mu.Unlock()
		writeV2NotFound(w, r)
		return
	}
	err := f.updateShareLocked(sh, ids, setSections, body.Settings)
	out := f.shareJSONLocked(sh)
	f.mu.Unlock()
	if err != nil {
		f.writeV2ShareError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) handleV2DeleteShare(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	sh := f.shareByPathLocked(r, acc)
	if sh != nil {
		f.deleteShareLocked(sh.ID)
	}
	f.mu.Unlock()
	if sh == nil {
		writeV2NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleDeleteSharings serves DELETE /api/v2/sharings/{userId}: every share
// of that user on the owner's servers and the friendship go.
func (f *Fake) handleDeleteSharings(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	userID, err := strconv.ParseInt(r.PathValue("userId"), 10, 64)
	f.mu.Lock()
	found := false
	if err == nil && acc.ID == f.ownerID {
		for id, sh := range f.shares {
			if sh.UserID == userID {
				delete(f.shares, id)
				found = true
			}
		}
		if u := f.accounts[userID]; u != nil && u.Friend {
			u.Friend = false
			found = true
		}
	}
	f.mu.Unlock()
	if !found {
		writeV2NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Invite acceptance errors. The real error for an account whose email is not
// verified is UNCONFIRMED; 403 code 1029 is the fake's plausible choice.
const (
	codeEmailUnverified = 1029
	codeAlreadyAccepted = 1999
)

// handleV2Accept serves POST /api/v2/shared_servers/{id}/accept with the
// INVITEE's token.
func (f *Fake) handleV2Accept(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	sh := f.shares[id]
	if sh == nil || !addressedTo(sh, acc) {
		f.mu.Unlock()
		writeV2NotFound(w, r)
		return
	}
	if acc.EmailUnverified {
		f.mu.Unlock()
		writeV2Error(w, r, http.StatusForbidden, codeEmailUnverified, "", "Email address must be verified before accepting an invite")
		return
	}
	if !sh.Pending {
		f.mu.Unlock()
		writeV2Error(w, r, http.StatusBadRequest, codeAlreadyAccepted, "base", "Invite already accepted")
		return
	}
	sh.Pending = false
	sh.UserID = acc.ID
	sh.AcceptedAt = f.now().UTC().Truncate(1e9)
	if u := f.accounts[acc.ID]; u != nil && !sh.SkipFriendship && !u.Home {
		u.Friend = true
	}
	out := f.shareJSONLocked(sh)
	f.mu.Unlock()
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, out)
		return
	}
	w.WriteHeader(http.StatusOK)
}
