package handlers

import (
	"net/http"
	"net/textproto"
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
// Names and values are built once (newSecurityHeaders); set only copies them into the response.
type securityHeaders struct {
	names  []string // canonical header names
	values []string // values, by index of names
}

// newSecurityHeaders builds the headers with csp as the Content-Security-Policy. Cache-Control
// defaults to no-store (pages may show private data); static files override it.
func newSecurityHeaders(csp string) securityHeaders {
	var s securityHeaders
	for _, kv := range [][2]string{
		{"Content-Security-Policy", csp},
		{"X-Content-Type-Options", "nosniff"},
		// Invite codes are in URLs: never leak them to another site through Referer.
		{"Referrer-Policy", "no-referrer"},
		{"X-Frame-Options", "DENY"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
		{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"},
		{"X-Robots-Tag", "noindex, nofollow"},
		{"Cache-Control", "no-store"},
	} {
		s.names = append(s.names, textproto.CanonicalMIMEHeaderKey(kv[0]))
		s.values = append(s.values, kv[1])
	}
	return s
}

// set writes the headers, replacing any value h had for them (as http.Header.Set does). The
// values of one response share one new array, each slice capped at its own element, so another
// handler adding to or editing one header of this response touches neither the other headers nor
// other responses.
func (s securityHeaders) set(h http.Header) {
	vals := make([]string, len(s.values))
	copy(vals, s.values)
	for i, name := range s.names {
		h[name] = vals[i : i+1 : i+1]
	}
}
