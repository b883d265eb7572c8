package webtest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

func TestServerAuthenticatesByRole(t *testing.T) {
	feature := web.FeatureFunc(func(r web.Router) {
		r.Page("GET", "/things", web.RoleModerator, func(w http.ResponseWriter, r *http.Request) {
			p, _ := web.CurrentPrincipal(r)
			_, _ = io.WriteString(w, p.Actor())
		})
		r.API("POST", "/things", web.RoleAdmin, func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Name string `json:"name"`
			}
			if !web.DecodeJSON(w, r, &in) {
				return
			}
			web.JSON(w, http.StatusCreated, in)
		}, web.APIDoc{Summary: "create a thing", Request: struct {
			Name string `json:"name"`
		}{}, Response: struct{}{}, Status: 201})
	})
	srv := New(t, Options{BasePath: "/m", Features: []web.Feature{feature}})
	if rec := srv.Do("GET", "/things", web.RoleModerator, nil); rec.Code != 200 || rec.Body.String() != "admin:test-moderator" {
		t.Errorf("moderator: %d %q", rec.Code, rec.Body.String())
	}
	if rec := srv.Do("GET", "/things", web.RoleAuditor, nil); rec.Code != 403 {
		t.Errorf("auditor: %d", rec.Code)
	}
	if rec := srv.Do("GET", "/things", web.RoleNone, nil); rec.Code != 303 {
		t.Errorf("anonymous: %d", rec.Code)
	}
	if rec := srv.API("POST", "/things", web.RoleAdmin, `{"name":"x"}`); rec.Code != 201 || strings.TrimSpace(rec.Body.String()) != `{"name":"x"}` {
		t.Errorf("admin API: %d %q", rec.Code, rec.Body.String())
	}
	if rec := srv.API("POST", "/things", web.RoleModerator, `{"name":"x"}`); rec.Code != 403 {
		t.Errorf("moderator API: %d", rec.Code)
	}
	if rec := srv.API("POST", "/things", web.RoleAdmin, `{"nope":1}`); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"nope"`) {
		t.Errorf("unknown field: %d %q", rec.Code, rec.Body.String())
	}
}
