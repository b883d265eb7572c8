package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/render"
)

// env is the per-request state the Mux attaches to every request it serves, so the package-level
// helpers (Render, URL, Flash, …) find the handler they belong to.
type env struct {
	mux     *Mux
	nav     string
	flashes []FlashMessage
	// pendingFlash are the messages Flash already put in this response's cookie.
	pendingFlash []FlashMessage
}

// envKey is the context key of *env.
type envKey struct{}

// envFrom returns the request's env, or nil outside a Mux.
func envFrom(r *http.Request) *env {
	e, _ := r.Context().Value(envKey{}).(*env)
	return e
}

// withEnv attaches a fresh env to r.
func (m *Mux) withEnv(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), envKey{}, &env{mux: m}))
}

// Render writes page (templates/pages/<page>.html, e.g. "admin/invites") with status 200: the
// whole document, or only its "content" block for htmx requests. data is the page's .Data.
func Render(w http.ResponseWriter, r *http.Request, page string, data any) {
	RenderStatus(w, r, http.StatusOK, page, data)
}

// RenderStatus is Render with a status (e.g. 400 for a form shown again with errors).
func RenderStatus(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	e := envFrom(r)
	if e == nil {
		http.Error(w, "page rendered outside the router", http.StatusInternalServerError)
		return
	}
	e.mux.consumeFlashes(w, r)
	e.mux.renderer.Page(w, r, status, page, e.mux.newView(r, data))
}

// RenderCached is RenderStatus for public pages that are the same for every visitor given data
// (an invite's offer, the landing page): the rendered bytes are kept by the handler and served
// again for an equal view without executing the templates (see render.Renderer.CachedPage for
// what data must be). A view carrying flash messages or a signed-in principal is rendered
// afresh and never kept.
func RenderCached(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	e := envFrom(r)
	if e == nil {
		http.Error(w, "page rendered outside the router", http.StatusInternalServerError)
		return
	}
	e.mux.consumeFlashes(w, r)
	v := e.mux.newView(r, data)
	if len(v.Flashes) > 0 || v.User != nil {
		e.mux.renderer.Page(w, r, status, page, v)
		return
	}
	e.mux.renderer.CachedPage(w, r, status, page, v)
}

// Fragment writes only the named template of page (a table body, a form) whatever the request;
// it receives the same View as a whole page.
func Fragment(w http.ResponseWriter, r *http.Request, status int, page, fragment string, data any) {
	e := envFrom(r)
	if e == nil {
		http.Error(w, "page rendered outside the router", http.StatusInternalServerError)
		return
	}
	e.mux.renderer.Fragment(w, r, status, page, fragment, e.mux.newView(r, data))
}

// SetNav overrides the navigation section a page marks (by default the first path segment below
// the base path).
func SetNav(r *http.Request, nav string) {
	if e := envFrom(r); e != nil {
		e.nav = nav
	}
}

// BasePath returns the base path of the handler serving r ("" or "/manage").
func BasePath(r *http.Request) string {
	if e := envFrom(r); e != nil {
		return e.mux.base
	}
	return ""
}

// URL returns the base path + p + "/" + each segment path-escaped (the same as the templates'
// url helper). p must start with a single "/". A bad p or segment yields the base path's root.
func URL(r *http.Request, p string, segments ...any) string {
	u, err := render.JoinURL(BasePath(r), p, segments)
	if err != nil {
		return BasePath(r) + "/"
	}
	return u
}

// Redirect sends the client to p below the base path (Redirect(w, r, "/invites") goes to
// {base}/invites): 303 See Other, or HX-Redirect with 200 for htmx requests.
func Redirect(w http.ResponseWriter, r *http.Request, p string) {
	target := BasePath(r) + p
	if e := envFrom(r); e != nil {
		e.mux.renderer.Redirect(w, r, target)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// RedirectTo sends the client to target, a full local path that already carries the base path
// (such as a validated ?next= value).
func RedirectTo(w http.ResponseWriter, r *http.Request, target string) {
	if e := envFrom(r); e != nil {
		e.mux.renderer.Redirect(w, r, target)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// LocalTarget reports whether target is a path below the base path of r's handler, safe to
// redirect to after sign-in (no other host, no scheme, no backslashes or control characters).
//
// Browsers drop tabs and newlines from URLs (WHATWG URL parsing), so "/\t/evil.example" would reach
// another host as "//evil.example": every ASCII control character is refused, not only CR and LF.
func LocalTarget(r *http.Request, target string) bool {
	base := BasePath(r)
	if !strings.HasPrefix(target, base+"/") || strings.HasPrefix(target, "//") ||
		strings.ContainsRune(target, '\\') || hasControl(target) {
		return false
	}
	return !strings.HasPrefix(target[len(base):], "//")
}

// hasControl reports whether s contains an ASCII control character (0x00–0x1F or 0x7F).
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// FlashNow adds a message to the page this request renders.
func FlashNow(r *http.Request, kind, message string) {
	if e := envFrom(r); e != nil {
		e.flashes = append(e.flashes, FlashMessage{Kind: kind, Message: message})
	}
}

// Flash keeps a message for the next page the browser renders (after a redirect): it travels
// in a short-lived, signed cookie.
func Flash(w http.ResponseWriter, r *http.Request, kind, message string) {
	e := envFrom(r)
	if e == nil {
		return
	}
	e.mux.setFlash(w, r, FlashMessage{Kind: kind, Message: message})
}

// Cookie names the kit and the auth pages use.
const (
	// SessionCookieName is the admin session cookie ("__Host-" is prefixed when the handler is at
	// the site root behind https).
	SessionCookieName = "pm_session"
	// flashCookieName carries flash messages across a redirect.
	flashCookieName = "pm_flash"
)

// CookieName returns the name a cookie called name has on r's handler: "__Host-"+name when
// cookies are Secure and the base path is empty (the prefix requires Path=/ and Secure).
func CookieName(r *http.Request, name string) string {
	if e := envFrom(r); e != nil && e.mux.hostPrefix(r) {
		return "__Host-" + name
	}
	return name
}

// NewCookie returns a cookie scoped to r's handler: Path is the base path (or "/"), HttpOnly,
// SameSite=Lax (the returns from Plex and Discord sign-in are cross-site top-level GETs, which
// Strict cookies would miss), Secure when the public URL is https or the request came over TLS,
// and named by CookieName. maxAge 0 makes a session cookie; a negative maxAge deletes the cookie.
func NewCookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	var m *Mux
	if e := envFrom(r); e != nil {
		m = e.mux
	}
	return m.cookie(r, name, value, maxAge)
}

// cookie builds a cookie of m for r (nil m: root path, Secure only over TLS).
func (m *Mux) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil}
	if m != nil {
		c.Secure = m.secureFor(r)
		if m.base != "" {
			c.Path = m.base
		}
		if m.hostPrefix(r) {
			c.Name = "__Host-" + name
		}
	}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// secureFor reports whether cookies set in answer to r are Secure: the public URL is https, or r
// itself came over TLS.
func (m *Mux) secureFor(r *http.Request) bool { return m.secure || r.TLS != nil }

// hostPrefix reports whether cookies for r get the "__Host-" prefix.
func (m *Mux) hostPrefix(r *http.Request) bool { return m.secureFor(r) && m.base == "" }

// ReadCookie returns the value of the cookie called name on r's handler ("" when absent).
func ReadCookie(r *http.Request, name string) string {
	c, err := r.Cookie(CookieName(r, name))
	if err != nil {
		return ""
	}
	return c.Value
}
