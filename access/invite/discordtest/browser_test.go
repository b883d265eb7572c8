package discordtest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access/invite/discordtest"
	"github.com/plex-manager/caddy-plex-manager/internal/fataltest"
)

func TestAuthorize(t *testing.T) {
	const back = "https://join.example.com/discord/callback"
	authURL := func(fake *discordtest.Server, clientID string) string {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {back}, "response_type": {"code"},
			"scope": {"identify"}, "state": {"st-1"}}
		return fake.AuthURL() + "?" + q.Encode()
	}
	tests := []struct {
		name      string
		deny      bool
		clientID  string // "" for the fake's own
		wantQuery string // a query parameter the redirect must carry
		wantFatal string // part of the Fatal message, "" for none
	}{
		{name: "approved", wantQuery: "code"},
		{name: "denied", deny: true, wantQuery: "error"},
		{name: "not a redirect", clientID: "999", wantFatal: "status 400, want 302"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := discordtest.NewServer(t, discordtest.Options{})
			u := fake.AddUser(discordtest.User{ID: "200000000000000001", Username: "dave_d"})
			fake.SignIn(u.ID)
			if tc.deny {
				fake.Deny()
			}
			clientID := tc.clientID
			if clientID == "" {
				clientID = fake.ClientID()
			}
			var loc *url.URL
			msg, fatal := fataltest.Run(t, func(tb testing.TB) { loc = discordtest.Authorize(tb, authURL(fake, clientID)) })
			if tc.wantFatal != "" {
				if !fatal || !strings.Contains(msg, tc.wantFatal) {
					t.Fatalf("Fatal %v %q, want %q", fatal, msg, tc.wantFatal)
				}
				return
			}
			if fatal {
				t.Fatalf("Authorize failed the test: %s", msg)
			}
			q := loc.Query()
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != back || q.Get("state") != "st-1" || q.Get(tc.wantQuery) == "" {
				t.Errorf("redirect to %s, want %s with state st-1 and %s", loc, back, tc.wantQuery)
			}
		})
	}
}
