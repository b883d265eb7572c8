package users

import (
	"net/http"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// removeView is the removal confirmation page's data.
type removeView struct {
	User    storage.User
	Name    string
	Servers []string
	// Home is true for a Home member or managed user (removed from the Home).
	Home    bool
	Removed bool
	Reason  string
	Error   string
}

// removeView builds the confirmation page's data.
func (f *Feature) removeView(u storage.User) (removeView, error) {
	ix, err := f.loadServers()
	if err != nil {
		return removeView{}, err
	}
	v := removeView{User: u, Name: displayName(u), Home: u.Kind == storage.KindHome || u.Kind == storage.KindManaged,
		Removed: u.Status == storage.StatusRemoved}
	for _, srv := range sortedShareServers(u, ix) {
		v.Servers = append(v.Servers, ix.name(srv))
	}
	return v, nil
}

// removeForm answers GET /users/{id}/remove: what removal does, and the confirmation button.
func (f *Feature) removeForm(w http.ResponseWriter, r *http.Request) {
	f.removeConfirmation(w, r, pageRemove)
}

// removeConfirmation shows page, a removal confirmation of the user the {id} path value names.
func (f *Feature) removeConfirmation(w http.ResponseWriter, r *http.Request, page string) {
	u, ok := f.pathUser(w, r)
	if !ok {
		return
	}
	v, err := f.removeView(u)
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	web.SetNav(r, "users")
	web.Render(w, r, page, v)
}

// remove answers POST /users/{id}/remove: revoke on Plex, then record.
func (f *Feature) remove(w http.ResponseWriter, r *http.Request) {
	u, ok := f.pathUser(w, r)
	if !ok {
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	v, err := f.removeView(u)
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	v.Reason = reason
	if len(reason) > maxReason {
		v.Error = "The reason must be at most 500 characters."
		web.FlashNow(r, web.FlashError, "Nothing was changed: "+v.Error)
		web.RenderStatus(w, r, http.StatusBadRequest, pageRemove, v)
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	err = f.engine.RemoveUser(pctx, actor(r), u.ID, cmpOr(reason, "removed by an admin"))
	kind, msg, status, done := f.outcome(err, displayName(u)+" was removed from Plex.")
	if !done {
		web.FlashNow(r, kind, prefixed("The user was not removed: ", err, msg))
		web.RenderStatus(w, r, status, pageRemove, v)
		return
	}
	web.Flash(w, r, kind, msg)
	web.Redirect(w, r, userPath(u.ID))
}
