package users

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// Hostile values that Plex (account names, server and library titles) or an admin (notes) can put
// into the store.
const (
	evilUsername = `<script>alert("user")</script>`
	evilTitle    = `"><img src=x onerror=alert("title")>`
	evilServer   = `<b onmouseover=alert("server")>Basement</b>`
	evilLibrary  = `<svg onload=alert("library")>`
	evilNotes    = `</textarea><script>alert("notes")</script>`
	evilID       = 55500001
)

// evilSeed is SeedMinimal with a hostile account, server name and library title.
func evilSeed() plextest.Seed {
	s := plextest.SeedMinimal()
	s.Servers[0].Name = evilServer
	s.Servers[0].Libraries[1].Title = evilLibrary
	s.Accounts = append(s.Accounts, plextest.Account{ID: evilID, UUID: "0123456789abcdef", Username: evilUsername, Title: evilTitle,
		Email: "evil@example.com", Token: "evil-token"})
	s.Shares = append(s.Shares, plextest.Share{ID: 907759199, MachineID: plextest.MinimalMachineID, UserID: evilID,
		SectionIDs: []int64{plextest.SectionMovies}})
	return s
}

func TestStoredXSSRendersInert(t *testing.T) {
	e := newEnv(t, envOptions{seed: evilSeed()})
	if u := e.user(evilID); u.Username != evilUsername {
		t.Fatalf("the sync did not adopt the hostile account: %+v", u)
	}
	rec := e.srv.API("PATCH", fmt.Sprintf("/users/%d", evilID), web.RoleModerator,
		`{"notes":`+fmt.Sprintf("%q", evilNotes)+`,"expires_at":"`+t0.Add(48*time.Hour).Format(time.RFC3339)+`"}`)
	wantStatus(t, rec, http.StatusOK, "PATCH notes")
	// A change made in Plex, so the sync page lists the hostile names too.
	sh, _ := e.shareOf(evilID)
	changeFakeShare(t, e, sh.ID, []string{"4", "8"})
	e.clock.Add(40 * 24 * time.Hour)

	pages := []struct {
		method, path string
		as           web.Role
		body         []string
	}{
		{"GET", "/users", web.RoleAuditor, nil},
		{"GET", "/users?q=script", web.RoleAuditor, nil},
		{"GET", fmt.Sprintf("/users/%d", evilID), web.RoleModerator, nil},
		{"GET", fmt.Sprintf("/users/%d", evilID), web.RoleAuditor, nil},
		{"GET", fmt.Sprintf("/users/%d/remove", evilID), web.RoleModerator, nil},
		{"GET", fmt.Sprintf("/users/bulk?id=%d", evilID), web.RoleModerator, nil},
		{"POST", "/users/bulk/preview", web.RoleModerator, []string{"id", fmt.Sprint(evilID), "lib_mode", "add", "lib", srvID + "/1"}},
		{"GET", "/", web.RoleAuditor, nil},
		{"GET", "/servers", web.RoleAuditor, nil},
		{"GET", "/schedule", web.RoleAuditor, nil},
		{"POST", "/sync", web.RoleModerator, []string{}},
		{"GET", "/purge", web.RoleAdmin, nil},
		{"GET", "/users/invite", web.RoleModerator, nil},
		{"GET", "/users/home", web.RoleModerator, nil},
	}
	for _, p := range pages {
		var body io.Reader
		if p.body != nil {
			body = form(p.body...)
		}
		rec := e.srv.Do(p.method, p.path, p.as, body)
		if rec.Code != http.StatusOK {
			t.Errorf("%s %s: status %d", p.method, p.path, rec.Code)
			continue
		}
		b := rec.Body.String()
		for _, raw := range []string{"<script>alert(", "<img src=x", "<svg onload", "<b onmouseover", "</textarea><script"} {
			if strings.Contains(b, raw) {
				t.Errorf("%s %s (%s): %q appears unescaped", p.method, p.path, p.as, raw)
			}
		}
		if !strings.Contains(b, "&lt;script&gt;alert(") && !strings.Contains(b, "&lt;svg onload") && !strings.Contains(b, "&lt;b onmouseover") {
			t.Errorf("%s %s: no escaped hostile value shown (test does not cover this page)\n%s", p.method, p.path, b)
		}
	}
	// The JSON API escapes too (a script that reads it into HTML is its own business, but the
	// document must not be HTML-interpretable).
	rec = e.srv.API("GET", fmt.Sprintf("/users/%d", evilID), web.RoleAuditor, "")
	if strings.Contains(rec.Body.String(), "<script>") || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("API answer: %s %s", rec.Header().Get("Content-Type"), rec.Body.String())
	}
}
