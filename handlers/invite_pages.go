package handlers

import (
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// inviteLanding answers GET {base}/ on the invite handler: joining needs an invite link. The page
// is the same for every visitor, so its bytes are rendered once (per app name).
func (s *server) inviteLanding(w http.ResponseWriter, r *http.Request) {
	web.RenderCached(w, r, http.StatusOK, "invite/landing", nil)
}

// inviteUnusable answers GET and POST {base}/{code} until the invites feature provides them: the
// unusable-invite page is the same (status and text) for unknown, expired and used-up codes, so
// codes cannot be probed.
func (s *server) inviteUnusable(w http.ResponseWriter, r *http.Request) {
	web.RenderCached(w, r, http.StatusNotFound, "invite/unusable", nil)
}
