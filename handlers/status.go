package handlers

import (
	"context"
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// StatusReport is the body of GET {base}/api/v1/status.
type StatusReport struct {
	// Version is the program's version.
	Version string `json:"version"`
	// Servers are the managed Plex Media Servers.
	Servers []ServerStatus `json:"servers"`
	// Counts are the numbers of users, invites and live streams.
	Counts StatusCounts `json:"counts"`
	// SetupDone reports whether the setup wizard has been finished.
	SetupDone bool `json:"setup_done"`
}

// ServerStatus is one server in a StatusReport.
type ServerStatus struct {
	// ID is the server's machineIdentifier.
	ID string `json:"id"`
	// Name is its friendly name.
	Name string `json:"name"`
	// Online reports whether the last check reached it.
	Online bool `json:"online"`
	// Version is the Plex Media Server version last seen.
	Version string `json:"version,omitempty"`
}

// StatusCounts are the counts of a StatusReport.
type StatusCounts struct {
	// Users counts the users known to the store.
	Users int `json:"users"`
	// Invites counts the invites.
	Invites int `json:"invites"`
	// Streams counts the live streams (0 unless Deps.Status fills it).
	Streams int `json:"streams"`
}

// storeStatus builds a StatusReport from the store alone (no live streams).
func (s *server) storeStatus(context.Context) (StatusReport, error) {
	rep := StatusReport{Version: s.deps.Version, Servers: []ServerStatus{}}
	st := s.deps.Store
	if st == nil {
		return rep, nil
	}
	servers, err := st.ListServers()
	if err != nil {
		return rep, err
	}
	for _, srv := range servers {
		rep.Servers = append(rep.Servers, ServerStatus{ID: srv.ID, Name: srv.Name, Online: srv.Online, Version: srv.Version})
	}
	if _, total, err := st.CountUsers(); err == nil {
		rep.Counts.Users = total
	} else {
		return rep, err
	}
	invites, err := st.ListInvites()
	if err != nil {
		return rep, err
	}
	rep.Counts.Invites = len(invites)
	if s.deps.StreamCount != nil {
		rep.Counts.Streams = s.deps.StreamCount()
	}
	a, err := LoadAppSettings(st)
	if err != nil {
		return rep, err
	}
	rep.SetupDone = a.SetupDone
	return rep, nil
}

// apiStatus answers GET {base}/api/v1/status.
func (s *server) apiStatus(w http.ResponseWriter, r *http.Request) {
	status := s.storeStatus
	if s.deps.Status != nil {
		status = s.deps.Status
	}
	rep, err := status(r.Context())
	if err != nil {
		web.ServerError(w, r, s.logger, "building the status report", err)
		return
	}
	if rep.Version == "" {
		rep.Version = s.deps.Version
	}
	if rep.Servers == nil {
		rep.Servers = []ServerStatus{}
	}
	web.JSON(w, http.StatusOK, rep)
}

// meResponse is the body of GET {base}/api/v1/me.
type meResponse struct {
	// Name is the admin's username or the API key's name.
	Name string `json:"name"`
	// Role is the effective role.
	Role web.Role `json:"role"`
	// Via is "session" or "apikey".
	Via string `json:"via"`
	// AdminID is set for sessions, KeyID for API keys.
	AdminID string `json:"admin_id,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
}

// apiMe answers GET {base}/api/v1/me: who the caller is.
func (s *server) apiMe(w http.ResponseWriter, r *http.Request) {
	p, _ := web.CurrentPrincipal(r)
	web.JSON(w, http.StatusOK, meResponse{Name: p.Name, Role: p.Role, Via: p.Via, AdminID: p.AdminID, KeyID: p.KeyID})
}
