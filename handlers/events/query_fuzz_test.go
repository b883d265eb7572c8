package events

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/logbuf"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// eventQueryFields are the parameters parseQuery reads; an error names one of them.
var eventQueryFields = []string{"type", "user_id", "user", "since", "until", "limit"}

func FuzzEventQuery(f *testing.F) {
	for _, s := range []string{
		"", "type=invite.&actor=admin&user_id=22526914&since=2026-01-01&limit=50",
		"type=user.removed&until=2026-02-01T10:00:00Z", "since=2026-01-01T00:00:00%2B01:00",
		"user=5&user_id=7", "user_id=0", "type=a/b", "type=a%20b", "since=yesterday", "limit=0", "limit=1001",
		"before=01HZX&limit=1", "actor=%20%20", "type=" + strings.Repeat("x", 101),
		// notes/fuzz-findings.md E1 (sub-second and end-of-day bounds) and E2 (years out of range).
		"until=2026-01-01", "since=2026-01-01T10:00:00.5Z",
		"since=0000-01-01T00:00:00%2B01:00", "until=9999-12-31T23:00:00-05:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		q, err := parseQuery(v)
		if err != nil {
			var ie *web.InputError
			if !errors.As(err, &ie) || !slices.Contains(eventQueryFields, ie.Field) {
				t.Fatalf("parseQuery(%q) = %#v, want an InputError naming a parameter", raw, err)
			}
			return
		}
		if len(q.Type) > 100 || strings.ContainsAny(q.Type, "/ \x00") || q.Type != strings.TrimSpace(q.Type) {
			t.Fatalf("type %q accepted", q.Type)
		}
		if q.Limit < 0 || q.Limit > storage.MaxEventLimit {
			t.Fatalf("limit %d accepted", q.Limit)
		}
		for name, at := range map[string]time.Time{"since": q.Since, "until": q.Until} {
			if !at.IsZero() && at.Location() != time.UTC {
				t.Fatalf("%s %v is not UTC", name, at)
			}
		}
		// The next-page and export links (filterValues) must select the same events: the same
		// filters, to the nanosecond.
		enc := filterValues(q).Encode()
		back, _ := url.ParseQuery(enc)
		again, err := parseQuery(back)
		if err != nil {
			t.Fatalf("the link %q of %q does not parse: %v", enc, raw, err)
		}
		if again.Type != q.Type || again.Actor != q.Actor || again.UserID != q.UserID ||
			!again.Since.Equal(q.Since) || !again.Until.Equal(q.Until) {
			t.Fatalf("round trip of %q through %q: %+v became %+v", raw, enc, q, again)
		}
	})
}

func FuzzLogQuery(f *testing.F) {
	for _, s := range []string{"", "level=debug&q=%20plex%20&follow=1", "level=error", "level=nope", "follow=true",
		// notes/fuzz-findings.md E3: other spellings and levels the page does not offer.
		"level=WARN", "level=Error", "level=dpanic", "level=panic", "level=fatal"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		q, lv := logQuery(v)
		if q.Text != lv.Q || lv.Q != strings.TrimSpace(lv.Q) || q.Limit != logRowsShown {
			t.Fatalf("logQuery(%q) = %+v, %+v", raw, q, lv)
		}
		if lv.Follow != (v.Get("follow") == "1") {
			t.Fatalf("follow %t for %q", lv.Follow, v.Get("follow"))
		}
		// The level shown is one the page offers, and it is the level filtered on.
		if !slices.Contains(logbuf.Levels(), lv.Level) || q.MinLevel.String() != lv.Level {
			t.Fatalf("level %q (filter %v) for %q; the page offers %q", lv.Level, q.MinLevel, v.Get("level"), logbuf.Levels())
		}
	})
}
