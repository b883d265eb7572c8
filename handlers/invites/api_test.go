package invites

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestAPICreateGetPatchDelete(t *testing.T) {
	e := newEnv(t, nil)
	srv := e.admin(t)
	rec := srv.API("POST", "/invites", web.RoleModerator, `{"libraries":{"`+testServerID+`":["4","8"]},"label":"API",
		"max_uses":3,"allow_downloads":true,"membership_days":7,"expires_at":"2026-07-01T00:00:00Z",
		"filters":{"movies":"label!=adult"}}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	inv := webtest.Decode[Invite](t, rec)
	if len(inv.Code) != 26 || inv.URL != linkBase+"/"+inv.Code || !inv.Enabled || inv.Uses != 0 || inv.MaxUses != 3 ||
		inv.Discord != "off" || inv.Filters.Movies != "label!=adult" || inv.State != "active" || inv.CreatedBy != "apikey:test-moderator" {
		t.Fatalf("created %+v", inv)
	}
	if loc := rec.Header().Get("Location"); loc != "/m/api/v1/invites/"+inv.ID {
		t.Errorf("Location %q", loc)
	}
	if rec := srv.API("GET", "/invites/"+inv.ID, web.RoleAuditor, ""); rec.Code != 200 || webtest.Decode[Invite](t, rec).ID != inv.ID {
		t.Fatalf("get: %d", rec.Code)
	}
	if rec := srv.API("GET", "/invites", web.RoleAuditor, ""); rec.Code != 200 || len(webtest.Decode[[]Invite](t, rec)) != 1 {
		t.Fatalf("list: %d", rec.Code)
	}
	rec = srv.API("PATCH", "/invites/"+inv.ID, web.RoleModerator, `{"label":"Patched","expires_at":null,"enabled":false}`)
	if rec.Code != 200 {
		t.Fatalf("patch: %d %s", rec.Code, rec.Body.String())
	}
	got := webtest.Decode[Invite](t, rec)
	if got.Label != "Patched" || got.ExpiresAt != nil || got.Enabled || got.MaxUses != 3 || got.State != "disabled" ||
		strings.Join(got.Libraries[testServerID], ",") != "4,8" {
		t.Fatalf("patched %+v", got)
	}
	if rec := srv.API("DELETE", "/invites/"+inv.ID, web.RoleAuditor, ""); rec.Code != http.StatusForbidden {
		t.Fatalf("auditor delete: %d", rec.Code)
	}
	if rec := srv.API("DELETE", "/invites/"+inv.ID, web.RoleModerator, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec := srv.API("GET", "/invites/"+inv.ID, web.RoleAuditor, ""); rec.Code != http.StatusNotFound {
		t.Fatalf("get after delete: %d", rec.Code)
	}
	if rec := srv.API("DELETE", "/invites/"+inv.ID, web.RoleModerator, ""); rec.Code != http.StatusNotFound {
		t.Fatalf("delete twice: %d", rec.Code)
	}
}

func TestAPIBadInputNamesTheField(t *testing.T) {
	lib := `"libraries":{"` + testServerID + `":["4"]}`
	for _, tc := range []struct{ body, field string }{
		{`{}`, "libraries"},
		{`{"libraries":{}}`, "libraries"},
		{`{"libraries":{"nope":["4"]}}`, "libraries"},
		{`{` + lib + `,"code":"static"}`, "code"},
		{`{` + lib + `,"code":"a/b"}`, "code"},
		{`{` + lib + `,"expires_at":"yesterday"}`, "expires_at"},
		{`{` + lib + `,"starts_at":"2020-01-01T00:00:00Z"}`, "starts_at"},
		{`{` + lib + `,"max_uses":-1}`, "max_uses"},
		{`{` + lib + `,"max_uses":"5"}`, "max_uses"},
		{`{` + lib + `,"membership_days":99999}`, "membership_days"},
		{`{` + lib + `,"discord":"sometimes"}`, "discord"},
		{`{` + lib + `,"filters":{"music":"contentRating=G"}}`, "filters.music"},
		{`{` + lib + `,"filters":{"movies":"nonsense"}}`, "filters.movies"},
		{`{` + lib + `,"surprise":1}`, "surprise"},
		{`{` + lib + `,"label":"` + strings.Repeat("x", 101) + `"}`, "label"},
	} {
		e := newEnv(t, nil)
		rec := e.admin(t).API("POST", "/invites", web.RoleModerator, tc.body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", tc.body, rec.Code, rec.Body.String())
			continue
		}
		body := webtest.Decode[web.ErrorBody](t, rec)
		if body.Field != tc.field {
			t.Errorf("%s: field %q (%s), want %q", tc.body, body.Field, body.Error, tc.field)
		}
		if list, _ := e.svc.List(); len(list) != 0 {
			t.Errorf("%s: an invite was stored", tc.body)
		}
	}
}

func TestAPICustomCodeConflict(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, invite.Spec{Code: "family", Enabled: true})
	rec := e.admin(t).API("POST", "/invites", web.RoleModerator, `{"libraries":{"`+testServerID+`":["4"]},"code":"FAMILY"}`)
	if rec.Code != http.StatusBadRequest || webtest.Decode[web.ErrorBody](t, rec).Field != "code" {
		t.Fatalf("duplicate code (other case): %d %s", rec.Code, rec.Body.String())
	}
}

func TestAPIPatchKeepsUnchangedAndRefusesBad(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Label: "Keep", MaxUses: 2, Enabled: true})
	srv := e.admin(t)
	rec := srv.API("PATCH", "/invites/"+inv.ID, web.RoleModerator, `{"libraries":{"`+testServerID+`":["77"]}}`)
	if rec.Code != http.StatusBadRequest || webtest.Decode[web.ErrorBody](t, rec).Field != "libraries" {
		t.Fatalf("bad patch: %d %s", rec.Code, rec.Body.String())
	}
	got, _ := e.svc.Get(inv.ID)
	if got.Label != "Keep" || got.MaxUses != 2 || got.Libraries[testServerID][0] != "4" {
		t.Fatalf("bad patch changed the invite: %+v", got)
	}
	if rec := srv.API("PATCH", "/invites/missing", web.RoleModerator, `{"label":"x"}`); rec.Code != http.StatusNotFound {
		t.Fatalf("missing: %d", rec.Code)
	}
}

func TestAPIRedemptions(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Enabled: true})
	if _, err := e.store.PutRedemption(storage.Redemption{InviteID: inv.ID, UserID: 5, Username: "ann", At: e.clock.Now(),
		IP: "203.0.113.9", Outcome: storage.OutcomeJoined}); err != nil {
		t.Fatal(err)
	}
	rec := e.admin(t).API("GET", "/invites/"+inv.ID+"/redemptions", web.RoleAuditor, "")
	list := webtest.Decode[[]Redemption](t, rec)
	if rec.Code != 200 || len(list) != 1 || list[0].Username != "ann" || list[0].IP != "203.0.113.9" || list[0].Outcome != "joined" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	if rec := e.admin(t).API("GET", "/invites/none/redemptions", web.RoleAuditor, ""); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown invite: %d", rec.Code)
	}
}

func TestOpenAPIListsInviteRoutes(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.admin(t).API("GET", "/openapi.json", web.RoleAuditor, "")
	if rec.Code != 200 {
		t.Fatalf("openapi: %d", rec.Code)
	}
	for _, p := range []string{`"/invites"`, `"/invites/{id}"`, `"/invites/{id}/redemptions"`, `"/invites/{id}/qr.png"`, `"/invites/{id}/qr.svg"`} {
		if !strings.Contains(rec.Body.String(), p) {
			t.Errorf("openapi lacks %s", p)
		}
	}
}
