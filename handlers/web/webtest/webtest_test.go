package webtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/internal/fataltest"
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

func TestDecode(t *testing.T) {
	type answer struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name    string
		body    string
		want    answer
		wantErr string // part of the Fatalf message, "" for none
	}{
		{name: "object", body: `{"name":"x","count":2}`, want: answer{Name: "x", Count: 2}},
		{name: "unknown fields ignored", body: `{"name":"x","other":true}`, want: answer{Name: "x"}},
		{name: "not JSON", body: `<html>oops</html>`, wantErr: `decoding "<html>oops</html>"`},
		{name: "wrong type", body: `{"count":"two"}`, wantErr: "decoding"},
		{name: "empty body", body: ``, wantErr: "decoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Body.WriteString(tc.body)
			var got answer
			msg, fatal := fataltest.Run(t, func(tb testing.TB) { got = Decode[answer](tb, rec) })
			if tc.wantErr != "" {
				if !fatal || !strings.Contains(msg, tc.wantErr) {
					t.Errorf("Fatal %v %q, want it to contain %q", fatal, msg, tc.wantErr)
				}
				return
			}
			if fatal || got != tc.want {
				t.Errorf("Decode = %+v (Fatal %v %q), want %+v", got, fatal, msg, tc.want)
			}
		})
	}
}
