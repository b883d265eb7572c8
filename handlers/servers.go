package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// serverCheckTimeout bounds how long one connection of a server may take to answer.
const serverCheckTimeout = 5 * time.Second

// serversData is the data of pages/admin/setup-servers.html.
type serversData struct {
	// InSetup is true in the wizard (next: the public URL), false on the settings page.
	InSetup bool
	// Fixed lists the Caddyfile's server URLs (the picker is then read-only).
	Fixed []string
	// Found are the owner's servers according to plex.tv.
	Found []serverChoice
	// Error is a message for the whole page; Errors maps server ids to messages.
	Error  string
	Errors map[string]string
	// NoToken: there is no owner token to list servers with.
	NoToken bool
}

// serverChoice is one server the owner can pick.
type serverChoice struct {
	ID          string
	Name        string
	Version     string
	Online      bool
	Connections int
	Selected    bool
}

// ownerToken returns the effective Plex owner token ("" if none).
func (s *server) ownerToken() string {
	if s.deps.PlexToken != nil {
		return s.deps.PlexToken()
	}
	t, err := PlexOwnerToken(s.deps.Store, s.deps.Sealer)
	if err != nil {
		s.logger.Warn("reading the Plex token", zap.Error(err))
	}
	return t
}

// ownerResources lists the owner's servers from plex.tv.
func (s *server) ownerResources(ctx context.Context) ([]plex.Resource, string, error) {
	token := s.ownerToken()
	if token == "" || s.deps.Plex == nil {
		return nil, "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res, err := s.deps.Plex.Resources(ctx, token)
	return res, token, err
}

// serversPage renders the picker (setup or settings).
func (s *server) serversPage(w http.ResponseWriter, r *http.Request, inSetup bool, status int, data serversData) {
	data.InSetup = inSetup
	data.Fixed = s.deps.Fixed.PlexServers
	if len(data.Fixed) > 0 {
		web.RenderStatus(w, r, status, "admin/setup-servers", data)
		return
	}
	res, token, err := s.ownerResources(r.Context())
	if token == "" {
		data.NoToken = true
		web.RenderStatus(w, r, status, "admin/setup-servers", data)
		return
	}
	if err != nil {
		s.logger.Warn("listing the owner's servers", zap.Error(err))
		if errors.Is(err, plex.ErrUnauthorized) {
			data.Error = "Plex rejected the owner token. Connect Plex again."
		} else {
			data.Error = "plex.tv could not be reached to list your servers. Try again in a moment."
		}
		web.RenderStatus(w, r, max(status, http.StatusBadGateway), "admin/setup-servers", data)
		return
	}
	saved, err := s.deps.Store.ListServers()
	if err != nil {
		s.serverError(w, r, "listing servers", err)
		return
	}
	for _, rs := range res {
		data.Found = append(data.Found, serverChoice{ID: rs.MachineID, Name: rs.Name, Version: rs.ProductVersion,
			Online: rs.Presence, Connections: len(rs.Connections),
			Selected: slices.ContainsFunc(saved, func(sv storage.Server) bool { return sv.ID == rs.MachineID })})
	}
	web.RenderStatus(w, r, status, "admin/setup-servers", data)
}

// saveServers checks every chosen server answers and stores them. It returns the form to show
// again (ok false) or nothing (ok true).
func (s *server) saveServers(w http.ResponseWriter, r *http.Request, inSetup bool) bool {
	if !web.ParseForm(w, r) {
		return false
	}
	if len(s.deps.Fixed.PlexServers) > 0 {
		s.serversPage(w, r, inSetup, http.StatusConflict, serversData{Error: "The servers are set in the Caddyfile and cannot be changed here."})
		return false
	}
	chosen := r.PostForm["server"]
	if len(chosen) == 0 {
		s.serversPage(w, r, inSetup, http.StatusBadRequest, serversData{Error: "Choose at least one server."})
		return false
	}
	res, _, err := s.ownerResources(r.Context())
	if err != nil || res == nil {
		s.serversPage(w, r, inSetup, http.StatusBadGateway, serversData{})
		return false
	}
	errs := map[string]string{}
	var toSave []storage.Server
	now := s.now().UTC()
	for _, id := range chosen {
		i := slices.IndexFunc(res, func(rs plex.Resource) bool { return rs.MachineID == id })
		if i < 0 {
			s.serversPage(w, r, inSetup, http.StatusBadRequest, serversData{Error: "A chosen server is not one of your servers any more. Choose again."})
			return false
		}
		rs := res[i]
		url, version, ok := s.reachServer(r.Context(), rs)
		if !ok {
			errs[id] = "This server did not answer on any of its addresses. Check that it is running and reachable from this machine."
			continue
		}
		toSave = append(toSave, storage.Server{ID: rs.MachineID, Name: rs.Name, URL: url, Version: version, Online: true,
			CheckedAt: now, CreatedAt: now, UpdatedAt: now})
	}
	if len(errs) > 0 {
		s.serversPage(w, r, inSetup, http.StatusBadRequest, serversData{Errors: errs, Error: "Nothing was saved: a chosen server did not answer."})
		return false
	}
	err = s.deps.Store.Update(func(tx *storage.Tx) error {
		for _, sv := range toSave {
			old, err := tx.Servers().Get(sv.ID)
			if err == nil {
				// Keep what sync learned (libraries, Plex Pass); refresh the address.
				old.Name, old.URL, old.Version, old.Online, old.CheckedAt, old.UpdatedAt = sv.Name, sv.URL, sv.Version, true, now, now
				sv = old
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err := tx.Servers().Put(sv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.serverError(w, r, "saving servers", err)
		return false
	}
	p, _ := web.CurrentPrincipal(r)
	ids := make([]string, 0, len(toSave))
	for _, sv := range toSave {
		ids = append(ids, sv.ID)
	}
	s.record(r, storage.Event{Type: "settings.servers_chosen", Actor: p.Actor(), Message: "Plex servers were chosen",
		Data: map[string]any{"servers": ids}})
	s.settingsChanged()
	return true
}

// reachServer tries a server's connections in plex.tv's order (local first, relay last) and
// returns the first base URL whose identity matches.
func (s *server) reachServer(ctx context.Context, rs plex.Resource) (string, string, bool) {
	for _, c := range rs.Connections {
		if c.URI == "" {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, serverCheckTimeout)
		id, err := s.deps.Plex.Server(c.URI, rs.AccessToken).Identity(cctx)
		cancel()
		if err == nil && id.MachineID == rs.MachineID {
			return c.URI, id.Version, true
		}
		if err != nil {
			s.logger.Info("server connection did not answer", zap.String("server", rs.MachineID), zap.Bool("local", c.Local),
				zap.Bool("relay", c.Relay), zap.Error(err))
		}
	}
	return "", "", false
}

// setupServersPage answers GET {base}/setup/servers.
func (s *server) setupServersPage(w http.ResponseWriter, r *http.Request) {
	s.serversPage(w, r, true, http.StatusOK, serversData{})
}

// setupServersSubmit answers POST {base}/setup/servers.
func (s *server) setupServersSubmit(w http.ResponseWriter, r *http.Request) {
	if s.saveServers(w, r, true) {
		web.Redirect(w, r, "/setup/url")
	}
}
