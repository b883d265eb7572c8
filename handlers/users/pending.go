package users

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// pagePending is the pending invitations page.
const pagePending = "admin/pending"

// pendingRoutes registers the pending invitations pages.
func (f *Feature) pendingRoutes(r web.Router) {
	r.Page(http.MethodGet, "/users/pending", web.RoleAuditor, f.pendingPage)
	r.Page(http.MethodPost, "/users/pending/{user}/{server}/resend", web.RoleModerator, f.pendingAction(true))
	r.Page(http.MethodPost, "/users/pending/{user}/{server}/cancel", web.RoleModerator, f.pendingAction(false))
}

// pendingRow is one pending invitation.
type pendingRow struct {
	UserID    int64
	Name      string
	Email     string
	ServerID  string
	Server    string
	Libraries []string
	InvitedAt time.Time
	// Known is true when the invitee is a stored user (their page exists).
	Known bool
}

// pendingView is the pending invitations page's data.
type pendingView struct {
	Rows []pendingRow
	// Error says why Plex could not be read.
	Error string
}

// pendingPage answers GET /users/pending: the invitations Plex has that are not accepted yet.
func (f *Feature) pendingPage(w http.ResponseWriter, r *http.Request) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	var v pendingView
	status := http.StatusOK
	list, err := f.engine.PendingInvites(r.Context())
	if err != nil {
		_, v.Error, status, _ = f.outcome(err, "")
	}
	for _, p := range list {
		row := pendingRow{UserID: p.UserID, Name: cmp.Or(p.Username, p.Title, p.Email), Email: p.Email, ServerID: p.ServerID,
			Server: cmp.Or(p.Server, ix.name(p.ServerID)), Libraries: ix.libraryTitles(p.ServerID, p.Libraries), InvitedAt: p.InvitedAt}
		if _, err := f.store.CachedUser(p.UserID); err == nil {
			row.Known = true
		}
		v.Rows = append(v.Rows, row)
	}
	web.RenderStatus(w, r, status, pagePending, v)
}

// pendingAction answers POST /users/pending/{user}/{server}/resend (resend) or /cancel.
func (f *Feature) pendingAction(resend bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := parseUserID(r.PathValue("user"))
		if !ok {
			web.Error(w, r, http.StatusNotFound)
			return
		}
		if !web.ParseForm(w, r) {
			return
		}
		back := "/users/pending"
		if r.PostForm.Get("back") == "user" {
			back = "/users/" + strconv.FormatInt(id, 10)
		}
		serverID := r.PathValue("server")
		var err error
		done := "Invitation withdrawn."
		if resend {
			err = f.engine.ResendInvite(r.Context(), actor(r), id, serverID)
			done = "Invitation sent again."
		} else {
			err = f.engine.CancelInvite(r.Context(), actor(r), id, serverID)
		}
		kind, msg, _, _ := f.outcome(err, done)
		if err != nil && errorStatus(err) == http.StatusNotFound {
			web.Error(w, r, http.StatusNotFound)
			return
		}
		web.Flash(w, r, kind, msg)
		web.Redirect(w, r, back)
	}
}
