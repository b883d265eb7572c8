// Package web is the kit feature packages build their pages and REST routes on. A feature is a
// value with a Routes(Router) method; the root passes it in handlers.Deps.Features and
// handlers.New mounts it: Page and API routes on the admin handler, Public routes on the invite
// handler.
//
// # Routes
//
//	func (f *Invites) Routes(r web.Router) {
//		r.Page("GET", "/invites", web.RoleAuditor, f.list)                 // {base}/invites
//		r.Page("POST", "/invites", web.RoleModerator, f.create)            // CSRF + body limit added
//		r.API("GET", "/invites/{id}", web.RoleAuditor, f.apiGet, web.APIDoc{ // {base}/api/v1/invites/{id}
//			Summary: "One invite", Tags: []string{"invites"}, Response: Invite{},
//			Errors:  []int{404},
//		})
//		r.Public("GET", "/{code}", f.show)                                 // invite handler, no auth
//	}
//
// Roles are enforced by the router before a handler runs, on every Page and API route:
// RoleAuditor < RoleModerator < RoleAdmin. Anonymous page requests are redirected to the sign-in
// page (or to the setup wizard while no admin exists); anonymous API requests get 401, a role
// below the route's minimum 403. Inside a handler, web.CurrentPrincipal(r) says who is asking and
// Principal.Actor() gives the audit-log actor.
//
// Every route with a state-changing method is wrapped in http.CrossOriginProtection and a body
// limit (DefaultMaxBodyBytes; MaxBody(n) per route). GET handlers must never change state.
//
// # Responses
//
// Pages: Render(w, r, "admin/invites", data) renders templates/pages/admin/invites.html (which
// defines "title" and "content"); templates get a View (.Data is data, .User the principal,
// .App, .Nav, .Flashes). htmx requests get only "content"; Fragment renders a named template.
// RenderStatus re-renders a form with 400 and its errors. Redirect(w, r, "/invites") redirects
// below the base path (HX-Redirect for htmx); URL(r, "/invites", id) builds a link. Flash(w, r,
// web.FlashSuccess, "Invite created") shows a message on the next page, FlashNow on this one.
// Error(w, r, status) answers the error page (JSON under the API). ServerError(w, r, logger,
// "doing x", err) answers an unexpected (store) error: it logs err and answers 507 when the data
// disk is full (storage.ErrDiskFull: nothing was changed), 503 when the store is closed, else 500,
// with fixed texts that never show err.
//
// API: DecodeJSON(w, r, &in) reads a JSON body (unknown fields, wrong types, non-JSON, oversized
// and trailing data are answered with 400/413/415 naming the field where there is one);
// JSON(w, status, v) answers; JSONError(w, status, msg) answers {"error": msg}; BadInput(w,
// field, msg) answers 400 {"error": "field: msg", "field": "field"}. An *InputError returned by
// validation carries Field and Message for both pages and the API. OptionalTime is a date-time
// field of a PATCH body that tells absent, null (clear) and a value apart.
//
// Every API route carries an APIDoc; GET {base}/api/v1/openapi.json is generated from them
// (OpenAPI 3.1), so the document always lists exactly the registered routes.
//
// Tests of a feature run its routes in the real handler with package webtest.
package web
