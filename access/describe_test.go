package access

import (
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestDescribeDiff(t *testing.T) {
	servers := map[string]storage.Server{srvID: {ID: srvID, Name: "Basement", Libraries: []storage.Library{
		{Key: "1", Title: "Music"}, {Key: "4", Title: "Movies"}, {Key: "8", Title: "TV Shows"}}}}
	at := time.Date(2025, 7, 1, 9, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		diff map[string]FieldDiff
		want string
	}{
		{"nothing", nil, "nothing changed"},
		{"libraries by title", map[string]FieldDiff{"libraries." + srvID: {[]string{"4"}, []string{"1", "4"}}},
			"libraries on Basement (Movies → Music, Movies)"},
		{"every library dropped", map[string]FieldDiff{"libraries." + srvID: {EveryLibrary{All: true, Libraries: []string{"1", "4", "8"}}, []string{"4", "8"}}},
			"libraries on Basement (all libraries (incl. future) → Movies, TV Shows)"},
		{"share removed", map[string]FieldDiff{"libraries." + srvID: {[]string{"4"}, nil}}, "libraries on Basement (Movies → none)"},
		{"unknown library and server", map[string]FieldDiff{"libraries.gone": {[]string{"7"}, []string{}}}, "libraries on gone (7 → none)"},
		{"several, sorted", map[string]FieldDiff{"allow_downloads." + srvID: {false, true}, "whitelisted": {true, false}},
			"downloads on Basement (no → yes), whitelisted (yes → no)"},
		{"times", map[string]FieldDiff{"expires_at": {(*time.Time)(nil), &at}}, "expiry (none → 2025-07-01 09:30 UTC)"},
		{"stream limit", map[string]FieldDiff{"stream_limit": {0, 3}}, "stream limit (default → 3)"},
		{"private or long values unsaid", map[string]FieldDiff{"notes": {"", "owes me a beer"},
			"filters." + srvID: {storage.Filters{}, storage.Filters{Movies: "label!=adult"}}},
			"restrictions on Basement, notes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := describeDiff(c.diff, servers); got != c.want {
				t.Errorf("describeDiff = %q, want %q", got, c.want)
			}
		})
	}
}

// TestEventMessagesNameServers: the messages people read name servers and libraries; the ids stay in
// the event's data.
func TestEventMessagesNameServers(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	no := false
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{AllowDownloads: &no,
		Libraries: map[string][]string{srvID: {"1", "4", "8"}}})
	mustOK(t, err, "UpdateUser")
	mustOK(t, h.svc.RevokeShare(h.ctx, "admin:root", carolID, srvID, "test"), "RevokeShare")
	_, err = h.svc.Grant(h.ctx, "admin:root", GrantRequest{UserID: daveID, Username: "dave", Libraries: map[string][]string{srvID: {"4"}}})
	mustOK(t, err, "Grant")

	for _, c := range []struct {
		event string
		want  string
	}{
		{EventUserUpdated, "alice edited: downloads on Basement (yes → no), libraries on Basement (Movies, TV Shows → Music, Movies, TV Shows)"},
		{EventUserUnshared, "carol's share of Basement removed"},
		{EventUserJoined, "dave was given access to Basement"},
	} {
		evs := h.events(c.event)
		if len(evs) != 1 {
			t.Fatalf("%d %s events", len(evs), c.event)
		}
		ev := evs[0]
		if !strings.HasPrefix(ev.Message, c.want) || strings.Contains(ev.Message, srvID[:8]) {
			t.Errorf("%s message = %q, want %q without the server id", c.event, ev.Message, c.want)
		}
		if ev.ServerID != srvID {
			t.Errorf("%s event lost its server id: %+v", c.event, ev)
		}
	}
	diff, _ := h.events(EventUserUpdated)[0].Data["diff"].(map[string]any)
	if _, ok := diff["libraries."+srvID]; !ok {
		t.Errorf("the edit's data lost the server id: %+v", diff)
	}
}
