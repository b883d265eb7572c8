package users

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Limits of the purge and schedule routes.
const (
	maxPurgeIDs     = 1000
	defaultSchedule = 50
	maxSchedule     = 500
)

// serverAPIRoutes registers the server routes.
func (f *Feature) serverAPIRoutes(r web.Router) {
	r.API(http.MethodGet, "/servers", web.RoleAuditor, f.apiServers, web.APIDoc{
		Summary: "Servers", Tags: tagServers, Response: []Server{},
		Description: "The managed Plex Media Servers as last checked: online, version, latency and libraries."})
	r.API(http.MethodGet, "/servers/{id}/libraries", web.RoleAuditor, f.apiLibraries, web.APIDoc{
		Summary: "Libraries of a server", Tags: tagServers, Response: []Library{}, Errors: []int{404},
		Params:      []web.Param{{Name: "id", In: web.ParamPath, Description: "the server's machineIdentifier"}},
		Description: "key is the name the API uses for a library (in libraries of users and invites)."})
	r.API(http.MethodPost, "/servers/refresh", web.RoleModerator, f.apiRefreshServers, web.APIDoc{
		Summary: "Check every server now", Tags: tagServers, Response: ServerRefresh{},
		Description: "Asks each server for its identity, version and libraries and measures its latency. A server " +
			"that does not answer is kept, marked offline; error says what failed."})
}

// ServerRefresh is the answer of POST /servers/refresh.
type ServerRefresh struct {
	// Servers are every server after the check.
	Servers []Server `json:"servers"`
	// Error says which checks failed ("" when all answered).
	Error string `json:"error,omitempty"`
}

// apiServers answers GET /servers.
func (f *Feature) apiServers(w http.ResponseWriter, r *http.Request) {
	list, err := f.engine.ListServers()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toServers(list))
}

// toServers converts servers for the API, ordered by name (never nil).
func toServers(list []storage.Server) []Server {
	sortServers(list)
	out := make([]Server, 0, len(list))
	for _, srv := range list {
		out = append(out, toServer(srv))
	}
	return out
}

// apiLibraries answers GET /servers/{id}/libraries.
func (f *Feature) apiLibraries(w http.ResponseWriter, r *http.Request) {
	srv, err := f.store.GetServer(r.PathValue("id"))
	if err != nil {
		if errorStatus(err) == http.StatusNotFound {
			web.JSONError(w, http.StatusNotFound, "server not found")
			return
		}
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toLibraries(srv.Libraries))
}

// apiRefreshServers answers POST /servers/refresh.
func (f *Feature) apiRefreshServers(w http.ResponseWriter, r *http.Request) {
	list, err := f.engine.Servers(r.Context())
	out := ServerRefresh{Servers: toServers(list)}
	if err != nil {
		out.Error = access.Explain(err)
	}
	web.JSON(w, http.StatusOK, out)
}

// passAPIRoutes registers sync, enforcement, purge and schedule routes.
func (f *Feature) passAPIRoutes(r web.Router) {
	r.API(http.MethodPost, "/sync", web.RoleModerator, f.apiSync, web.APIDoc{
		Summary: "Sync now", Tags: tagPasses, Response: access.SyncReport{}, Errors: []int{502},
		Description: "Mirrors Plex into the store and returns what changed (adopted, updated, marked removed, with " +
			"before/after). An empty or failed answer from Plex changes nothing (refused); a large shrink is held for " +
			"confirmation (held). When the pass fails the answer is 502 with the report and its error."})
	r.API(http.MethodPost, "/sync/confirm", web.RoleAdmin, f.apiConfirmSync, web.APIDoc{
		Summary: "Confirm a held sync shrink", Tags: tagPasses, Request: ConfirmRequest{}, Response: access.SyncReport{},
		Errors: []int{409, 502}, Description: "Marks removed the held users Plex still does not list; 409 when nothing (or another change) is held."})
	r.API(http.MethodPost, "/enforce", web.RoleModerator, f.apiEnforce, web.APIDoc{
		Summary: "Run one enforcement pass now", Tags: tagPasses, Request: EnforceRequest{}, Response: access.PassReport{},
		Errors: []int{502},
		Description: "Due starts share, due expiries unshare, library windows open and close. Returns the plan (planned) " +
			"and each step's result (changes). The body is optional; ignore_cap (admins only) lifts the removal cap."})
	r.API(http.MethodPost, "/purge/preview", web.RoleAuditor, f.apiPurgePreview, web.APIDoc{
		Summary: "Preview a purge", Tags: tagPasses, Response: access.PurgePlan{},
		Description: "Users inactive for the configured number of days (candidates) and the users kept, with why (excluded). Nothing changes."})
	r.API(http.MethodPost, "/purge", web.RoleAdmin, f.apiPurge, web.APIDoc{
		Summary: "Purge inactive users", Tags: tagPasses, Request: PurgeRequest{}, Response: access.PurgeReport{},
		Errors: []int{502},
		Description: "Removes exactly the given users, which must all be candidates of a fresh preview: any other id is " +
			"a 400 naming user_ids and nothing is removed."})
	r.API(http.MethodGet, "/schedule", web.RoleAuditor, f.apiSchedule, web.APIDoc{
		Summary: "Upcoming changes and the last passes", Tags: tagPasses, Response: Schedule{},
		Params: []web.Param{{Name: "limit", In: web.ParamQuery, Type: "integer", Description: "items per list, 1 to 500 (default 50)"}}})
}

// apiSync answers POST /sync.
func (f *Feature) apiSync(w http.ResponseWriter, r *http.Request) {
	rep, err := f.engine.Sync(r.Context(), actor(r))
	status, msg := f.passError(err, rep.Error)
	rep.Error = msg
	web.JSON(w, status, rep)
}

