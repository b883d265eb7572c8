package users

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
)

// route is one registered route.
type route struct {
	method, pattern, kind string
	min                   web.Role
}

// recorder is a web.Router that records the routes a feature registers.
type recorder struct{ routes []route }

func (r *recorder) Page(method, pattern string, min web.Role, _ http.HandlerFunc, _ ...web.RouteOption) {
	r.routes = append(r.routes, route{method, pattern, web.KindPage, min})
}

func (r *recorder) API(method, pattern string, min web.Role, _ http.HandlerFunc, _ web.APIDoc, _ ...web.RouteOption) {
	r.routes = append(r.routes, route{method, pattern, web.KindAPI, min})
}

func (r *recorder) Public(method, pattern string, _ http.HandlerFunc, _ ...web.RouteOption) {
	r.routes = append(r.routes, route{method, pattern, web.KindPublic, web.RoleNone})
}

func (r *recorder) Mode() string { return web.ModeAdmin }

// wantRoles is every route of the feature with the least role it admits: auditors read, moderators
// change users, invites and run passes, admins purge, confirm held sync shrinks and change the
// engine settings.
var wantRoles = map[string]web.Role{
	"page GET /{$}":                                    web.RoleAuditor,
	"page GET /users":                                  web.RoleAuditor,
	"page GET /users/{id}":                             web.RoleAuditor,
	"page POST /users/{id}/libraries":                  web.RoleModerator,
	"page POST /users/{id}/access":                     web.RoleModerator,
	"page POST /users/{id}/window":                     web.RoleModerator,
	"page POST /users/{id}/notes":                      web.RoleModerator,
	"page GET /users/{id}/remove":                      web.RoleModerator,
	"page POST /users/{id}/remove":                     web.RoleModerator,
	"page GET /users/invite":                           web.RoleModerator,
	"page POST /users/invite":                          web.RoleModerator,
	"page GET /users/bulk":                             web.RoleModerator,
	"page POST /users/bulk/preview":                    web.RoleModerator,
	"page POST /users/bulk/apply":                      web.RoleModerator,
	"page GET /users/pending":                          web.RoleAuditor,
	"page POST /users/pending/{user}/{server}/resend":  web.RoleModerator,
	"page POST /users/pending/{user}/{server}/cancel":  web.RoleModerator,
	"page GET /users/home":                             web.RoleAuditor,
	"page POST /users/home/managed":                    web.RoleModerator,
	"page GET /users/home/{id}/remove":                 web.RoleModerator,
	"page POST /users/home/{id}/remove":                web.RoleModerator,
	"page GET /servers":                                web.RoleAuditor,
	"page POST /servers/refresh":                       web.RoleModerator,
	"page GET /schedule":                               web.RoleAuditor,
	"page GET /sync":                                   web.RoleAuditor,
	"page POST /sync":                                  web.RoleModerator,
	"page POST /sync/confirm":                          web.RoleAdmin,
	"page GET /enforce":                                web.RoleAuditor,
	"page POST /enforce":                               web.RoleModerator,
	"page GET /purge":                                  web.RoleAuditor,
	"page POST /purge":                                 web.RoleAdmin,
	"page GET /schedule/settings":                      web.RoleAuditor,
	"page POST /schedule/settings":                     web.RoleAdmin,
	"api GET /servers":                                 web.RoleAuditor,
	"api GET /servers/{id}/libraries":                  web.RoleAuditor,
	"api POST /servers/refresh":                        web.RoleModerator,
	"api GET /users":                                   web.RoleAuditor,
	"api GET /users/{id}":                              web.RoleAuditor,
	"api PATCH /users/{id}":                            web.RoleModerator,
	"api DELETE /users/{id}":                           web.RoleModerator,
	"api POST /users/bulk/preview":                     web.RoleModerator,
	"api POST /users/bulk":                             web.RoleModerator,
	"api POST /users/invite":                           web.RoleModerator,
	"api GET /pending-invites":                         web.RoleAuditor,
	"api POST /pending-invites/{user}/{server}/resend": web.RoleModerator,
	"api DELETE /pending-invites/{user}/{server}":      web.RoleModerator,
	"api GET /home/members":                            web.RoleAuditor,
	"api POST /home/managed":                           web.RoleModerator,
	"api DELETE /home/managed/{id}":                    web.RoleModerator,
	"api POST /sync":                                   web.RoleModerator,
	"api POST /sync/confirm":                           web.RoleAdmin,
	"api POST /enforce":                                web.RoleModerator,
	"api POST /purge/preview":                          web.RoleAuditor,
	"api POST /purge":                                  web.RoleAdmin,
	"api GET /schedule":                                web.RoleAuditor,
	"api GET /settings/access":                         web.RoleAuditor,
	"api PUT /settings/access":                         web.RoleAdmin,
}

