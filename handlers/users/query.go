package users

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Limits of the list query.
const (
	maxSearch = 200
	maxPage   = 1_000_000
)

// Values of the list filters.
var (
	statuses  = []string{storage.StatusActive, storage.StatusPending, storage.StatusScheduled, storage.StatusExpired, storage.StatusRemoved}
	kinds     = []string{storage.KindFriend, storage.KindHome, storage.KindManaged, storage.KindPending}
	sortNames = []string{"username", "title", "status", "expires_at", "last_activity_at", "created_at"}
)

// parseUserQuery reads the list filters of a request (UI and API alike): q, status, kind, server,
// library, sort (a leading "-" sorts descending), desc, page and per_page. The library may be
// given as "<server id>/<key>", which sets the server (over a server parameter). The error is a *web.InputError naming
// the parameter. Server and library are checked against servers.
func parseUserQuery(v url.Values, servers []storage.Server) (storage.UserQuery, error) {
	var q storage.UserQuery
	q.Q = strings.TrimSpace(v.Get("q"))
	if utf8.RuneCountInString(q.Q) > maxSearch || !utf8.ValidString(q.Q) {
		return q, web.NewInputError("q", "must be text of at most %d characters", maxSearch)
	}
	if s := strings.TrimSpace(v.Get("status")); s != "" && s != "all" {
		if !slices.Contains(statuses, s) {
			return q, web.NewInputError("status", "must be one of %s", strings.Join(statuses, ", "))
		}
		q.Status = s
	}
	if s := strings.TrimSpace(v.Get("kind")); s != "" && s != "all" {
		if !slices.Contains(kinds, s) {
			return q, web.NewInputError("kind", "must be one of %s", strings.Join(kinds, ", "))
		}
		q.Kind = s
	}
	q.ServerID = strings.TrimSpace(v.Get("server"))
	q.Library = strings.TrimSpace(v.Get("library"))
	if srv, key, ok := strings.Cut(q.Library, "/"); ok {
		// The library names its server; it wins over a server filter (the more specific choice).
		if !slices.ContainsFunc(servers, func(s storage.Server) bool { return s.ID == srv }) {
			return q, web.NewInputError("library", "names a server that is not connected")
		}
		q.ServerID, q.Library = srv, key
	}
	if q.ServerID != "" {
		i := slices.IndexFunc(servers, func(s storage.Server) bool { return s.ID == q.ServerID })
		if i < 0 {
			return q, web.NewInputError("server", "is not a known server id")
		}
		if q.Library != "" && !slices.ContainsFunc(servers[i].Libraries, func(l storage.Library) bool { return l.Key == q.Library }) {
			return q, web.NewInputError("library", "is not a library key of that server")
		}
	} else if q.Library != "" {
		return q, web.NewInputError("library", "needs a server (give server, or library as <server id>/<key>)")
	}
	if s := strings.TrimSpace(v.Get("sort")); s != "" {
		if rest, ok := strings.CutPrefix(s, "-"); ok {
			s, q.Desc = rest, true
		}
		if !slices.Contains(sortNames, s) {
			return q, web.NewInputError("sort", "must be one of %s (a leading - sorts descending)", strings.Join(sortNames, ", "))
		}
		q.Sort = s
	}
	if s := strings.TrimSpace(v.Get("desc")); s != "" {
		b, ok := parseBool(s)
		if !ok {
			return q, web.NewInputError("desc", "must be true or false")
		}
		q.Desc = q.Desc || b
	}
	var err error
	if q.Page, err = intParam(v, "page", 1, maxPage); err != nil {
		return q, err
	}
	if q.PerPage, err = intParam(v, "per_page", 1, storage.MaxPerPage); err != nil {
		return q, err
	}
	return q, nil
}

// intParam reads an optional integer parameter within [lo, hi] (0 when absent).
func intParam(v url.Values, name string, lo, hi int) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, web.NewInputError(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

// parseBool reads the boolean spellings of query strings and forms.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "1", "true", "on", "yes":
		return true, true
	case "0", "false", "off", "no":
		return false, true
	}
	return false, false
}

// queryValues encodes q as the list's query string (only what differs from the defaults).
func queryValues(q storage.UserQuery) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Q)
	set("status", q.Status)
	set("kind", q.Kind)
	if q.Library != "" {
		set("library", q.ServerID+"/"+q.Library)
	} else {
		set("server", q.ServerID)
	}
	if q.Sort != "" && q.Sort != "username" || q.Desc {
		s := q.Sort
		if s == "" {
			s = "username"
		}
		if q.Desc {
			s = "-" + s
		}
		v.Set("sort", s)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage > 0 && q.PerPage != storage.DefaultPerPage {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	return v
}

// parseUserID reads a user id path value.
func parseUserID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id != 0
}
