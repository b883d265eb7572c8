package events

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// parseTime reads an RFC 3339 time or a date; a date as upper bound means the end of that day.
// A time whose UTC year RFC 3339 cannot write (before 0000 or after 9999, reachable through an
// offset) is refused, so every accepted filter can be written back into a link.
func parseTime(s string, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		t = t.UTC()
	} else if t, err = time.Parse("2006-01-02", s); err == nil && end {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	if err != nil || t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// parseQuery reads the event filters of a request; the error names the field.
func parseQuery(v url.Values) (storage.EventQuery, error) {
	var q storage.EventQuery
	q.Type = strings.TrimSpace(v.Get("type"))
	if q.Type != "" && (len(q.Type) > 100 || strings.ContainsAny(q.Type, "/ \x00")) {
		return q, web.NewInputError("type", "is not an event type")
	}
	q.Actor = strings.TrimSpace(v.Get("actor"))
	for _, name := range []string{"user_id", "user"} {
		if s := strings.TrimSpace(v.Get(name)); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id == 0 {
				return q, web.NewInputError(name, "must be a plex.tv account id")
			}
			q.UserID = id
		}
	}
	if s := v.Get("since"); s != "" {
		t, ok := parseTime(s, false)
		if !ok {
			return q, web.NewInputError("since", "must be a date (YYYY-MM-DD) or an RFC 3339 time")
		}
		q.Since = t
	}
	if s := v.Get("until"); s != "" {
		t, ok := parseTime(s, true)
		if !ok {
			return q, web.NewInputError("until", "must be a date (YYYY-MM-DD) or an RFC 3339 time")
		}
		q.Until = t
	}
	q.Before = strings.TrimSpace(v.Get("before"))
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > storage.MaxEventLimit {
			return q, web.NewInputError("limit", "must be between 1 and 1000")
		}
		q.Limit = n
	}
	return q, nil
}

// filterValues turns a query back into URL values (without cursor and limit).
func filterValues(q storage.EventQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("type", q.Type)
	set("actor", q.Actor)
	if q.UserID != 0 {
		v.Set("user_id", strconv.FormatInt(q.UserID, 10))
	}
	// To the nanosecond: the next page and the exports select exactly the page's events (a date
	// as upper bound is the day's last nanosecond).
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	return v
}
