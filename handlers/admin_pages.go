package handlers

import (
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// adminHomeData is the data of pages/admin/home.html.
type adminHomeData struct {
	Version string
}

// adminHome answers GET {base}/ on the admin handler.
func (s *server) adminHome(w http.ResponseWriter, r *http.Request) {
	web.Render(w, r, "admin/home", adminHomeData{Version: s.deps.Version})
}
