package invites

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func form(kv ...string) *strings.Reader {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode())
}

func TestAdminPagesRoles(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Label: "Family", Enabled: true})
	srv := e.admin(t)
	for _, tc := range []struct {
		method, path string
		role         web.Role
		want         int
	}{
		{"GET", "/invites", web.RoleAuditor, 200},
		{"GET", "/invites", web.RoleNone, http.StatusSeeOther},
		{"GET", "/invites/new", web.RoleAuditor, 403},
		{"GET", "/invites/new", web.RoleModerator, 200},
		{"GET", "/invites/" + inv.ID, web.RoleAuditor, 200},
		{"GET", "/invites/" + inv.ID + "/edit", web.RoleAuditor, 403},
		{"GET", "/invites/" + inv.ID + "/edit", web.RoleModerator, 200},
		{"GET", "/invites/nope", web.RoleAuditor, 404},
		{"POST", "/invites/" + inv.ID + "/disable", web.RoleAuditor, 403},
		{"POST", "/invites/" + inv.ID + "/delete", web.RoleAuditor, 403},
		{"GET", "/invites/" + inv.ID + "/qr.png", web.RoleAuditor, 200},
	} {
		var body io.Reader
		if tc.method == "POST" {
			body = form()
		}
		rec := srv.Do(tc.method, tc.path, tc.role, body)
		if rec.Code != tc.want {
			t.Errorf("%s %s as %v: %d, want %d", tc.method, tc.path, tc.role, rec.Code, tc.want)
		}
	}
}

func TestAdminListAndDetail(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Label: "Family <b>", Enabled: true, MaxUses: 5, Onboarding: "# Hi"})
	srv := e.admin(t)
	rec := srv.Do("GET", "/invites", web.RoleAuditor, nil)
	body := rec.Body.String()
	for _, want := range []string{"Family &lt;b&gt;", linkBase + "/" + inv.Code, "0 / 5", "active"} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if strings.Contains(body, "New invite") {
		t.Error("an auditor sees the New invite button")
	}
	if rec := srv.Do("GET", "/invites", web.RoleModerator, nil); !strings.Contains(rec.Body.String(), "New invite") {
		t.Error("a moderator does not see the New invite button")
	}
	rec = srv.Do("GET", "/invites/"+inv.ID, web.RoleAuditor, nil)
	body = rec.Body.String()
	for _, want := range []string{"/m/invites/" + inv.ID + "/qr.svg", "Movies", "Nobody has used this invite yet"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if strings.Contains(body, "/delete") {
		t.Error("an auditor sees the delete form")
	}
}

func TestAdminCreateForm(t *testing.T) {
	e := newEnv(t, nil)
	srv := e.admin(t)
	rec := srv.Do("POST", "/invites", web.RoleModerator, form(
		"label", "Friends", "code", "friends-2026", "lib", testServerID+"/4", "lib", testServerID+"/8",
		"allow_downloads", "on", "expires_at", "2026-06-01T10:30", "max_uses", "5", "membership_days", "30",
		"filter_movies", "contentRating=G%2CPG", "discord", "off", "onboarding", "Welcome", "enabled", "on"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	list, _ := e.svc.List()
	if len(list) != 1 {
		t.Fatalf("%d invites stored", len(list))
	}
	inv := list[0]
	if loc := rec.Header().Get("Location"); loc != "/m/invites/"+inv.ID {
		t.Errorf("redirect to %q", loc)
	}
	want := time.Date(2026, 6, 1, 10, 30, 0, 0, time.UTC)
	if inv.Code != "friends-2026" || inv.Label != "Friends" || !inv.AllowDownloads || inv.MaxUses != 5 ||
		inv.MembershipDays != 30 || inv.ExpiresAt == nil || !inv.ExpiresAt.Equal(want) || !inv.Enabled ||
		inv.Filters.Movies != "contentRating=G%2CPG" || strings.Join(inv.Libraries[testServerID], ",") != "4,8" ||
		inv.CreatedBy != "admin:test-moderator" {
		t.Fatalf("stored %+v", inv)
	}
}

func TestAdminCreateFormErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kv    []string
		field string
	}{
		{"no libraries", []string{"label", "x"}, "choose at least one library"},
		{"reserved code", []string{"code", "join", "lib", testServerID + "/4"}, "reserved word"},
		{"bad date", []string{"expires_at", "tomorrow", "lib", testServerID + "/4"}, "not a date"},
		{"past date", []string{"expires_at", "2020-01-01T00:00", "lib", testServerID + "/4"}, "in the future"},
		{"bad number", []string{"max_uses", "five", "lib", testServerID + "/4"}, "not a whole number"},
		{"unknown library", []string{"lib", testServerID + "/99"}, "no library with key"},
		{"bad filter", []string{"filter_music", "contentRating=G", "lib", testServerID + "/4"}, "label only"},
		{"discord not configured", []string{"discord", "required", "lib", testServerID + "/4"}, "not configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := e.admin(t).Do("POST", "/invites", web.RoleModerator, form(tc.kv...))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d", rec.Code)
			}
			if !strings.Contains(rec.Body.String(), tc.field) || !strings.Contains(rec.Body.String(), `class="field-error"`) {
				t.Fatalf("form does not show the error %q", tc.field)
			}
			if list, _ := e.svc.List(); len(list) != 0 {
				t.Fatal("an invite was stored despite the error")
			}
		})
	}
}

