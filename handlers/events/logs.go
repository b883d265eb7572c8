package events

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/logbuf"
)

// logRowsShown caps the lines the log page shows.
const logRowsShown = 500

// logsView is the data of the log page and its rows fragment.
type logsView struct {
	Level    string
	Q        string
	Follow   bool
	Levels   []string
	Entries  []logbuf.Entry
	RowsURL  string
	Download string
	Dropped  uint64
	Capacity int
}

// logQuery reads the filters of the log page.
func logQuery(v url.Values) (logbuf.Query, logsView) {
	lv := logsView{Level: v.Get("level"), Q: strings.TrimSpace(v.Get("q")), Follow: v.Get("follow") == "1", Levels: logbuf.Levels()}
	q := logbuf.Query{MinLevel: zapcore.InfoLevel, Text: lv.Q, Limit: logRowsShown}
	if lv.Level == "" {
		lv.Level = "info"
	}
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(lv.Level)); err != nil {
		l = zapcore.InfoLevel
	}
	// The page offers logbuf.Levels(): any other spelling zap accepts ("WARN") becomes its own
	// name, and the levels above error (dpanic, panic, fatal) become error, so the level shown and
	// carried by the links is the one filtered on.
	if !slices.Contains(lv.Levels, l.String()) && l > zapcore.ErrorLevel {
		l = zapcore.ErrorLevel
	}
	q.MinLevel, lv.Level = l, l.String()
	return q, lv
}

// logsData builds the log view, newest entries first.
func (f *Feature) logsData(r *http.Request) logsView {
	q, v := logQuery(r.URL.Query())
	entries := f.logs.Entries(q)
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	v.Entries = entries
	params := url.Values{"level": {v.Level}}
	if v.Q != "" {
		params.Set("q", v.Q)
	}
	if v.Follow {
		params.Set("follow", "1")
	}
	v.RowsURL = web.URL(r, "/logs/rows") + "?" + params.Encode()
	params.Del("follow")
	params.Set("format", "text")
	v.Download = web.URL(r, "/logs/download") + "?" + params.Encode()
	v.Dropped, v.Capacity = f.logs.Dropped(), f.logs.Capacity()
	return v
}

// logsPage renders the log viewer.
func (f *Feature) logsPage(w http.ResponseWriter, r *http.Request) {
	web.Render(w, r, "admin/logs", f.logsData(r))
}

// logRows renders the log table only (follow mode polls it).
func (f *Feature) logRows(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	web.Fragment(w, r, http.StatusOK, "admin/logs", "log-rows", f.logsData(r))
}

// logDownload sends the matching lines (all kept, oldest first) as text or JSON lines.
func (f *Feature) logDownload(w http.ResponseWriter, r *http.Request) {
	q, _ := logQuery(r.URL.Query())
	q.Limit = 0
	entries := f.logs.Entries(q)
	stamp := time.Now().UTC().Format("20060102-150405")
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("format") == "json" {
		h.Set("Content-Type", "application/x-ndjson")
		h.Set("Content-Disposition", `attachment; filename="plex-manager-`+stamp+`.jsonl"`)
		_ = logbuf.WriteJSONLines(w, entries)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="plex-manager-`+stamp+`.log"`)
	_ = logbuf.WriteText(w, entries)
}
