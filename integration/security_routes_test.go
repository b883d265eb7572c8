package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// ---------------------------------------------------------------------------------------------
// Routes served by the running handlers

// servedRoute is one route of a running plex_manager handler, as Caddy's admin endpoint reports
// it (GET /plex_manager/routes): the router's own list, so a route added tomorrow is checked
// tomorrow without editing the tests, and a route registered but not wired is not.
type servedRoute struct {
	// Server is the HTTP server's name in the config, Hosts the host matchers leading to the handler.
	Server string   `json:"server"`
	Hosts  []string `json:"hosts"`
	// Mode and BasePath are the handler's.
	Mode     string `json:"mode"`
	BasePath string `json:"base_path"`
	// Method is the HTTP method.
	Method string `json:"method"`
	// Pattern is relative to the handler's base path (API: relative to {base}/api/v1).
	Pattern string `json:"pattern"`
	// Path is the full path pattern (base path and API prefix included).
	Path string `json:"path"`
	// Kind is web.KindPage, web.KindAPI, web.KindPublic or web.KindOpen.
	Kind string `json:"kind"`
	// MinRole is the least role's name ("" for public and open routes); Min is it parsed.
	MinRole string   `json:"min_role"`
	Min     web.Role `json:"-"`
	// CSRF reports whether the router refuses cross-origin browser requests on the route.
	CSRF bool `json:"csrf"`
	// MaxBody is the body limit of a state-changing route.
	MaxBody int64 `json:"max_body"`
}

func (r servedRoute) String() string {
	return fmt.Sprintf("%s %s %s (%s handler, min %q)", r.Kind, r.Method, r.Path, r.Mode, r.MinRole)
}

// stateChanging reports whether the route's method may change state (and so must be
// CSRF-protected).
func (r servedRoute) stateChanging() bool {
	switch r.Method {
	case "GET", "HEAD", "OPTIONS":
		return false
	}
	return true
}

// servedRoutes asks the running Caddy's admin endpoint for the routes of every plex_manager handler
// of the loaded config.
func servedRoutes(t *testing.T) []servedRoute {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	st, body, hdr := get(t, c, "http://"+adminAddr+"/plex_manager/routes")
	if st != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /plex_manager/routes: %d %q %.300s", st, hdr.Get("Content-Type"), body)
	}
	var routes []servedRoute
	if err := json.Unmarshal([]byte(body), &routes); err != nil {
		t.Fatalf("GET /plex_manager/routes: %v: %.300s", err, body)
	}
	for i, r := range routes {
		switch r.Kind {
		case web.KindPage, web.KindAPI:
			role, ok := web.ParseRole(r.MinRole)
			if !ok {
				t.Fatalf("%s: no least role", r)
			}
			routes[i].Min = role
		case web.KindPublic, web.KindOpen:
			if r.MinRole != "" {
				t.Fatalf("%s: an unauthenticated route with a least role", r)
			}
		default:
			t.Fatalf("%s: unknown kind", r)
		}
	}
	if len(routes) < 20 {
		t.Fatalf("the admin endpoint lists only %d routes", len(routes))
	}
	return routes
}

// TestSecurityServedRoutesEndpoint checks GET /plex_manager/routes itself: it lists both handlers
// of the config with their base paths and hosts, routes every build has with the right kind,
// handler and least role, and a CSRF guard and body limit on exactly the state-changing routes.
func TestSecurityServedRoutesEndpoint(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	tc := newTester(t)
	const base = "/manage"
	load(t, tc, secConfig(t, fake, secOptions{base: base}))
	routes := servedRoutes(t)

	have := map[string]servedRoute{}
	modes := map[string]string{}
	for _, r := range routes {
		key := r.Mode + " " + r.Kind + " " + r.Method + " " + r.Pattern
		if _, dup := have[key]; dup {
			t.Errorf("listed twice: %s", key)
		}
		have[key] = r
		modes[r.Mode] = r.BasePath
		if !slices.Contains(r.Hosts, "localhost") {
			t.Errorf("%s: hosts %v, want localhost", r, r.Hosts)
		}
		prefix := r.BasePath
		if r.Kind == web.KindAPI {
			prefix += web.APIPrefix
		}
		if r.Path != prefix+r.Pattern {
			t.Errorf("%s: path is not base path + pattern (%q)", r, r.Pattern)
		}
		if r.CSRF != r.stateChanging() || (r.CSRF && r.MaxBody <= 0) {
			t.Errorf("%s: csrf %v, max body %d", r, r.CSRF, r.MaxBody)
		}
		switch {
		case r.Mode == handlers.ModeInvite && (r.Kind == web.KindPage || r.Kind == web.KindAPI):
			t.Errorf("the invite handler serves %s", r)
		case r.Mode == handlers.ModeAdmin && r.Kind == web.KindPublic:
			t.Errorf("the admin handler serves %s", r)
		}
	}
	if len(modes) != 2 || modes[handlers.ModeAdmin] != base || modes[handlers.ModeInvite] != "" {
		t.Errorf("handlers listed (mode → base path): %v, want admin at %s and invite at the root", modes, base)
	}
	for key, min := range map[string]web.Role{
		"admin open POST /login":                  web.RoleNone,
		"admin open POST /setup/admin":            web.RoleNone,
		"admin page GET /admins":                  web.RoleAdmin,
		"admin api DELETE /api-keys/{id}":         web.RoleAdmin,
		"admin page POST /invites":                web.RoleModerator,
		"admin api GET /events":                   web.RoleAuditor,
		"admin page POST /streams/rules":          web.RoleAdmin,
		"admin api GET /openapi.json":             web.RoleAuditor,
		"invite public GET /{code}":               web.RoleNone,
		"invite open GET /healthz":                web.RoleNone,
		"admin open GET /static/{hash}/{name...}": web.RoleNone,
	} {
		r, ok := have[key]
		if !ok {
			t.Errorf("the admin endpoint does not list %q", key)
			continue
		}
		if r.Min != min {
			t.Errorf("%s: least role %s, want %s", r, r.Min, min)
		}
	}

	// Only GET.
	req, _ := http.NewRequest("POST", "http://"+adminAddr+"/plex_manager/routes", nil)
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /plex_manager/routes: %d, want 405", resp.StatusCode)
		}
	}

	if got := fillPattern("/streams/{server}/{session}/terminate"); got != "/streams/nosuchserver/nosuchsession/terminate" {
		t.Errorf("fillPattern = %q", got)
	}
	if got := fillPattern("/manage/{$}"); got != "/manage/" {
		t.Errorf("fillPattern({$}) = %q", got)
	}
}

// fillPattern turns a ServeMux pattern into a concrete path with harmless parameter values that
// name nothing existing.
func fillPattern(pattern string) string {
	values := map[string]string{
		"code": "no-such-invite-code", "action": "join", "token": "no-such-token", "hash": "0000000000000000",
		"name": "app.css", "server": "nosuchserver", "session": "nosuchsession", "user": "999999991",
		"id": "999999992",
	}
	var b strings.Builder
	for rest := pattern; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		name := strings.TrimSuffix(rest[i+1:i+j], "...")
		if name != "$" {
			v, ok := values[name]
			if !ok {
				v = "999999993"
			}
			b.WriteString(v)
		}
		rest = rest[i+j+1:]
	}
	return b.String()
}