func TestAdminEditToggleDelete(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Label: "Old", Enabled: true})
	srv := e.admin(t)
	rec := srv.Do("POST", "/invites/"+inv.ID, web.RoleModerator, form("code", inv.Code, "label", "New", "lib", testServerID+"/1", "enabled", "on"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body.String())
	}
	got, _ := e.svc.Get(inv.ID)
	if got.Label != "New" || got.Libraries[testServerID][0] != "1" || got.Code != inv.Code {
		t.Fatalf("after edit: %+v", got)
	}
	if rec := srv.Do("POST", "/invites/"+inv.ID+"/disable", web.RoleModerator, form()); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", rec.Code)
	}
	if got, _ := e.svc.Get(inv.ID); got.Enabled {
		t.Fatal("still enabled")
	}
	if rec := srv.Do("POST", "/invites/"+inv.ID+"/enable", web.RoleModerator, form()); rec.Code != http.StatusSeeOther {
		t.Fatalf("enable: %d", rec.Code)
	}
	if got, _ := e.svc.Get(inv.ID); !got.Enabled {
		t.Fatal("still disabled")
	}
	// Cross-site form posts are refused by the kit's CSRF protection.
	if rec := srv.Do("POST", "/invites/"+inv.ID+"/delete", web.RoleAdmin, form(), "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site delete: %d", rec.Code)
	}
	if rec := srv.Do("POST", "/invites/"+inv.ID+"/delete", web.RoleModerator, form()); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if _, err := e.svc.Get(inv.ID); err == nil {
		t.Fatal("invite not deleted")
	}
	evs, _ := e.store.ListEvents(storage.EventQuery{InviteID: inv.ID})
	count := map[string]int{}
	for _, ev := range evs {
		count[ev.Type]++
	}
	if count[invite.EventCreated] != 1 || count[invite.EventEdited] != 3 || count[invite.EventDeleted] != 1 || len(evs) != 5 {
		t.Fatalf("events %v", count)
	}
}

func TestQRContentTypes(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Enabled: true})
	srv := e.admin(t)
	for _, tc := range []struct{ path, ctype, magic string }{
		{"/invites/" + inv.ID + "/qr.png", "image/png", "\x89PNG\r\n\x1a\n"},
		{"/invites/" + inv.ID + "/qr.svg", "image/svg+xml", "<?xml"},
	} {
		for name, rec := range map[string]interface {
			Result() *http.Response
		}{
			"page": srv.Do("GET", tc.path, web.RoleAuditor, nil),
			"api":  srv.API("GET", tc.path, web.RoleAuditor, ""),
		} {
			resp := rec.Result()
			buf := make([]byte, 8)
			n, _ := resp.Body.Read(buf)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !strings.HasPrefix(string(buf[:n]), tc.magic[:min(n, len(tc.magic))]) || n == 0 {
				t.Errorf("%s %s: %d %q %q", name, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), buf[:n])
			}
		}
	}
	// Without a public URL there is no link to encode.
	e2 := newEnv(t, nil)
	svc, _ := invite.New(invite.Options{Store: e2.store, Now: e2.clock.Now})
	e2.feat.svc = svc
	inv2, err := svc.Create(context.Background(), "admin:x", invite.Spec{Libraries: map[string][]string{testServerID: {"4"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := e2.admin(t).API("GET", "/invites/"+inv2.ID+"/qr.png", web.RoleAuditor, ""); rec.Code != http.StatusConflict {
		t.Fatalf("no public URL: %d", rec.Code)
	}
}
