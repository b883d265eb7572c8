package users

import (
	"context"
	"net/http"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Tags of the API routes in the OpenAPI document.
var (
	tagUsers   = []string{"users"}
	tagServers = []string{"servers"}
	tagPasses  = []string{"passes"}
	tagHome    = []string{"home"}
)

// userIDParam documents the {id} of a user route.
var userIDParam = web.Param{Name: "id", In: web.ParamPath, Type: "integer", Format: "int64",
	Description: "the user's plex.tv account id (negative for an invitee known only by email)"}

// apiRoutes registers the REST routes.
func (f *Feature) apiRoutes(r web.Router) {
	f.serverAPIRoutes(r)
	r.API(http.MethodGet, "/users", web.RoleAuditor, f.apiList, web.APIDoc{
		Summary: "List users", Tags: tagUsers, Response: UserList{},
		Description: "Filtered, sorted and paged. Bad parameters are a 400 naming the parameter.",
		Params: []web.Param{
			{Name: "q", In: web.ParamQuery, Description: "case-insensitive text in username, email, title or notes"},
			{Name: "status", In: web.ParamQuery, Enum: statuses},
			{Name: "kind", In: web.ParamQuery, Enum: kinds},
			{Name: "server", In: web.ParamQuery, Description: "only users with a share of this server id"},
			{Name: "library", In: web.ParamQuery, Description: "only users whose share includes this library key (needs server, or give <server id>/<key>)"},
			{Name: "sort", In: web.ParamQuery, Description: "username (default), title, status, expires_at, last_activity_at or created_at; a leading - sorts descending"},
			{Name: "desc", In: web.ParamQuery, Type: "boolean"},
			{Name: "page", In: web.ParamQuery, Type: "integer", Description: "from 1"},
			{Name: "per_page", In: web.ParamQuery, Type: "integer", Description: "1 to 500, default 50"},
		},
	})
	r.API(http.MethodGet, "/users/{id}", web.RoleAuditor, f.apiGet, web.APIDoc{
		Summary: "One user", Tags: tagUsers, Params: []web.Param{userIDParam}, Response: User{}, Errors: []int{404}})
	r.API(http.MethodPatch, "/users/{id}", web.RoleModerator, f.apiPatch, web.APIDoc{
		Summary: "Edit a user", Tags: tagUsers, Params: []web.Param{userIDParam}, Request: UserPatchInput{}, Response: User{},
		Errors: []int{202, 404, 409, 422, 502},
		Description: "Only the fields given change; starts_at and expires_at take null to clear them. Every field is checked " +
			"first: bad input is a 400 naming the field and nothing changes. The change is pushed to Plex at once: 422 when " +
			"Plex refuses it, 202 when Plex cannot be reached now (the change is kept and retried by the next pass)."})
	r.API(http.MethodDelete, "/users/{id}", web.RoleModerator, f.apiDelete, web.APIDoc{
		Summary: "Remove a user", Tags: tagUsers, Errors: []int{202, 404, 409, 422, 502},
		Params: []web.Param{userIDParam, {Name: "reason", In: web.ParamQuery, Description: "recorded with the removal"}},
		Description: "Revokes every share on Plex (pending invitations are withdrawn), ends the friendship or Home " +
			"membership, then records the user as removed."})
	r.API(http.MethodPost, "/users/bulk/preview", web.RoleModerator, f.apiBulkPreview, web.APIDoc{
		Summary: "Preview a bulk edit", Tags: tagUsers, Request: BulkRequest{}, Response: access.BulkReport{},
		Description: "What the edit would change for each user (result planned, skipped or failed). Nothing changes."})
	r.API(http.MethodPost, "/users/bulk", web.RoleModerator, f.apiBulkApply, web.APIDoc{
		Summary: "Apply a bulk edit", Tags: tagUsers, Request: BulkRequest{}, Response: access.BulkReport{},
		Description: "Applies the edit user by user, each pushed to Plex at once; a failure for one user does not stop the others."})
	r.API(http.MethodPost, "/users/invite", web.RoleModerator, f.apiInvite, web.APIDoc{
		Summary: "Invite a Plex user directly", Tags: tagUsers, Request: InviteRequest{}, Response: InviteResult{},
		Errors: []int{202, 422, 502},
		Description: "Shares the libraries with a Plex username or email address without an invite link. A known user gets " +
			"the libraries added; an address without a Plex account gets Plex's sign-up invitation."})
	r.API(http.MethodGet, "/pending-invites", web.RoleAuditor, f.apiPending, web.APIDoc{
		Summary: "Pending invitations", Tags: tagUsers, Response: []access.PendingInvite{}, Errors: []int{502},
		Description: "Invitations Plex has that are not accepted yet (sent from Plex or from here), newest first."})
	pendingParams := []web.Param{
		{Name: "user", In: web.ParamPath, Type: "integer", Format: "int64", Description: "the invitee's user id"},
		{Name: "server", In: web.ParamPath, Description: "the server id"},
	}
	r.API(http.MethodPost, "/pending-invites/{user}/{server}/resend", web.RoleModerator, f.apiResend, web.APIDoc{
		Summary: "Send a pending invitation again", Tags: tagUsers, Params: pendingParams, Errors: []int{202, 404, 409, 422, 502}})
	r.API(http.MethodDelete, "/pending-invites/{user}/{server}", web.RoleModerator, f.apiCancel, web.APIDoc{
		Summary: "Withdraw a pending invitation", Tags: tagUsers, Params: pendingParams, Errors: []int{202, 404, 409, 422, 502}})
	r.API(http.MethodGet, "/home/members", web.RoleAuditor, f.apiHomeMembers, web.APIDoc{
		Summary: "Members of the Plex Home", Tags: tagHome, Response: []access.HomeMember{}, Errors: []int{502}})
	r.API(http.MethodPost, "/home/managed", web.RoleModerator, f.apiCreateManaged, web.APIDoc{
		Summary: "Create a managed user", Tags: tagHome, Request: ManagedUserInput{}, Response: User{}, Status: http.StatusCreated,
		Errors: []int{422, 502}, Description: "A managed Home user with a restriction profile (little_kid, older_kid, teen or none) and libraries."})
	r.API(http.MethodDelete, "/home/managed/{id}", web.RoleModerator, f.apiRemoveManaged, web.APIDoc{
		Summary: "Remove a managed user or Home member", Tags: tagHome, Params: []web.Param{userIDParam},
		Errors: []int{202, 404, 422, 502}})
	f.passAPIRoutes(r)
}

// apiList answers GET /users.
func (f *Feature) apiList(w http.ResponseWriter, r *http.Request) {
	servers, err := f.store.ListServers()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	q, err := parseUserQuery(r.URL.Query(), servers)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	page, err := f.store.ListUsers(q)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	out := UserList{Users: make([]User, 0, len(page.Users)), Total: page.Total, Page: page.Page, PerPage: page.PerPage,
		Pages: pages(page.Total, page.PerPage)}
	for _, u := range page.Users {
		out.Users = append(out.Users, toUser(u))
	}
	web.JSON(w, http.StatusOK, out)
}

// pages is the number of pages of total items.
func pages(total, perPage int) int {
	if perPage <= 0 || total == 0 {
		return 1
	}
	return (total + perPage - 1) / perPage
}

// apiUserID reads the {id} path value, answering 404 itself.
func apiUserID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, ok := parseUserID(r.PathValue(name))
	if !ok {
		web.JSONError(w, http.StatusNotFound, "user not found")
	}
	return id, ok
}

