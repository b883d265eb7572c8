package notify

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// closedAddr returns a local address nothing listens on: a connection to it is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestFailedEventNamesNoURL: the audit log's notify.failed event says what kind of failure it was
// (the status, no answer, the service refused) and never carries the delivery URL or its
// credentials, however short they are and whatever the receiver or the HTTP client says.
func TestFailedEventNamesNoURL(t *testing.T) {
	const token = "tok5x" // short: too short for the answer redaction, a secret all the same
	echo := newReceiver(t, 99, http.StatusInternalServerError)
	echo.body = "no hook with token " + token + " at /hooks/" + token
	closed := closedAddr(t)
	tests := []struct {
		name     string
		settings Settings
		channel  string
		reason   string
		secrets  []string // in neither the event nor the delivery log
		answered bool     // the receiver answered: the delivery log shows its answer, redacted
	}{
		{"webhook, connection refused",
			Settings{WebhookURL: "http://" + closed + "/hooks/" + token + "?key=k3y9", WebhookSecret: "whsec-abcdef"},
			ChannelWebhook, "no answer", []string{token, "k3y9", closed, "whsec-abcdef"}, false},
		{"webhook, the answer quotes the token",
			Settings{WebhookURL: echo.srv.URL + "/hooks/" + token},
			ChannelWebhook, "HTTP 500", []string{token, echo.srv.URL}, true},
		{"Discord, connection refused",
			Settings{DiscordWebhookURL: "http://" + closed + "/api/webhooks/1/" + token},
			ChannelDiscord, "no answer", []string{token, closed}, false},
		{"shoutrrr, connection refused",
			Settings{ShoutrrrURLs: []string{"generic://" + closed + "/hooks/" + token + "?disabletls=yes&key=k3y9"}},
			ChannelShoutrrr + ":1", "the service did not take the message", []string{token, "k3y9", closed, "/hooks"}, false},
		{"shoutrrr, the answer quotes the token",
			Settings{ShoutrrrURLs: []string{"generic+" + echo.srv.URL + "/hooks/" + token}},
			ChannelShoutrrr + ":1", "the service did not take the message", []string{token, echo.srv.URL}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, store, _ := newTestNotifier(t, func(o *Options) { o.Retries = -1 })
			tt.settings.Kinds = []string{KindServerOffline}
			if _, err := n.SaveSettings("admin:root", tt.settings); err != nil {
				t.Fatal(err)
			}
			n.Notify(storage.Event{Type: "server.offline", Message: "Basement is offline"})
			n.Flush(context.Background())
			failed := events(t, store, EventFailed)
			if len(failed) != 1 {
				t.Fatalf("failure events = %+v, want one", failed)
			}
			ev := failed[0]
			if got, _ := ev.Data["error"].(string); got != tt.reason {
				t.Errorf("recorded error = %q, want %q", got, tt.reason)
			}
			if ev.Data["channel"] != tt.channel || !strings.Contains(ev.Message, tt.channel) || !strings.HasSuffix(ev.Message, ": "+tt.reason) {
				t.Errorf("event = %q %v", ev.Message, ev.Data)
			}
			recorded := toJSON(t, ev)
			for _, s := range tt.secrets {
				if strings.Contains(recorded, s) {
					t.Errorf("the event carries %q: %s", s, recorded)
				}
			}
			// The delivery log has the detail; the URL is not part of it.
			d := n.Deliveries()
			if len(d) != 1 || d[0].OK || d[0].Error == "" {
				t.Fatalf("delivery log = %+v", d)
			}
			if tt.answered {
				return
			}
			for _, s := range []string{token, "k3y9", "/hooks/", "/webhooks/"} {
				if strings.Contains(d[0].Error, s) {
					t.Errorf("the delivery log carries %q: %q", s, d[0].Error)
				}
			}
		})
	}
}
