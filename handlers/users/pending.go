package users

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
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
		if id, ok := f.storedInvitee(p); ok {
			row.UserID, row.Known = id, true
		}
		v.Rows = append(v.Rows, row)
	}
	web.RenderStatus(w, r, status, pagePending, v)
}

// storedInvitee finds the stored user of a pending invitation: by id, or — before the next sync
// merges them — the record a direct invitation keeps under the invitee's email address or username.
func (f *Feature) storedInvitee(p access.PendingInvite) (int64, bool) {
	if _, err := f.store.CachedUser(p.UserID); err == nil {
		return p.UserID, true
	}
	for _, find := range []struct {
		login  string
		lookup func(string) (storage.User, error)
	}{{p.Email, f.store.UserByEmail}, {p.Username, f.store.UserByUsername}} {
		if find.login == "" {
			continue
		}
		if u, err := find.lookup(find.login); err == nil {
			if sh, ok := u.Shares[p.ServerID]; ok && sh.Pending {
				return u.ID, true
			}
		}
	}
	return 0, false
}

// resolveInvitee maps the user id of a pending invitation (as Plex lists it) to the stored user
// whose invitation it is. An id the store knows is returned as is; an unknown one is looked up in
// Plex's pending invitations. Unknown invitations keep the id (the engine answers not found).
func (f *Feature) resolveInvitee(ctx context.Context, userID int64, serverID string) (int64, error) {
	if _, err := f.store.CachedUser(userID); err == nil {
		return userID, nil
	}
	list, err := f.engine.PendingInvites(ctx)
	if err != nil {
		if serverFailure(errorStatus(err)) {
			return 0, err
		}
		return userID, nil // the engine says what is wrong when asked to act
	}
	for _, p := range list {
		if p.UserID == userID && p.ServerID == serverID {
			if id, ok := f.storedInvitee(p); ok {
				return id, nil
			}
		}
	}
	return userID, nil
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
			back = userPath(id)
		}
		serverID := r.PathValue("server")
		id, err := f.resolveInvitee(r.Context(), id, serverID)
		if err != nil {
			f.serverError(w, r, "reading pending invitations", err)
			return
		}
		done := "Invitation withdrawn."
		if resend {
			pctx, cancel := plexEditContext(r)
			defer cancel()
			err = f.engine.ResendInvite(pctx, actor(r), id, serverID)
			done = "Invitation sent again."
		} else {
			pctx, cancel := plexEditContext(r)
			defer cancel()
			err = f.engine.CancelInvite(pctx, actor(r), id, serverID)
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
