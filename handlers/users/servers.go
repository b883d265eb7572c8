package users

import (
	"cmp"
	"fmt"
	"net/http"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// pageServers is the servers page.
const pageServers = "admin/servers"

// serverRoutes registers the servers page.
func (f *Feature) serverRoutes(r web.Router) {
	r.Page(http.MethodGet, "/servers", web.RoleAuditor, f.serversPage)
	r.Page(http.MethodPost, "/servers/refresh", web.RoleModerator, f.refreshServers)
}

// serverRow is one server on the dashboard and the servers page.
type serverRow struct {
	ID        string
	Name      string
	URL       string
	Version   string
	Online    bool
	LatencyMS int64
	PlexPass  bool
	CheckedAt time.Time
	Libraries []Library
	// Streams is the live stream count (-1: unknown).
	Streams int
}

// serverRows lists the stored servers with their live stream counts.
func (f *Feature) serverRows() ([]serverRow, error) {
	ix, err := f.loadServers()
	if err != nil {
		return nil, err
	}
	var counts map[string]int
	if f.streams != nil {
		counts = f.streams()
	}
	out := make([]serverRow, 0, len(ix.list))
	for _, srv := range ix.list {
		row := serverRow{ID: srv.ID, Name: cmp.Or(srv.Name, srv.ID), URL: srv.URL, Version: srv.Version, Online: srv.Online,
			LatencyMS: srv.LatencyMS, PlexPass: srv.PlexPass, CheckedAt: srv.CheckedAt, Libraries: toLibraries(srv.Libraries), Streams: -1}
		if counts != nil {
			row.Streams = counts[srv.ID]
		}
		out = append(out, row)
	}
	return out, nil
}

// serversPage answers GET /servers.
func (f *Feature) serversPage(w http.ResponseWriter, r *http.Request) {
	rows, err := f.serverRows()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	web.Render(w, r, pageServers, rows)
}

// refreshServers answers POST /servers/refresh: check every server now.
func (f *Feature) refreshServers(w http.ResponseWriter, r *http.Request) {
	list, err := f.engine.Servers(r.Context())
	offline := 0
	for _, srv := range list {
		if !srv.Online {
			offline++
		}
	}
	switch {
	case err != nil:
		web.Flash(w, r, web.FlashWarning, "Not every server answered: "+access.Explain(err))
	case len(list) == 0:
		web.Flash(w, r, web.FlashInfo, "No server is configured yet.")
	case offline > 0:
		web.Flash(w, r, web.FlashWarning, fmt.Sprintf("%d of %d servers did not answer.", offline, len(list)))
	default:
		web.Flash(w, r, web.FlashSuccess, "Every server answered.")
	}
	web.Redirect(w, r, "/servers")
}
