package users

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// fuzzServers are the connected servers the fuzzed list queries are checked against.
var fuzzServers = []storage.Server{
	{ID: "93c418a691854d3be47ead674134d86a3f5e00f4", Libraries: []storage.Library{{Key: "1"}, {Key: "4"}, {Key: "8"}}},
	{ID: "0b1c2d3e4f", Libraries: []storage.Library{{Key: "12"}}},
}

// userQueryFields are the parameters parseUserQuery reads; an error names one of them.
var userQueryFields = []string{"q", "status", "kind", "server", "library", "sort", "desc", "page", "per_page"}

// normalUserQuery fills in the defaults, so two queries that list the same page compare equal.
func normalUserQuery(q storage.UserQuery) storage.UserQuery {
	if q.Sort == "" {
		q.Sort = "username"
	}
	if q.Page <= 1 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = storage.DefaultPerPage
	}
	return q
}

func FuzzUserQuery(f *testing.F) {
	for _, s := range []string{
		"", "q=alice&status=active&kind=friend&sort=-expires_at&page=2&per_page=50",
		"status=all&kind=all&sort=title&desc=yes", "library=93c418a691854d3be47ead674134d86a3f5e00f4/4",
		"server=0b1c2d3e4f&library=12", "server=0b1c2d3e4f&library=4", "library=4", "library=nope/4",
		"sort=-", "sort=--username", "desc=maybe", "page=0", "page=+3", "per_page=1000000", "q=%ff",
		"q=" + strings.Repeat("x", 201), "q=%20%20padded%20%20&status=%20pending%20", "desc=false&sort=-status",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // r.URL.Query() drops what it cannot read the same way
		q, err := parseUserQuery(v, fuzzServers)
		if err != nil {
			var ie *web.InputError
			if !errors.As(err, &ie) || !slices.Contains(userQueryFields, ie.Field) {
				t.Fatalf("parseUserQuery(%q) = %#v, want an InputError naming a parameter", raw, err)
			}
			// Messages are fixed texts: a value with a byte no message has is never echoed.
			val := strings.TrimSpace(v.Get(ie.Field))
			if val != "" && strings.ContainsFunc(val, func(r rune) bool { return r < ' ' || r > '~' }) && strings.Contains(ie.Message, val) {
				t.Fatalf("message %q echoes the value %q", ie.Message, val)
			}
			return
		}
		if q.Q != strings.TrimSpace(q.Q) || !utf8.ValidString(q.Q) || utf8.RuneCountInString(q.Q) > maxSearch {
			t.Fatalf("search %q accepted", q.Q)
		}
		if q.Status != "" && !slices.Contains(statuses, q.Status) || q.Kind != "" && !slices.Contains(kinds, q.Kind) ||
			q.Sort != "" && !slices.Contains(sortNames, q.Sort) {
			t.Fatalf("unknown filter accepted: %+v", q)
		}
		if q.Page < 0 || q.Page > maxPage || q.PerPage < 0 || q.PerPage > storage.MaxPerPage {
			t.Fatalf("paging out of range: %+v", q)
		}
		if q.ServerID != "" {
			i := slices.IndexFunc(fuzzServers, func(s storage.Server) bool { return s.ID == q.ServerID })
			if i < 0 {
				t.Fatalf("unknown server %q accepted", q.ServerID)
			}
			if q.Library != "" && !slices.ContainsFunc(fuzzServers[i].Libraries, func(l storage.Library) bool { return l.Key == q.Library }) {
				t.Fatalf("library %q is not on server %q", q.Library, q.ServerID)
			}
		} else if q.Library != "" {
			t.Fatalf("library %q without a server", q.Library)
		}
		// The links of the list page (queryValues) list the same users.
		enc := queryValues(q).Encode()
		back, _ := url.ParseQuery(enc)
		again, err := parseUserQuery(back, fuzzServers)
		if err != nil {
			t.Fatalf("the link %q of %q does not parse: %v", enc, raw, err)
		}
		if normalUserQuery(again) != normalUserQuery(q) {
			t.Fatalf("round trip of %q through %q: %+v became %+v", raw, enc, q, again)
		}
	})
}
