package handlers

import (
	"net/http"
	"strings"
)

// contentSecurityPolicy builds the policy sent with every response. No inline script or style is
// allowed anywhere (htmx's injected indicator styles are switched off by the htmx-config meta tag
// in layouts/base.html). form-action also names the sign-in origins, because the invite join POST
// answers with a redirect to them and browsers apply form-action to redirects.
func contentSecurityPolicy(authOrigins []string) string {
	formAction := append([]string{"'self'"}, authOrigins...)
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"object-src 'none'",
		"base-uri 'none'",
		"frame-ancestors 'none'",
		"form-action " + strings.Join(formAction, " "),
	}, "; ")
}

// securityHeaders are set on every response of the handler, errors and static files included.
type securityHeaders struct {
	csp string
}

// set writes the headers. Cache-Control defaults to no-store (pages may show private data);
// static files override it.
func (s securityHeaders) set(h http.Header) {
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	// Invite codes are in URLs: never leak them to another site through Referer.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Cache-Control", "no-store")
}
