package streams

import (
	"regexp"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

func TestTotalsSummary(t *testing.T) {
	for _, c := range []struct {
		name   string
		totals streams.Totals
		want   string
	}{
		{"none", streams.Totals{}, "0 streams · 0 transcoding · 0 direct plays · 0 direct streams · 0 kbit/s"},
		{"one of each", streams.Totals{Streams: 3, Transcodes: 1, DirectPlays: 1, DirectStreams: 1, Bandwidth: 12500},
			"3 streams · 1 transcoding · 1 direct play · 1 direct stream · 12.5 Mbit/s"},
		{"one stream", streams.Totals{Streams: 1, DirectPlays: 1, Bandwidth: 800}, "1 stream · 0 transcoding · 1 direct play · 0 direct streams · 800 kbit/s"},
		{"several", streams.Totals{Streams: 5, Transcodes: 2, DirectPlays: 2, DirectStreams: 1}, "5 streams · 2 transcoding · 2 direct plays · 1 direct stream · 0 kbit/s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := totalsSummary(c.totals); got != c.want {
				t.Errorf("totalsSummary = %q, want %q", got, c.want)
			}
		})
	}
}

// totalsLine matches the totals paragraph of a server section.
var totalsLine = regexp.MustCompile(`(?s)<p class="muted" data-totals>\s*(.*?)\s*</p>`)

func TestStreamsPageTotalsOfOneStream(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Transcode: true})
	e.poll(t)
	body := e.srv.Do("GET", "/streams", web.RoleAuditor, nil).Body.String()
	m := totalsLine.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no totals line in:\n%s", body)
	}
	if !strings.HasPrefix(m[1], "1 stream · 1 transcoding · 0 direct plays · 0 direct streams · ") {
		t.Errorf("totals = %q", m[1])
	}
}
