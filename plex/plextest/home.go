package plextest

import (
	"net/http"
	"strconv"
	"strings"
)

// homeMembersLocked lists the owner first, then the other Home accounts.
func (f *Fake) homeMembersLocked() []*Account {
	out := []*Account{f.accounts[f.ownerID]}
	for _, acc := range f.sortedAccountsLocked() {
		if acc.ID != f.ownerID && (acc.Home || acc.Guest) {
			out = append(out, acc)
		}
	}
	return out
}

func (f *Fake) handleHomeUsers(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV1(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	var kids []*node
	if acc.ID == f.ownerID {
		for _, m := range f.homeMembersLocked() {
			kids = append(kids, f.v1HomeUserNodeLocked(m))
		}
	}
	f.mu.Unlock()
	writeXML(w, http.StatusOK, myPlexContainer(len(kids)).add(kids...))
}

// v1HomeUserNodeLocked is one User element of the v1 Home documents
// (GET /api/home/users and the v1 managed-user creation).
func (f *Fake) v1HomeUserNodeLocked(m *Account) *node {
	return el("User", a("id", m.ID), a("uuid", m.UUID), a("admin", m.ID == f.ownerID),
		a("guest", m.Guest), a("restricted", m.Managed), a("restrictionProfile", m.RestrictionProfile),
		a("hasPassword", strconv.FormatBool(!m.Managed)), a("protected", m.Protected), a("title", m.Title),
		a("username", m.Username), a("email", m.Email), a("thumb", m.Thumb))
}

type homeUserJSON struct {
	ID                 int64  `json:"id"`
	UUID               string `json:"uuid"`
	Title              string `json:"title"`
	Username           string `json:"username"`
	Email              string `json:"email"`
	FriendlyName       string `json:"friendlyName"`
	Thumb              string `json:"thumb"`
	HasPassword        bool   `json:"hasPassword"`
	Restricted         bool   `json:"restricted"`
	UpdatedAt          int64  `json:"updatedAt"`
	RestrictionProfile string `json:"restrictionProfile"`
	Admin              bool   `json:"admin"`
	Guest              bool   `json:"guest"`
	Protected          bool   `json:"protected"`
}

func (f *Fake) homeUserLocked(m *Account) homeUserJSON {
	friendly := ""
	if m.Managed {
		friendly = m.Title
	}
	return homeUserJSON{ID: m.ID, UUID: m.UUID, Title: m.Title, Username: m.Username, Email: m.Email,
		FriendlyName: friendly, Thumb: m.Thumb, HasPassword: !m.Managed, Restricted: m.Managed,
		UpdatedAt: m.JoinedAt.Unix(), RestrictionProfile: m.RestrictionProfile, Admin: m.ID == f.ownerID,
		Guest: m.Guest, Protected: m.Protected}
}

func homeUserNode(u homeUserJSON) *node {
	return el("user", a("id", u.ID), a("uuid", u.UUID), a("title", u.Title), a("username", u.Username),
		a("email", u.Email), a("friendlyName", u.FriendlyName), a("thumb", u.Thumb), a("hasPassword", u.HasPassword),
		a("restricted", u.Restricted), a("updatedAt", u.UpdatedAt), a("restrictionProfile", u.RestrictionProfile),
		a("admin", u.Admin), a("guest", u.Guest), a("protected", u.Protected))
}

// handleV2HomeUsers serves GET /api/v2/home/users: XML root home with
// users/user. Its JSON form is UNCONFIRMED; the fake mirrors the XML.
func (f *Fake) handleV2HomeUsers(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	owner := f.accounts[f.ownerID]
	var users []homeUserJSON
	if acc.ID == f.ownerID {
		for _, m := range f.homeMembersLocked() {
			users = append(users, f.homeUserLocked(m))
		}
	}
	homeID, name := owner.ID/7, owner.Username+"'s home"
	f.mu.Unlock()
	if wantsJSON(r) {
		if users == nil {
			users = []homeUserJSON{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": homeID, "name": name, "guestUserID": 0,
			"guestUserUUID": "", "guestEnabled": false, "subscription": !f.noPlexPass, "users": users})
		return
	}
	list := el("users")
	for _, u := range users {
		list.add(homeUserNode(u))
	}
	writeXML(w, http.StatusOK, el("home", a("id", homeID), a("name", name), a("guestUserID", 0),
		a("guestUserUUID", ""), a("guestEnabled", false), a("subscription", !f.noPlexPass)).add(list))
}

// handleCreateManaged serves POST /api/v2/home/users/restricted.
func (f *Fake) handleCreateManaged(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	name := strings.TrimSpace(r.URL.Query().Get("friendlyName"))
	if name == "" {
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "friendlyName", "friendlyName is required")
		return
	}
	f.mu.Lock()
	if acc.ID != f.ownerID {
		f.mu.Unlock()
		writeV2Error(w, r, http.StatusUnauthorized, codeUnauthenticated, "", "User could not be authenticated")
		return
	}
	if f.homeSizeLocked() >= maxHomeSize {
		f.mu.Unlock()
		writeV2Error(w, r, http.StatusBadRequest, codeBase, "base", "Plex Home is full")
		return
	}
	m := f.addAccountLocked(Account{Title: name, Managed: true, Home: true,
		RestrictionProfile: r.URL.Query().Get("restrictionProfile"), JoinedAt: f.now().UTC()})
	u := f.homeUserLocked(m)
	f.mu.Unlock()
	writeXML(w, http.StatusOK, homeUserNode(u))
}

