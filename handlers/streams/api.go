package streams

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// apiList answers GET /streams.
func (f *Feature) apiList(w http.ResponseWriter, r *http.Request) {
	resp := StreamsResponse{Streams: []streams.Stream{}, Servers: []ServerState{}}
	for _, s := range f.poller.Snapshots() {
		resp.Streams = append(resp.Streams, s.Streams...)
		resp.Servers = append(resp.Servers, ServerState{ID: s.Server, Name: s.Name, Online: s.Online, Error: s.Error, FetchedAt: s.FetchedAt, Totals: s.Totals})
	}
	if t := f.poller.LastPoll(); !t.IsZero() {
		resp.PolledAt = &t
	}
	web.JSON(w, http.StatusOK, resp)
}

// terminateStatus maps a Terminate error to an HTTP status. A stream stopped whose stop could not
// be recorded answers the store's status (507 data disk full, 503 store closed, else 500) with a
// message saying it was stopped.
func terminateStatus(err error) int {
	switch {
	case errors.Is(err, streams.ErrNotRecorded):
		return web.ServerStatus(err)
	case errors.Is(err, streams.ErrUnknownServer), errors.Is(err, plex.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, plex.ErrPlexPassRequired), errors.Is(err, streams.ErrNoSession):
		return http.StatusUnprocessableEntity
	case errors.Is(err, plex.ErrOffline), errors.Is(err, plex.ErrUnauthorized), errors.Is(err, context.DeadlineExceeded):
		return http.StatusBadGateway
	}
	return http.StatusBadGateway
}

// apiTerminate answers DELETE /streams/{server}/{session}.
func (f *Feature) apiTerminate(w http.ResponseWriter, r *http.Request) {
	var in TerminateRequest
	if r.ContentLength != 0 && r.Header.Get("Content-Type") != "" {
		if !web.DecodeJSON(w, r, &in) {
			return
		}
	}
	if len(in.Reason) > streams.MaxReasonLength {
		web.BadInput(w, "reason", "must be at most 500 characters")
		return
	}
	p, _ := web.CurrentPrincipal(r)
	if err := f.poller.Terminate(r.Context(), p.Actor(), r.PathValue("server"), r.PathValue("session"), in.Reason); err != nil {
		web.JSONError(w, terminateStatus(err), streams.Explain(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiHistory answers GET /streams/history.
func (f *Feature) apiHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("user_id"), 10, 64)
	if err != nil || id == 0 {
		web.BadInput(w, "user_id", "must be a plex.tv account id")
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > storage.MaxEventLimit {
			web.BadInput(w, "limit", "must be between 1 and 1000")
			return
		}
	}
	list, err := streams.History(f.store, id, q.Get("before"), limit)
	if errors.Is(err, storage.ErrInvalid) {
		web.BadInput(w, "before", "is not a cursor from a previous page")
		return
	}
	if err != nil {
		web.ServerError(w, r, nil, "reading the stream history", err)
		return
	}
	resp := HistoryResponse{History: list}
	if resp.History == nil {
		resp.History = []streams.HistoryEntry{}
	}
	want := limit
	if want == 0 {
		want = storage.DefaultEventLimit
	}
	if len(list) == want {
		resp.Next = list[len(list)-1].EventID
	}
	web.JSON(w, http.StatusOK, resp)
}

// apiPoll answers POST /streams/poll.
func (f *Feature) apiPoll(w http.ResponseWriter, r *http.Request) {
	rep, err := f.poller.Poll(r.Context())
	if err != nil {
		web.JSONError(w, http.StatusBadGateway, streams.Explain(err))
		return
	}
	killed := 0
	for _, k := range rep.Kills {
		if k.Err == nil && !k.DryRun {
			killed++
		}
	}
	web.JSON(w, http.StatusOK, PollResponse{Servers: rep.Servers, Failed: rep.Failed, Streams: rep.Streams, Ended: rep.Ended, Killed: killed})
}

// apiRules answers GET /streams/rules.
func (f *Feature) apiRules(w http.ResponseWriter, r *http.Request) {
	rules, err := streams.LoadRules(f.store)
	if err != nil {
		web.ServerError(w, r, nil, "reading the stream rules", err)
		return
	}
	web.JSON(w, http.StatusOK, rules)
}

// apiPutRules answers PUT /streams/rules.
func (f *Feature) apiPutRules(w http.ResponseWriter, r *http.Request) {
	var in streams.Rules
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	if err := in.Validate(); err != nil {
		field, _, _ := strings.Cut(err.Error(), " ")
		web.BadInput(w, field, err.Error())
		return
	}
	if err := streams.SaveRules(f.store, in); err != nil {
		web.ServerError(w, r, nil, "saving the stream rules", err)
		return
	}
	p, _ := web.CurrentPrincipal(r)
	_, _ = f.store.AppendEvent(storage.Event{Type: "settings.stream_rules_changed", Actor: p.Actor(), Message: "Stream rules changed",
		Data: map[string]any{"max_streams": in.MaxStreams, "no_4k_transcode": in.No4KTranscode,
			"remote_direct_play_only": in.RemoteDirectPlayOnly, "dry_run": in.DryRun}})
	web.JSON(w, http.StatusOK, in)
}
