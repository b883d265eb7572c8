package web

import (
	"context"
	"net/http"
)

// How a principal authenticated.
const (
	// ViaSession is a browser session (cookie).
	ViaSession = "session"
	// ViaAPIKey is a REST API key (Authorization: Bearer).
	ViaAPIKey = "apikey"
)

// Principal is who makes a request: a signed-in admin or an API key. Page and API routes only run
// with one in the request context; Public routes never have one.
type Principal struct {
	// AdminID is the admin's id (ViaSession), or "" for an API key.
	AdminID string
	// KeyID is the API key's id (ViaAPIKey; "config" for the Caddyfile's bootstrap key).
	KeyID string
	// Name is the admin's username or the API key's name.
	Name string
	// Role is the effective role.
	Role Role
	// Via is ViaSession or ViaAPIKey.
	Via string
}

// Actor returns the audit-log actor string: "admin:<username>" or "apikey:<name>".
func (p Principal) Actor() string {
	if p.Via == ViaAPIKey {
		return "apikey:" + p.Name
	}
	return "admin:" + p.Name
}

// AtLeast reports whether the principal's role admits a route needing the named role; templates
// use it to hide what a role may not do: {{if .User.AtLeast "admin"}}. Unknown names never pass.
func (p Principal) AtLeast(role string) bool {
	min, ok := ParseRole(role)
	return ok && p.Role.Allows(min)
}

// principalKey is the context key of the request's Principal.
type principalKey struct{}

// WithPrincipal returns ctx carrying p. The router calls it after authenticating a request;
// tests of a single handler function may call it directly.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of ctx; ok is false for anonymous requests.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.Role > RoleNone
}

// CurrentPrincipal returns the principal of r (see PrincipalFrom).
func CurrentPrincipal(r *http.Request) (Principal, bool) { return PrincipalFrom(r.Context()) }
