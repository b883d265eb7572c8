package web

import (
	"net/http"
)

// Router is what a Feature registers its routes on. Patterns are net/http ServeMux path patterns
// relative to the handler's base path ("/invites", "/invites/{id}", "/{$}"); the router adds the
// base path (and "/api/v1" for API routes). A GET route also answers HEAD.
//
// Every route registered for a state-changing method (POST, PUT, PATCH, DELETE) is wrapped in
// http.CrossOriginProtection (cross-origin browser requests get 403) and a request-body limit
// (DefaultMaxBodyBytes unless the route passes MaxBody). GET routes must never change state.
//
// Registration errors (a bad or conflicting pattern, an API route without a summary) make
// handlers.New fail; they never panic.
type Router interface {
	// Page registers an admin UI route (admin handler only). It runs only for a signed-in admin
	// whose role allows min; anonymous visitors are sent to the sign-in page (or the setup wizard
	// while no admin exists), a lower role gets the 403 page.
	Page(method, pattern string, min Role, h http.HandlerFunc, opts ...RouteOption)
	// API registers a REST route under {base}/api/v1 (admin handler only). It runs for a bearer
	// API key or a browser session whose role allows min; otherwise 401 or 403 with a JSON
	// error. doc describes it in GET {base}/api/v1/openapi.json.
	API(method, pattern string, min Role, h http.HandlerFunc, doc APIDoc, opts ...RouteOption)
	// Public registers a route without authentication on the invite handler (the public invite
	// pages). The admin handler ignores Public routes.
	Public(method, pattern string, h http.HandlerFunc, opts ...RouteOption)
	// Mode returns the mode of the handler being built ("admin" or "invite").
	Mode() string
}

// Feature is a package of routes the root wires into handlers.Deps.Features. Routes is called once
// per mounted handler (admin and invite handlers both call it, each keeping the routes of its
// kind); it must only register routes.
type Feature interface {
	Routes(r Router)
}

// FeatureFunc adapts a function to Feature.
type FeatureFunc func(r Router)

// Routes calls f(r).
func (f FeatureFunc) Routes(r Router) { f(r) }

// DefaultMaxBodyBytes caps request bodies of state-changing routes unless a route says otherwise.
const DefaultMaxBodyBytes int64 = 1 << 20

// APIPrefix is the path of the REST API below the base path.
const APIPrefix = "/api/v1"

// Paths of the authentication pages below the base path.
const (
	// LoginPath is the sign-in page; anonymous page requests are sent there with ?next=.
	LoginPath = "/login"
	// SetupPath is the setup wizard; page requests go there while no admin exists.
	SetupPath = "/setup"
)

// RouteOption adjusts one route's defaults.
type RouteOption func(*routeSettings)

// routeSettings are the per-route defaults a RouteOption may change.
type routeSettings struct {
	maxBody int64
}

// MaxBody sets a route's request-body limit in bytes (e.g. larger for a backup upload).
func MaxBody(n int64) RouteOption {
	return func(s *routeSettings) { s.maxBody = n }
}

// Route kinds, as RouteInfo.Kind reports them.
const (
	// KindPage is an admin UI route (Router.Page).
	KindPage = "page"
	// KindAPI is a REST route (Router.API).
	KindAPI = "api"
	// KindPublic is an unauthenticated invite-handler route (Router.Public).
	KindPublic = "public"
	// KindOpen is an unauthenticated route of the handler itself (health, static files, sign-in,
	// setup) registered with Mux.Open.
	KindOpen = "open"
)

// RouteInfo describes one registered route (for tests and the OpenAPI document).
type RouteInfo struct {
	// Method is the HTTP method ("GET" routes answer HEAD too).
	Method string
	// Pattern is the pattern as registered, relative to the base path (API routes: relative to
	// {base}/api/v1).
	Pattern string
	// Path is the full ServeMux path pattern (base path and API prefix included).
	Path string
	// Kind is KindPage, KindAPI, KindPublic or KindOpen.
	Kind string
	// Min is the least role admitted (RoleNone for public and open routes).
	Min Role
	// Doc is the API route's documentation.
	Doc APIDoc
	// CSRF reports whether the route refuses cross-origin browser requests
	// (http.CrossOriginProtection): every route of a state-changing method.
	CSRF bool
	// MaxBody is the request-body limit in bytes of a state-changing route (0 for safe methods,
	// whose bodies are not read).
	MaxBody int64
}
