package handlers

import (
	"net/http"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

func TestRoutesOfTheReturnedHandler(t *testing.T) {
	feature := web.FeatureFunc(func(r web.Router) {
		r.Page("POST", "/things", web.RoleModerator, func(http.ResponseWriter, *http.Request) {})
		r.Public("GET", "/things/{code}", func(http.ResponseWriter, *http.Request) {})
	})
	tests := []struct {
		mode, base string
		want       map[string]web.RouteInfo // "METHOD path" → kind, least role, CSRF
		absent     []string
	}{
		{ModeAdmin, "/manage", map[string]web.RouteInfo{
			"POST /manage/things":                 {Kind: web.KindPage, Min: web.RoleModerator, CSRF: true},
			"POST /manage/login":                  {Kind: web.KindOpen, CSRF: true},
			"GET /manage/admins":                  {Kind: web.KindPage, Min: web.RoleAdmin},
			"GET /manage/api/v1/openapi.json":     {Kind: web.KindAPI, Min: web.RoleAuditor},
			"DELETE /manage/api/v1/api-keys/{id}": {Kind: web.KindAPI, Min: web.RoleAdmin, CSRF: true},
		}, []string{"GET /manage/things/{code}"}},
		{ModeInvite, "", map[string]web.RouteInfo{
			"GET /things/{code}": {Kind: web.KindPublic},
			"GET /healthz":       {Kind: web.KindOpen},
		}, []string{"POST /things", "POST /login", "GET /admins"}},
	}
	for _, tt := range tests {
		h := newTestHandler(t, Config{Mode: tt.mode, BasePath: tt.base}, Deps{Features: []web.Feature{feature}})
		routes, ok := Routes(h)
		if !ok {
			t.Fatalf("%s: Routes did not recognise the handler New returned", tt.mode)
		}
		have := map[string]web.RouteInfo{}
		for _, r := range routes {
			have[r.Method+" "+r.Path] = r
		}
		for k, w := range tt.want {
			r, ok := have[k]
			if !ok {
				t.Errorf("%s: %s missing from %d routes", tt.mode, k, len(routes))
				continue
			}
			if r.Kind != w.Kind || r.Min != w.Min || r.CSRF != w.CSRF || (r.CSRF && r.MaxBody <= 0) {
				t.Errorf("%s: %s = %+v, want kind %s, min %s, csrf %v", tt.mode, k, r, w.Kind, w.Min, w.CSRF)
			}
		}
		for _, k := range tt.absent {
			if _, ok := have[k]; ok {
				t.Errorf("%s: serves %s", tt.mode, k)
			}
		}
	}
	if _, ok := Routes(http.NotFoundHandler()); ok {
		t.Error("Routes accepted a handler New did not return")
	}
}
