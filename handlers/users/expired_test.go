package users

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// rowOf returns the list row (the <tr>…</tr>) holding the link to a user's page.
func rowOf(t *testing.T, body string, id int64) string {
	t.Helper()
	link := strings.Index(body, fmt.Sprintf(`href="/m/users/%d"`, id))
	start := strings.LastIndex(body[:max(link, 0)], "<tr>")
	end := strings.Index(body[max(link, 0):], "</tr>")
	if link < 0 || start < 0 || end < 0 {
		t.Fatalf("no row for user %d in:\n%s", id, body)
	}
	return body[start : link+end]
}

// TestExpiredShareIsNotShownAsShared: once an expiry took carol's share off Plex, the list and her
// page say the server is not shared any more (the record keeps its libraries for a renewal), while
// bob's live share reads as before.
func TestExpiredShareIsNotShownAsShared(t *testing.T) {
	e := newEnv(t, envOptions{})
	past := t0.Add(-time.Hour)
	if _, err := e.svc.UpdateUser(context.Background(), "admin:root", carolID, access.UserPatch{ExpiresAt: &past}); err != nil {
		t.Fatalf("expiring carol: %v", err)
	}
	if _, ok := e.shareOf(carolID); ok {
		t.Fatal("carol is still shared on the fake")
	}
	if sh, ok := e.user(carolID).Shares[srvID]; !ok || sh.ShareID != 0 {
		t.Fatalf("carol's remembered share = %+v (%v)", sh, ok)
	}

	list := e.srv.Do("GET", "/users?status=", web.RoleAuditor, nil)
	wantStatus(t, list, http.StatusOK, "list")
	body := list.Body.String()
	if row := rowOf(t, body, carolID); !strings.Contains(row, "Basement (not on Plex)</span>") {
		t.Errorf("carol's row does not say Basement is not on Plex:\n%s", row)
	}
	if row := rowOf(t, body, bobID); !strings.Contains(row, "<td>Basement</td>") {
		t.Errorf("bob's row lost his live share:\n%s", row)
	}

	page := e.srv.Do("GET", fmt.Sprintf("/users/%d", carolID), web.RoleAuditor, nil)
	wantStatus(t, page, http.StatusOK, "carol's page")
	shares := page.Body.String()
	if i := strings.Index(shares, `id="shares-title"`); i >= 0 {
		shares = shares[i:]
		shares = shares[:strings.Index(shares, "</section>")]
	}
	if !strings.Contains(shares, ">not on Plex</span>") || strings.Contains(shares, ">shared</span>") {
		t.Errorf("carol's page shows her expired share as shared:\n%s", shares)
	}
	page = e.srv.Do("GET", fmt.Sprintf("/users/%d", bobID), web.RoleAuditor, nil)
	if b := page.Body.String(); !strings.Contains(b, ">shared</span>") || strings.Contains(b, ">not on Plex</span>") {
		t.Error("bob's page does not show his live share as shared")
	}
}
