// Package streams is the HTTP side of live streams: the streams page (live through htmx polling,
// terminate with a reason, stream rules), a user's stream history, the thumbnail proxy, and the
// REST routes GET /streams, DELETE /streams/{server}/{session}, GET /streams/history and
// POST /streams/poll.
//
// The thumbnail proxy serves only artwork paths (plex.ValidArtworkPath, checked before any call)
// and never reveals the Plex token: the browser sees only /streams/thumb/{server}?path=…, the
// token travels from this process to Plex in a header.
package streams

import (
	"context"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Poller is what the pages need from the stream poller; *streams.Poller implements it.
type Poller interface {
	Snapshots() []streams.Snapshot
	Stream(serverID, session string) (streams.Stream, bool)
	Flagged(serverID, key string) string
	LastPoll() time.Time
	Poll(ctx context.Context) (streams.Report, error)
	Terminate(ctx context.Context, actor, serverID, session, reason string) error
	Thumb(ctx context.Context, serverID, path string) (plex.Image, error)
}

// Feature registers the stream routes.
type Feature struct {
	poller  Poller
	store   *storage.Store
	refresh time.Duration
}

// Options configure New.
type Options struct {
	// Refresh is how often an open streams page reloads the live list (default 10s).
	Refresh time.Duration
}

// New returns the feature over a poller and the store (rules setting and history).
func New(p Poller, store *storage.Store, opts Options) *Feature {
	if opts.Refresh <= 0 {
		opts.Refresh = 10 * time.Second
	}
	return &Feature{poller: p, store: store, refresh: opts.Refresh}
}

// Routes registers the pages and API routes.
func (f *Feature) Routes(r web.Router) {
	r.Page("GET", "/streams", web.RoleAuditor, f.page)
	r.Page("GET", "/streams/live", web.RoleAuditor, f.live)
	r.Page("POST", "/streams/poll", web.RoleModerator, f.pollNow)
	r.Page("POST", "/streams/rules", web.RoleAdmin, f.saveRules)
	r.Page("GET", "/streams/{server}/{session}/terminate", web.RoleModerator, f.terminateForm)
	r.Page("POST", "/streams/{server}/{session}/terminate", web.RoleModerator, f.terminate)
	r.Page("GET", "/streams/thumb/{server}", web.RoleAuditor, f.thumb)
	r.Page("GET", "/streams/history", web.RoleAuditor, f.historyPage)

	r.API("GET", "/streams", web.RoleAuditor, f.apiList, web.APIDoc{
		Summary: "Live streams of every server", Tags: []string{"streams"},
		Description: "The latest poll of each server: its streams (server, session, user_id, title, player, state, progress, transcode…) and totals.",
		Response:    StreamsResponse{},
	})
	r.API("DELETE", "/streams/{server}/{session}", web.RoleModerator, f.apiTerminate, web.APIDoc{
		Summary: "Terminate a stream", Tags: []string{"streams"},
		Description: "Stops the stream and shows the reason on the player. Needs Plex Pass on the server owner's account: " +
			"without it Plex refuses and the answer is 422 with an explanation. A stream stopped whose stop could not be " +
			"written to the event log answers 507 (data disk full), 503 (database not available) or 500, with a message " +
			"saying that the stream was stopped: do not retry.",
		Params: []web.Param{
			{Name: "server", In: web.ParamPath, Description: "server id (machineIdentifier)"},
			{Name: "session", In: web.ParamPath, Description: "the stream's session id"},
		},
		Request: TerminateRequest{}, Errors: []int{404, 422, 500, 502, 503, 507},
	})
	r.API("GET", "/streams/history", web.RoleAuditor, f.apiHistory, web.APIDoc{
		Summary: "A user's ended streams", Tags: []string{"streams"},
		Params: []web.Param{
			{Name: "user_id", In: web.ParamQuery, Required: true, Type: "integer", Format: "int64", Description: "plex.tv account id"},
			{Name: "before", In: web.ParamQuery, Description: "cursor: the next value of the previous page"},
			{Name: "limit", In: web.ParamQuery, Type: "integer", Description: "at most 1000, default 100"},
		},
		Response: HistoryResponse{},
	})
	r.API("GET", "/streams/rules", web.RoleAuditor, f.apiRules, web.APIDoc{
		Summary: "Stream rules", Tags: []string{"streams"}, Response: streams.Rules{},
	})
	r.API("PUT", "/streams/rules", web.RoleAdmin, f.apiPutRules, web.APIDoc{
		Summary: "Replace the stream rules", Tags: []string{"streams"},
		Description: "max_streams (0 = no limit), no_4k_transcode, remote_direct_play_only, dry_run and the messages shown on the player.",
		Request:     streams.Rules{}, Response: streams.Rules{},
	})
	r.API("POST", "/streams/poll", web.RoleModerator, f.apiPoll, web.APIDoc{
		Summary: "Poll every server now", Tags: []string{"streams"}, Response: PollResponse{},
	})
}
