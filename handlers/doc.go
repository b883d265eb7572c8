// Package handlers is the web side of Caddy Plex Manager, written against net/http only: the admin
// UI, the public invite pages and the REST API. The root package mounts one handler per
// `plex_manager admin|invite` directive via [New]; this package never imports Caddy.
//
// # Requests
//
// The handler sees full request paths (BasePath included, nothing stripped) and serves nothing
// outside BasePath. Every response carries the security headers (a strict Content-Security-Policy
// without inline script or style, nosniff, no-referrer, DENY framing, COOP, Permissions-Policy,
// Cache-Control: no-store unless a static file overrides it). Unknown paths and wrong methods get
// the HTML error page (JSON under {base}/api/); a panicking route gets a 500 page.
//
// Routes are registered on a web.Mux (package handlers/web), which wraps every state-changing
// method in http.CrossOriginProtection and a body limit, and enforces the least role of every
// Page and API route before the handler runs.
//
// # Adding a page
//
// Feature packages (handlers/invites, handlers/streams, …) implement web.Feature and are passed
// in Deps.Features; see package web for the kit and package web/webtest for tests. Pages of this
// package itself (sign-in, setup, admins, API keys, settings) follow the same steps:
//
//  1. Write templates/pages/admin/<name>.html (or pages/invite/) defining "title" and "content";
//     it is parsed automatically as page "admin/<name>" with the layout and every partial. Use
//     {{url "/path" .Segment}} for links and {{asset "file"}} for static files, never literal
//     paths, so the base path is honoured. Extra {{define}}s are fragments for htmx.
//
//  2. Write the handler, rendering with web.Render(w, r, "admin/<name>", data).
//
//  3. Register it: r.Page("GET", "/<name>", web.RoleAuditor, h), r.API(…) with an APIDoc, or
//     r.Public(…) on the invite handler.
//
//  4. Add a test that requests the route through New: template errors only show at execution
//     time.
package handlers
