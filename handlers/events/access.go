package events

import (
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/notify"
)

// accessView is the data of the public access status page.
type accessView struct {
	Valid  bool
	Status notify.AccessStatus
}

// accessStatus shows a user their own access, from a signed, expiring link. An invalid, forged
// or expired link and an unknown user all get the same 404 page.
func (f *Feature) accessStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	id, err := f.notifier.VerifyStatusToken(r.PathValue("token"))
	if err != nil {
		web.RenderStatus(w, r, http.StatusNotFound, "admin/events-access", accessView{})
		return
	}
	st, err := f.notifier.StatusOf(id)
	if status := web.ServerStatus(err); err != nil && status != http.StatusInternalServerError {
		// The store is closed: "try again shortly", not "this link is invalid".
		web.ServerError(w, r, nil, "reading an access status", err)
		return
	}
	if err != nil {
		web.RenderStatus(w, r, http.StatusNotFound, "admin/events-access", accessView{})
		return
	}
	web.Render(w, r, "admin/events-access", accessView{Valid: true, Status: st})
}
