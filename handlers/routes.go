package handlers

import (
	"net/http"
)

// routes registers every route of the handler. Paths are relative to the base path; the router
// prefixes them, and wraps every state-changing method in CSRF protection and a body limit.
func (s *server) routes(rt *router) {
	rt.get("/healthz", s.healthz)
	rt.handle(http.MethodGet, "/static/{hash}/{name...}", s.assets)
	if s.cfg.BasePath != "" {
		rt.get("", s.redirectToBase)
	}
	switch s.cfg.Mode {
	case ModeAdmin:
		rt.get("/{$}", s.adminHome)
	case ModeInvite:
		rt.get("/{$}", s.inviteLanding)
		// Invite codes live directly under the base path, so "healthz" and "static" can never be
		// codes: the invite package must reserve them.
		rt.get("/{code}", s.inviteShow)
		rt.post("/{code}", s.inviteJoin)
	}
}

// redirectToBase sends "/manage" to "/manage/", where the pages are.
func (s *server) redirectToBase(w http.ResponseWriter, r *http.Request) {
	target := s.cfg.BasePath + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}
