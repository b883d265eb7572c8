package users

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// dateCell matches a table cell that starts with a <time> element (possibly inside a link), with its
// class attribute.
var dateCell = regexp.MustCompile(`<td( class="[^"]*")?>(?:<a [^>]*>)?<time `)

// TestDateCellsDoNotWrap: the When column of a user's history, the expiry and last-activity columns
// of the list, the When columns of the schedule (coming up, last passes) and the checked column of
// the dashboard's servers keep each date on one line.
func TestDateCellsDoNotWrap(t *testing.T) {
	e := newEnv(t, envOptions{})
	later := t0.Add(30 * 24 * time.Hour)
	if _, err := e.svc.UpdateUser(context.Background(), "admin:root", aliceID, access.UserPatch{ExpiresAt: &later}); err != nil {
		t.Fatalf("setting an expiry: %v", err)
	}
	for _, c := range []struct {
		page string
		min  int
	}{{fmt.Sprintf("/users/%d", aliceID), 1}, {"/users", 1}, {"/schedule", 2}, {"/", 1}} {
		rec := e.srv.Do("GET", c.page, web.RoleAuditor, nil)
		wantStatus(t, rec, http.StatusOK, c.page)
		cells := dateCell.FindAllStringSubmatch(rec.Body.String(), -1)
		if len(cells) < c.min {
			t.Fatalf("%s: %d date cells, want at least %d", c.page, len(cells), c.min)
		}
		for _, m := range cells {
			if !strings.Contains(m[1], "nowrap") {
				t.Errorf("%s: a date cell may wrap: %q", c.page, m[0])
			}
		}
	}
}
