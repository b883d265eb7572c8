// Package handlers is the web side of Caddy Plex Manager, written against net/http only: the admin
// UI, the public invite pages and (later) the REST API. The root package mounts one handler per
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
// Every route registered for a state-changing method (POST, PUT, PATCH, DELETE) is wrapped by the
// router in http.CrossOriginProtection (cross-origin browser requests get 403) and a request-body
// limit (DefaultMaxBodyBytes unless the route passes withMaxBody). GET routes must never change
// state. Handlers read forms with s.parseForm, which answers 413/400 itself.
//
// # Adding a page
//
//  1. Write templates/pages/admin/<name>.html (or pages/invite/) defining "title" and "content";
//     it is parsed automatically as page "admin/<name>" with the layout and every partial. Use
//     {{url "/path" .Segment}} for links and {{asset "file"}} for static files, never literal
//     paths, so the base path is honoured. Extra {{define}}s are fragments for htmx.
//
//  2. Write the handler method, rendering with s.page(w, r, status, "admin/<name>", navX, data).
//     htmx requests automatically get only "content"; s.render.Fragment sends a named fragment;
//     s.render.Redirect redirects (HX-Redirect for htmx).
//
//  3. Register it in routes.go: rt.get("/<name>", s.handler), or rt.post(…) for a form target.
//
//  4. Add a test that requests the route through New (see handler_test.go): template errors
//     only show at execution time.
package handlers