// featureRoutes returns the routes the feature registers.
func featureRoutes(t *testing.T) []route {
	t.Helper()
	e := newEnv(t, envOptions{noSync: true})
	var rec recorder
	e.feature.Routes(&rec)
	return rec.routes
}

func TestRoutesHaveTheirRoles(t *testing.T) {
	got := map[string]web.Role{}
	for _, r := range featureRoutes(t) {
		if r.kind == web.KindPublic {
			t.Errorf("public route %s %s: the users feature has none", r.method, r.pattern)
		}
		key := r.kind + " " + r.method + " " + r.pattern
		if _, dup := got[key]; dup {
			t.Errorf("%s registered twice", key)
		}
		got[key] = r.min
	}
	for key, want := range wantRoles {
		if g, ok := got[key]; !ok {
			t.Errorf("%s is not registered", key)
		} else if g != want {
			t.Errorf("%s admits %s and up, want %s", key, g, want)
		}
	}
	for key := range got {
		if _, ok := wantRoles[key]; !ok {
			t.Errorf("%s is registered but not in the role table", key)
		}
	}
	// Auditors are read-only everywhere: every state-changing route needs a moderator, except the
	// purge preview, which is a POST that changes nothing.
	for key, min := range got {
		readOnly := strings.Contains(key, " GET ") || key == "api POST /purge/preview"
		if !readOnly && min < web.RoleModerator {
			t.Errorf("%s changes state but admits %s", key, min)
		}
	}
}

// concrete fills a pattern's wildcards.
func concrete(pattern string) string {
	r := strings.NewReplacer("{$}", "", "{id}", strconv.FormatInt(aliceID, 10), "{user}", strconv.FormatInt(aliceID, 10), "{server}", srvID)
	return r.Replace(pattern)
}

// refused reports whether a response is the router's refusal of a role.
func refused(kind string, as web.Role, code int, loc string) bool {
	switch {
	case as == web.RoleNone && kind == web.KindPage:
		return code == http.StatusSeeOther && strings.Contains(loc, "/login")
	case as == web.RoleNone:
		return code == http.StatusUnauthorized
	}
	return code == http.StatusForbidden
}

// TestRolesOnEveryRoute sends every route as every role through the real handler: roles below the
// route's minimum are refused and change nothing; the minimum role gets through.
func TestRolesOnEveryRoute(t *testing.T) {
	roles := []web.Role{web.RoleNone, web.RoleAuditor, web.RoleModerator, web.RoleAdmin}
	for _, rt := range featureRoutes(t) {
		t.Run(rt.kind+" "+rt.method+" "+rt.pattern, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			before := e.snap()
			path := concrete(rt.pattern)
			send := func(as web.Role) (int, string) {
				if rt.kind == web.KindAPI {
					body := ""
					if rt.method != http.MethodGet && rt.method != http.MethodDelete {
						body = "{}"
					}
					rec := e.srv.API(rt.method, path, as, body)
					return rec.Code, location(rec)
				}
				var body io.Reader
				if rt.method != http.MethodGet {
					body = form()
				}
				rec := e.srv.Do(rt.method, path, as, body)
				return rec.Code, location(rec)
			}
			for _, as := range roles {
				if as >= rt.min {
					continue
				}
				if code, loc := send(as); !refused(rt.kind, as, code, loc) {
					t.Errorf("role %q: status %d (location %q), want a refusal", as.String(), code, loc)
				}
			}
			e.unchanged(before, "refused roles")
			if code, loc := send(rt.min); refused(rt.kind, rt.min, code, loc) || code == http.StatusUnauthorized {
				t.Errorf("role %s was refused: %d", rt.min.String(), code)
			}
		})
	}
}

// TestRoutesAreInTheOpenAPIDocument checks that every API route is documented.
func TestRoutesAreInTheOpenAPIDocument(t *testing.T) {
	e := newEnv(t, envOptions{noSync: true})
	rec := e.srv.API("GET", "/openapi.json", web.RoleAuditor, "")
	wantStatus(t, rec, http.StatusOK, "openapi.json")
	doc := webtest.Decode[struct {
		Paths map[string]map[string]any `json:"paths"`
	}](t, rec)
	for _, rt := range featureRoutes(t) {
		if rt.kind != web.KindAPI {
			continue
		}
		ops, ok := doc.Paths[rt.pattern]
		if !ok {
			t.Errorf("%s %s is not in openapi.json (paths: %v)", rt.method, rt.pattern, slices.Sorted(maps.Keys(doc.Paths)))
			continue
		}
		if _, ok := ops[strings.ToLower(rt.method)]; !ok {
			t.Errorf("%s %s: no %s operation in openapi.json", rt.method, rt.pattern, rt.method)
		}
	}
}
