package handlers

import (
	"net/http"
)

// view is the data every page template receives: .App for the layout, .Nav to mark the current
// admin section, .Flashes for messages, and .Data for the page itself.
type view struct {
	App     appInfo
	Nav     string
	Flashes []flash
	Data    any
}

// appInfo describes the mounted handler to the layout.
type appInfo struct {
	Name    string
	Mode    string
	Version string
}

// flash is a one-line message shown above a page's content.
type flash struct {
	Kind    string // one of the flash* constants; the CSS styles each
	Message string
}

// Flash kinds.
const (
	flashInfo    = "info"
	flashSuccess = "success"
	flashWarning = "warning"
	flashError   = "error"
)

// Admin navigation sections, used as view.Nav so the layout marks the current one.
const (
	navDashboard = "dashboard"
	navUsers     = "users"
	navInvites   = "invites"
	navStreams   = "streams"
	navEvents    = "events"
	navSettings  = "settings"
)

// newView wraps a page's data with what the layout needs.
func (s *server) newView(nav string, data any, flashes ...flash) view {
	return view{
		App:     appInfo{Name: s.cfg.AppName, Mode: s.cfg.Mode, Version: s.deps.Version},
		Nav:     nav,
		Flashes: flashes,
		Data:    data,
	}
}

// page renders a page (pages/<name>.html) with status. nav marks the admin section ("" for none).
func (s *server) page(w http.ResponseWriter, r *http.Request, status int, name, nav string, data any, flashes ...flash) {
	s.render.Page(w, r, status, name, s.newView(nav, data, flashes...))
}
