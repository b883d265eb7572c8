package handlers

import (
	"net/http"
)

// adminHomeData is the data of pages/admin/home.html.
type adminHomeData struct {
	Version string
}

// adminHome answers GET {base}/ on the admin handler.
func (s *server) adminHome(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusOK, "admin/home", navDashboard, adminHomeData{Version: s.deps.Version})
}
