package handlers

import (
	"net/http"
)

// inviteLanding answers GET {base}/ on the invite handler: joining needs an invite link.
func (s *server) inviteLanding(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusOK, "invite/landing", "", nil)
}

// inviteShow answers GET {base}/{code}. Until invites are stored, every code is unknown; the
// unusable-invite page is the same (status and text) for unknown, expired and used-up codes, so
// codes cannot be probed.
func (s *server) inviteShow(w http.ResponseWriter, r *http.Request) {
	s.inviteUnusable(w, r)
}

// inviteJoin answers POST {base}/{code}, the join button. Until invites are stored, every code is
// unknown.
func (s *server) inviteJoin(w http.ResponseWriter, r *http.Request) {
	s.inviteUnusable(w, r)
}

// inviteUnusable renders the one page shown for an invite that cannot be used, whatever the reason.
func (s *server) inviteUnusable(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusNotFound, "invite/unusable", "", nil)
}