// apiGet answers GET /users/{id}.
func (f *Feature) apiGet(w http.ResponseWriter, r *http.Request) {
	id, ok := apiUserID(w, r, "id")
	if !ok {
		return
	}
	u, err := f.store.GetUser(id)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toUser(u))
}

// apiPatch answers PATCH /users/{id}.
func (f *Feature) apiPatch(w http.ResponseWriter, r *http.Request) {
	id, ok := apiUserID(w, r, "id")
	if !ok {
		return
	}
	var in UserPatchInput
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	p, err := in.patch()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	u, err := f.engine.UpdateUser(pctx, actor(r), id, p)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toUser(u))
}

// apiDelete answers DELETE /users/{id}.
func (f *Feature) apiDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := apiUserID(w, r, "id")
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.URL.Query().Get("reason"))
	if len(reason) > maxReason {
		web.BadInput(w, "reason", "must be at most 500 characters")
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	if err := f.engine.RemoveUser(pctx, actor(r), id, cmpOr(reason, "removed by an admin")); err != nil {
		f.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// BulkRequest is the body of POST /users/bulk and /users/bulk/preview: the users and one edit.
// remove excludes every other edit; extend_days moves each user's expiry.
type BulkRequest struct {
	// UserIDs are the users (at most 1000).
	UserIDs []int64 `json:"user_ids"`
	// Libraries sets the libraries per server (library keys).
	Libraries map[string][]string `json:"libraries,omitempty"`
	// AddLibraries adds single library keys per server, keeping the rest.
	AddLibraries map[string][]string `json:"add_libraries,omitempty"`
	// RemoveLibraries takes single library keys away per server, keeping the rest.
	RemoveLibraries map[string][]string `json:"remove_libraries,omitempty"`
	// AllowDownloads sets downloads on every share.
	AllowDownloads *bool `json:"allow_downloads,omitempty"`
	// StartsAt sets when access begins; null clears it.
	StartsAt StartsAtInput `json:"starts_at,omitzero"`
	// ExpiresAt sets when access ends; null clears it.
	ExpiresAt ExpiresAtInput `json:"expires_at,omitzero"`
	// ExtendDays moves each user's expiry by that many days (users without one keep none).
	ExtendDays int `json:"extend_days,omitempty"`
	// Whitelisted puts the users on the whitelist or takes them off.
	Whitelisted *bool `json:"whitelisted,omitempty"`
	// Remove removes the users.
	Remove bool `json:"remove,omitempty"`
	// Reason is recorded with every change.
	Reason string `json:"reason,omitempty"`
}

// op converts the request into the engine's bulk operation.
func (in BulkRequest) op() (access.BulkOp, error) {
	op := access.BulkOp{Libraries: in.Libraries, AddLibraries: in.AddLibraries, RemoveLibraries: in.RemoveLibraries,
		AllowDownloads: in.AllowDownloads, ExtendDays: in.ExtendDays, Whitelisted: in.Whitelisted, Remove: in.Remove,
		Reason: strings.TrimSpace(in.Reason)}
	if len(op.Reason) > maxReason {
		return op, web.NewInputError("reason", "must be at most %d characters", maxReason)
	}
	if in.StartsAt.Set {
		op.StartsAt, op.ClearStartsAt = in.StartsAt.Time, in.StartsAt.Time == nil
	}
	if in.ExpiresAt.Set {
		op.ExpiresAt, op.ClearExpiresAt = in.ExpiresAt.Time, in.ExpiresAt.Time == nil
	}
	return op, nil
}

// apiBulkPreview answers POST /users/bulk/preview.
func (f *Feature) apiBulkPreview(w http.ResponseWriter, r *http.Request) {
	f.apiBulk(w, r, false)
}

// apiBulkApply answers POST /users/bulk.
func (f *Feature) apiBulkApply(w http.ResponseWriter, r *http.Request) {
	f.apiBulk(w, r, true)
}

// apiBulk previews or applies a bulk edit.
func (f *Feature) apiBulk(w http.ResponseWriter, r *http.Request, apply bool) {
	var in BulkRequest
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	op, err := in.op()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	var rep access.BulkReport
	if apply {
		rep, err = f.engine.BulkApply(r.Context(), actor(r), in.UserIDs, op)
	} else {
		rep, err = f.engine.BulkPreview(r.Context(), in.UserIDs, op)
	}
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	if rep.Items == nil {
		rep.Items = []access.BulkItem{}
	}
	web.JSON(w, http.StatusOK, rep)
}

// InviteRequest is the body of POST /users/invite.
type InviteRequest struct {
	// Invitee is a Plex username or an email address.
	Invitee string `json:"invitee"`
	// Libraries are library keys per server id; each list must be non-empty.
	Libraries map[string][]string `json:"libraries"`
	// AllowDownloads allows downloads on the new shares.
	AllowDownloads bool `json:"allow_downloads,omitempty"`
	// Filters are the restriction filters of the new shares.
	Filters *Filters `json:"filters,omitempty"`
	// StartsAt delays the share (null or past: now).
	StartsAt StartsAtInput `json:"starts_at,omitzero"`
	// ExpiresAt ends access (null: never).
	ExpiresAt ExpiresAtInput `json:"expires_at,omitzero"`
	// MembershipDays, without expires_at, ends access that many days after it starts.
	MembershipDays int `json:"membership_days,omitempty"`
	// Notes are kept with a new user.
	Notes string `json:"notes,omitempty"`
}

// InviteResult is the answer of POST /users/invite.
type InviteResult struct {
	// User is the invited user as stored.
	User User `json:"user"`
	// Scheduled is true when access starts later (nothing shared yet).
	Scheduled bool `json:"scheduled"`
	// Shared are the servers shared now.
	Shared []string `json:"shared"`
}

// apiInvite answers POST /users/invite.
func (f *Feature) apiInvite(w http.ResponseWriter, r *http.Request) {
	var in InviteRequest
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	if len(in.Libraries) == 0 {
		web.BadInput(w, "libraries", "choose at least one library")
		return
	}
	settings := access.InviteSettings{AllowDownloads: in.AllowDownloads, StartsAt: in.StartsAt.Time, ExpiresAt: in.ExpiresAt.Time,
		MembershipDays: in.MembershipDays, Notes: in.Notes}
	if in.Filters != nil {
		settings.Filters = in.Filters.storage()
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	res, err := f.engine.InviteDirect(pctx, actor(r), in.Invitee, in.Libraries, settings)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	out := InviteResult{User: toUser(res.User), Scheduled: res.Scheduled, Shared: res.Shared}
	if out.Shared == nil {
		out.Shared = []string{}
	}
	web.JSON(w, http.StatusOK, out)
}

// apiPending answers GET /pending-invites.
func (f *Feature) apiPending(w http.ResponseWriter, r *http.Request) {
	list, err := f.engine.PendingInvites(r.Context())
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []access.PendingInvite{}
	}
	web.JSON(w, http.StatusOK, list)
}

// apiResend answers POST /pending-invites/{user}/{server}/resend.
func (f *Feature) apiResend(w http.ResponseWriter, r *http.Request) {
	f.apiPendingAction(w, r, f.engine.ResendInvite)
}

// apiCancel answers DELETE /pending-invites/{user}/{server}.
func (f *Feature) apiCancel(w http.ResponseWriter, r *http.Request) {
	f.apiPendingAction(w, r, f.engine.CancelInvite)
}

// apiPendingAction resolves the pending invitee of /pending-invites/{user}/{server} and applies act
// (resend or cancel) with the single-edit Plex deadline; 204 on success.
func (f *Feature) apiPendingAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, actor string, userID int64, serverID string) error) {
	id, ok := apiUserID(w, r, "user")
	if !ok {
		return
	}
	server := r.PathValue("server")
	id, err := f.resolveInvitee(r.Context(), id, server)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	if err := act(pctx, actor(r), id, server); err != nil {
		f.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiHomeMembers answers GET /home/members.
func (f *Feature) apiHomeMembers(w http.ResponseWriter, r *http.Request) {
	list, err := f.engine.HomeMembers(r.Context())
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []access.HomeMember{}
	}
	web.JSON(w, http.StatusOK, list)
}

// ManagedUserInput is the body of POST /home/managed.
type ManagedUserInput struct {
	// Name is the managed user's name.
	Name string `json:"name"`
	// RestrictionProfile is little_kid, older_kid, teen or "" (none).
	RestrictionProfile string `json:"restriction_profile,omitempty"`
	// Libraries are library keys per server id to share with the new user.
	Libraries map[string][]string `json:"libraries,omitempty"`
	// AllowDownloads allows downloads on the shares.
	AllowDownloads bool `json:"allow_downloads,omitempty"`
	// Filters are the restriction filters of the shares.
	Filters *Filters `json:"filters,omitempty"`
}

// apiCreateManaged answers POST /home/managed.
func (f *Feature) apiCreateManaged(w http.ResponseWriter, r *http.Request) {
	var in ManagedUserInput
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	req := access.ManagedUserRequest{Name: in.Name, RestrictionProfile: in.RestrictionProfile, Libraries: in.Libraries,
		AllowDownloads: in.AllowDownloads}
	if in.Filters != nil {
		req.Filters = in.Filters.storage()
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	u, err := f.engine.CreateManagedUser(pctx, actor(r), req)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", web.URL(r, web.APIPrefix+"/users", u.ID))
	web.JSON(w, http.StatusCreated, toUser(u))
}

// apiRemoveManaged answers DELETE /home/managed/{id}.
func (f *Feature) apiRemoveManaged(w http.ResponseWriter, r *http.Request) {
	id, ok := apiUserID(w, r, "id")
	if !ok {
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	if err := f.engine.RemoveManagedUser(pctx, actor(r), id); err != nil {
		f.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// actor is the audit actor of the request.
func actor(r *http.Request) string {
	if p, ok := web.CurrentPrincipal(r); ok {
		return p.Actor()
	}
	return access.ActorSystem
}

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// userByID reads a user, answering 404 (page or API) itself.
func (f *Feature) userByID(w http.ResponseWriter, r *http.Request, id int64) (storage.User, bool) {
	u, err := f.store.GetUser(id)
	if err != nil {
		if errorStatus(err) == http.StatusNotFound {
			web.Error(w, r, http.StatusNotFound)
		} else {
			f.serverError(w, r, "reading a user", err)
		}
		return storage.User{}, false
	}
	return u, true
}