// handleV1CreateManaged serves the legacy POST /api/home/users?title=<name>
// (docs/plex-api.md §5.3): it creates a managed user with no restriction
// profile and answers its v1 User element. The reference only says the
// answer is an element whose id is the new user; the fake uses the element
// of GET /api/home/users (UNCONFIRMED). The §5.4 form of the same route
// (?invitedEmail=, an existing account into the Home) is not modelled: it
// answers 400 like a request without a title.
func (f *Fake) handleV1CreateManaged(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV1(w, r)
	if !ok {
		return
	}
	name := strings.TrimSpace(r.URL.Query().Get("title"))
	if name == "" {
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "title is required")
		return
	}
	f.mu.Lock()
	if acc.ID != f.ownerID {
		f.mu.Unlock()
		writeV1Error(w, http.StatusUnauthorized, codeUnauthenticated, "User could not be authenticated")
		return
	}
	if f.homeSizeLocked() >= maxHomeSize {
		f.mu.Unlock()
		writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Plex Home is full")
		return
	}
	m := f.addAccountLocked(Account{Title: name, Managed: true, Home: true, JoinedAt: f.now().UTC()})
	n := f.v1HomeUserNodeLocked(m)
	f.mu.Unlock()
	writeXML(w, http.StatusOK, n)
}

// removeHomeUser removes a Home member: a managed user disappears with its
// shares; an account with its own login just leaves the Home.
func (f *Fake) removeHomeUser(r *http.Request, acc Account) bool {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.accounts[id]
	if acc.ID != f.ownerID || m == nil || !m.Home || m.ID == f.ownerID {
		return false
	}
	if m.Managed {
		for sid, sh := range f.shares {
			if sh.UserID == m.ID {
				delete(f.shares, sid)
			}
		}
		delete(f.accounts, m.ID)
		return true
	}
	m.Home = false
	return true
}

func (f *Fake) handleV2DeleteHomeUser(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	if !f.removeHomeUser(r, acc) {
		writeV2NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) handleV1DeleteHomeUser(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV1(w, r)
	if !ok {
		return
	}
	if !f.removeHomeUser(r, acc) {
		writeV1NotFound(w)
		return
	}
	writeResponse(w, http.StatusOK, 0, "Success")
}
