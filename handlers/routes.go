package handlers

import (
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// routes registers the handler's own routes. Paths are relative to the base path; the Mux
// prefixes them, and wraps every state-changing method in CSRF protection and a body limit.
func (s *server) routes() {
	m := s.mux
	m.Open(http.MethodGet, "/healthz", http.HandlerFunc(s.healthz))
	m.Open(http.MethodGet, "/static/{hash}/{name...}", s.assets)
	if s.cfg.BasePath != "" {
		m.Open(http.MethodGet, "", http.HandlerFunc(s.redirectToBase))
	}
	switch s.cfg.Mode {
	case ModeAdmin:
		s.loginRoutes()
		s.plexRoutes()
		s.setupRoutes()
		s.accountRoutes()
		s.adminsRoutes()
		s.apiKeysRoutes()
		s.settingsRoutes()
		m.API(http.MethodGet, "/status", web.RoleAuditor, s.apiStatus, web.APIDoc{
			Summary: "Version, servers and counts of users, invites and streams", Tags: []string{"status"},
			Response: StatusReport{}})
		m.API(http.MethodGet, "/me", web.RoleAuditor, s.apiMe, web.APIDoc{
			Summary: "Who the caller is: name, role, and whether by session or API key", Tags: []string{"status"},
			Response: meResponse{}})
	case ModeInvite:
		m.Open(http.MethodGet, "/{$}", http.HandlerFunc(s.inviteLanding))
	}
}

// fallbackRoutes registers placeholders for routes a feature may provide, unless one did: the
// admin start page (the users feature serves the dashboard there), and the invite code pages,
// which answer "unusable" until the invites feature is wired in.
func (s *server) fallbackRoutes() {
	if s.cfg.Mode == ModeAdmin {
		if !s.mux.Has(http.MethodGet, "/{$}") {
			s.mux.Page(http.MethodGet, "/{$}", web.RoleAuditor, s.adminHome)
		}
		return
	}
	// Invite codes live directly under the base path, so "healthz" and "static" can never be
	// codes: the invite package must reserve them.
	if !s.mux.Has(http.MethodGet, "/{code}") {
		s.mux.Open(http.MethodGet, "/{code}", http.HandlerFunc(s.inviteUnusable))
	}
	if !s.mux.Has(http.MethodPost, "/{code}") {
		s.mux.Open(http.MethodPost, "/{code}", http.HandlerFunc(s.inviteUnusable))
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