// ConfirmRequest is the body of POST /sync/confirm.
type ConfirmRequest struct {
	// HeldID is the id of the held change (held.id of the sync report).
	HeldID string `json:"held_id"`
}

// apiConfirmSync answers POST /sync/confirm.
func (f *Feature) apiConfirmSync(w http.ResponseWriter, r *http.Request) {
	var in ConfirmRequest
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	if in.HeldID == "" {
		web.BadInput(w, "held_id", "give the id of the held change")
		return
	}
	rep, err := f.engine.ConfirmHeldSync(r.Context(), actor(r), in.HeldID)
	if err != nil && rep.ID == "" {
		f.apiError(w, r, err)
		return
	}
	status, msg := f.passError(err, rep.Error)
	rep.Error = msg
	web.JSON(w, status, rep)
}

// EnforceRequest is the optional body of POST /enforce.
type EnforceRequest struct {
	// IgnoreCap runs the removals even above the removal cap (admins only).
	IgnoreCap bool `json:"ignore_cap,omitempty"`
}

// apiEnforce answers POST /enforce.
func (f *Feature) apiEnforce(w http.ResponseWriter, r *http.Request) {
	var in EnforceRequest
	if r.ContentLength != 0 && !web.DecodeJSON(w, r, &in) {
		return
	}
	if in.IgnoreCap {
		if p, _ := web.CurrentPrincipal(r); !p.Role.Allows(web.RoleAdmin) {
			web.JSONError(w, http.StatusForbidden, "only an admin may lift the removal cap")
			return
		}
	}
	rep, err := f.engine.EnforceWith(r.Context(), actor(r), access.EnforceOptions{IgnoreCap: in.IgnoreCap})
	status, msg := f.passError(err, rep.Error)
	rep.Error = msg
	web.JSON(w, status, rep)
}

// apiPurgePreview answers POST /purge/preview.
func (f *Feature) apiPurgePreview(w http.ResponseWriter, r *http.Request) {
	plan, err := f.engine.PurgePreview(r.Context())
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, plan)
}

// PurgeRequest is the body of POST /purge.
type PurgeRequest struct {
	// UserIDs are the users to remove: candidates of the preview.
	UserIDs []int64 `json:"user_ids"`
}

// checkPurge verifies that every id is a candidate of a fresh preview; the error names user_ids.
func (f *Feature) checkPurge(r *http.Request, ids []int64) ([]int64, error) {
	switch {
	case len(ids) == 0:
		return nil, web.NewInputError("user_ids", "choose at least one user from the preview")
	case len(ids) > maxPurgeIDs:
		return nil, web.NewInputError("user_ids", "at most %d users at once", maxPurgeIDs)
	}
	plan, err := f.engine.PurgePreview(r.Context())
	if err != nil {
		return nil, err
	}
	candidates := make(map[int64]bool, len(plan.Candidates))
	for _, c := range plan.Candidates {
		candidates[c.UserID] = true
	}
	var stale []int64
	for _, id := range ids {
		if !candidates[id] {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		return nil, web.NewInputError("user_ids", "%s not in a fresh purge preview (active again, excluded, or not an active user); "+
			"nothing was removed: preview again", describeIDs(stale))
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// describeIDs names a few user ids ("user 12", "users 12, 13 and 2 more").
func describeIDs(ids []int64) string {
	if len(ids) == 1 {
		return fmt.Sprintf("user %d is", ids[0])
	}
	const show = 5
	s := "users "
	for i, id := range ids[:min(show, len(ids))] {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(id)
	}
	if len(ids) > show {
		s += fmt.Sprintf(" and %d more", len(ids)-show)
	}
	return s + " are"
}

// apiPurge answers POST /purge.
func (f *Feature) apiPurge(w http.ResponseWriter, r *http.Request) {
	var in PurgeRequest
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	ids, err := f.checkPurge(r, in.UserIDs)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	rep, err := f.engine.Purge(r.Context(), actor(r), ids)
	status, msg := f.passError(err, rep.Error)
	rep.Error = msg
	web.JSON(w, status, rep)
}

// Schedule is the answer of GET /schedule.
type Schedule struct {
	// Upcoming are the next scheduled starts, expiries and library window changes, soonest first.
	Upcoming []access.UpcomingItem `json:"upcoming"`
	// Passes are the last stored pass reports (without their full report), newest first.
	Passes []access.PassSummary `json:"passes"`
	// Health is the engine's health: token state, pending retries, held sync, last passes.
	Health access.Health `json:"health"`
}

// apiSchedule answers GET /schedule.
func (f *Feature) apiSchedule(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r.URL.Query(), "limit", 1, maxSchedule)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	if limit == 0 {
		limit = defaultSchedule
	}
	s, err := f.schedule(limit)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	for i := range s.Passes {
		s.Passes[i].Report = nil
	}
	web.JSON(w, http.StatusOK, s)
}

// schedule gathers the schedule.
func (f *Feature) schedule(limit int) (Schedule, error) {
	up, err := f.engine.Upcoming(limit)
	if err != nil {
		return Schedule{}, err
	}
	passes, err := f.engine.RecentPasses(limit)
	if err != nil {
		return Schedule{}, err
	}
	h, err := f.engine.Health()
	if err != nil {
		return Schedule{}, err
	}
	if up == nil {
		up = []access.UpcomingItem{}
	}
	if passes == nil {
		passes = []access.PassSummary{}
	}
	return Schedule{Upcoming: up, Passes: passes, Health: h}, nil
}
