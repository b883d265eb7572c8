package events

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// whenCell matches a table cell holding a <time> element, with its class attribute.
var whenCell = regexp.MustCompile(`<td( class="[^"]*")?>(?:<a [^>]*>)?<time `)

// TestWhenCellsDoNotWrap: the When column of the events table and of the notification delivery log
// keeps each date on one line.
func TestWhenCellsDoNotWrap(t *testing.T) {
	e := newEnv(t)
	e.seed(t, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC))
	if rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader("webhook_url=http%3A%2F%2F127.0.0.1%3A1%2Fhook")); rec.Code != 303 {
		t.Fatalf("saving the webhook = %d", rec.Code)
	}
	if rec := e.admin.Do("POST", "/notifications/test", web.RoleAdmin, strings.NewReader("channel=webhook")); rec.Code != 303 {
		t.Fatalf("test delivery = %d", rec.Code)
	}
	for _, c := range []struct {
		page string
		rows int
	}{{"/events", 4}, {"/notifications", 1}} {
		body := e.admin.Do("GET", c.page, web.RoleAdmin, nil).Body.String()
		cells := whenCell.FindAllStringSubmatch(body, -1)
		if len(cells) < c.rows {
			t.Fatalf("%s: %d date cells, want %d:\n%s", c.page, len(cells), c.rows, body)
		}
		for _, m := range cells {
			if !strings.Contains(m[1], "nowrap") {
				t.Errorf("%s: a date cell may wrap: %q", c.page, m[0])
			}
		}
	}
}
