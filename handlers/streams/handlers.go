package streams

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// pageName is the template of the streams page.
const pageName = "admin/streams"

// liveData builds the page data.
func (f *Feature) liveData(r *http.Request) livePage {
	thumb := func(server, path string) string {
		return web.URL(r, "/streams/thumb", server) + "?path=" + url.QueryEscape(path)
	}
	d := livePage{PolledAt: f.poller.LastPoll(), Refresh: strconv.Itoa(int(f.refresh.Seconds())) + "s",
		Default: map[string]string{
			"max": streams.DefaultMaxStreamsMessage, "no4k": streams.DefaultNo4KMessage, "remote": streams.DefaultRemoteDirectMessage,
		}}
	for _, s := range f.poller.Snapshots() {
		sv := serverView{Snapshot: s, Summary: totalsSummary(s.Totals)}
		for _, st := range s.Streams {
			sv.Rows = append(sv.Rows, rowOf(st, f.poller.Flagged(st.Server, st.Key()), thumb))
		}
		d.Total += len(s.Streams)
		d.Servers = append(d.Servers, sv)
	}
	if rules, err := streams.LoadRules(f.store); err == nil {
		d.Rules = rules
	} else {
		web.FlashNow(r, web.FlashError, "The stream rules could not be read.")
	}
	return d
}

// page renders the streams page.
func (f *Feature) page(w http.ResponseWriter, r *http.Request) {
	web.Render(w, r, pageName, f.liveData(r))
}

// live renders the live list only (htmx polling).
func (f *Feature) live(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	web.Fragment(w, r, http.StatusOK, pageName, "live", f.liveData(r))
}

// pollNow polls every server and returns to the page.
func (f *Feature) pollNow(w http.ResponseWriter, r *http.Request) {
	if _, err := f.poller.Poll(r.Context()); err != nil {
		web.Flash(w, r, web.FlashError, "Polling the servers failed: "+streams.Explain(err))
	} else {
		web.Flash(w, r, web.FlashSuccess, "Streams refreshed.")
	}
	web.Redirect(w, r, "/streams")
}

// terminateView is the data of the terminate page.
type terminateView struct {
	Server, Session, Reason string
	Stream                  *streams.Stream
}

// terminateForm asks for the message to show on the player.
func (f *Feature) terminateForm(w http.ResponseWriter, r *http.Request) {
	v := terminateView{Server: r.PathValue("server"), Session: r.PathValue("session"), Reason: streams.DefaultTerminateReason}
	if st, ok := f.poller.Stream(v.Server, v.Session); ok {
		v.Stream = &st
	}
	web.Render(w, r, "admin/streams-terminate", v)
}

// terminate stops a stream from the page form.
func (f *Feature) terminate(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	server, session := r.PathValue("server"), r.PathValue("session")
	reason := r.PostForm.Get("reason")
	if len(reason) > streams.MaxReasonLength {
		web.Flash(w, r, web.FlashError, "The message is too long (at most 500 characters).")
		web.Redirect(w, r, "/streams")
		return
	}
	st, _ := f.poller.Stream(server, session)
	switch err := f.poller.Terminate(r.Context(), p.Actor(), server, session, reason); {
	case err == nil:
		web.Flash(w, r, web.FlashSuccess, "Stopped "+nameOr(st.Username, "the user")+"'s stream of "+nameOr(st.Title, "that item")+".")
	case streams.Stopped(err):
		// Stopped, but the event log lacks it (Explain says so and why).
		web.Flash(w, r, web.FlashWarning, streams.Explain(err))
	default:
		web.Flash(w, r, web.FlashError, "The stream was not stopped. "+streams.Explain(err))
	}
	web.Redirect(w, r, "/streams")
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// saveRules stores the stream rules from the page form.
func (f *Feature) saveRules(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	form := r.PostForm
	max, err := strconv.Atoi(strings.TrimSpace(form.Get("max_streams")))
	if form.Get("max_streams") == "" {
		max, err = 0, nil
	}
	rules := streams.Rules{
		MaxStreams: max, No4KTranscode: form.Get("no_4k_transcode") == "on",
		RemoteDirectPlayOnly: form.Get("remote_direct_play_only") == "on", DryRun: form.Get("dry_run") == "on",
		MaxStreamsMessage: strings.TrimSpace(form.Get("max_streams_message")), No4KMessage: strings.TrimSpace(form.Get("no_4k_message")),
		RemoteDirectMessage: strings.TrimSpace(form.Get("remote_direct_message")),
	}
	if err == nil {
		err = rules.Validate()
	} else {
		err = errors.New("the stream limit must be a number")
	}
	if err == nil {
		if err := streams.SaveRules(f.store, rules); err != nil {
			web.ServerError(w, r, nil, "saving the stream rules", err)
			return
		}
	}
	if err != nil {
		d := f.liveData(r)
		d.Rules = rules
		d.Errors = map[string]string{"rules": err.Error()}
		web.RenderStatus(w, r, http.StatusBadRequest, pageName, d)
		return
	}
	p, _ := web.CurrentPrincipal(r)
	_, _ = f.store.AppendEvent(storage.Event{Type: "settings.stream_rules_changed", Actor: p.Actor(), Message: "Stream rules changed",
		Data: map[string]any{"max_streams": rules.MaxStreams, "no_4k_transcode": rules.No4KTranscode,
			"remote_direct_play_only": rules.RemoteDirectPlayOnly, "dry_run": rules.DryRun}})
	web.Flash(w, r, web.FlashSuccess, "Stream rules saved; they apply from the next poll.")
	web.Redirect(w, r, "/streams")
}

// thumb proxies artwork. Only artwork paths are accepted; the Plex token never reaches the
// browser; images are cached privately for a day (artwork paths carry a version).
func (f *Feature) thumb(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("path")
	if !plex.ValidArtworkPath(path) {
		http.Error(w, "not an artwork path", http.StatusBadRequest)
		return
	}
	img, err := f.poller.Thumb(r.Context(), r.PathValue("server"), path)
	switch {
	case errors.Is(err, streams.ErrUnknownServer), errors.Is(err, plex.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, "the server did not send the image", http.StatusBadGateway)
		return
	}
	h := w.Header()
	h.Set("Content-Type", img.ContentType)
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(img.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img.Data)
}

// historyView is the data of the history page.
type historyView struct {
	UserID  int64
	User    storage.User
	Known   bool
	Entries []historyRow
	Next    string
}

// historyRow is one ended stream with display texts.
type historyRow struct {
	streams.HistoryEntry
	Watched string
	Device  string
}

// historyPage lists a user's ended streams.
func (f *Feature) historyPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("user"), 10, 64)
	if err != nil || id == 0 {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	list, err := streams.History(f.store, id, r.URL.Query().Get("before"), 50)
	if errors.Is(err, storage.ErrInvalid) {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	if err != nil {
		web.ServerError(w, r, nil, "reading the stream history", err)
		return
	}
	v := historyView{UserID: id}
	if u, err := f.store.CachedUser(id); err == nil {
		v.User, v.Known = u, true
	}
	for _, h := range list {
		v.Entries = append(v.Entries, historyRow{HistoryEntry: h, Watched: clock(int64(h.Watched.Seconds())),
			Device: strings.Join(nonEmpty(h.Player, h.Product, h.Platform), " · ")})
	}
	if len(list) == 50 {
		v.Next = list[len(list)-1].EventID
	}
	web.SetNav(r, "streams")
	web.Render(w, r, "admin/streams-history", v)
}
