// Package users is the admin side of the people who use the Plex servers: the dashboard, the user
// list (search, filters, sorting, paging that stays fast at 10,000 users), a user's page with every
// setting editable and pushed to Plex at once, removal, bulk edits with a preview, pending
// invitations, direct invitations, the Plex Home and its managed users, the servers, and the manual
// sync, enforcement and purge with the schedule page. It registers its pages and REST routes through
// the handlers/web kit; the decisions and every Plex change live in package access.
//
// # Pages (below the admin base path)
//
//	GET  /                                the dashboard: counts, servers, recent events, upcoming changes, alerts
//	GET  /users                           list (htmx live search; the form works without JavaScript)
//	GET  /users/{id}                      one user; POST …/libraries, …/access, …/window, …/notes edit it
//	GET  /users/{id}/remove, POST         confirm, then revoke on Plex and record
//	GET  /users/bulk                      bulk form for the chosen users; POST …/preview, then …/apply
//	GET  /users/pending                   pending invitations; POST …/{user}/{server}/resend|cancel
//	GET  /users/invite, POST              invite a Plex user by username or email, without a link
//	GET  /users/home                      Plex Home members; POST /users/home/managed creates one;
//	                                      GET/POST /users/home/{id}/remove removes one
//	GET  /servers, POST /servers/refresh  servers with status, version, latency and libraries
//	GET  /schedule                        upcoming starts and expiries, the last passes
//	GET  /sync, POST /sync, POST /sync/confirm     sync now; confirm a held shrink
//	GET  /enforce, POST /enforce          run one enforcement pass now
//	GET  /purge, POST /purge              preview, then purge exactly the previewed users
//	GET  /schedule/settings, POST         the engine's purge rules and safety limits (and the loop
//	                                      intervals from the Caddyfile, read-only)
//
// # Roles
//
// Auditors read everything and change nothing. Moderators edit, remove and invite users, run
// sync and enforcement and refresh servers. Purging, confirming a held sync shrink, enforcing
// above the removal cap and changing the engine settings need an admin.
//
// # REST API (below {base}/api/v1; see openapi.json)
//
// GET /servers, GET /servers/{id}/libraries, POST /servers/refresh; GET /users (q, status, kind,
// server, library, sort, desc, page, per_page), GET/PATCH/DELETE /users/{id}; POST
// /users/bulk/preview and /users/bulk; GET /pending-invites, POST
// /pending-invites/{user}/{server}/resend, DELETE /pending-invites/{user}/{server}; POST
// /users/invite; GET /home/members, POST /home/managed, DELETE /home/managed/{id}; POST /sync,
// POST /sync/confirm, POST /enforce, POST /purge/preview, POST /purge; GET /schedule; GET and PUT
// /settings/access (the engine settings).
package users

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Options configure New. Engine and Store are required.
type Options struct {
	// Engine carries out every change (the *access.Service).
	Engine Engine
	// Store is the database the pages read users, servers, invites and events from.
	Store *storage.Store
	// StreamCounts returns the live streams per server id (the stream poller's StreamCounts). Nil:
	// the dashboard shows no stream count.
	StreamCounts func() map[string]int
	// Logger receives errors the pages cannot show (default: discard).
	Logger *zap.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Intervals are the periods the root gave the engine's background loops (the same value passed
	// to access.Service.Loops; zero fields are the engine's defaults). The engine settings page
	// shows them read-only. Nil: the page does not show them.
	Intervals *access.Intervals
}

// Feature is the users feature: pass it in handlers.Deps.Features.
type Feature struct {
	engine  Engine
	store   *storage.Store
	streams func() map[string]int
	log     *zap.Logger
	now     func() time.Time
	// intervals are Options.Intervals (a copy), nil when not given.
	intervals *access.Intervals
}

// New checks opts and returns the feature.
func New(opts Options) (*Feature, error) {
	if opts.Engine == nil {
		return nil, errors.New("users: Options.Engine is required")
	}
	if opts.Store == nil {
		return nil, errors.New("users: Options.Store is required")
	}
	f := &Feature{engine: opts.Engine, store: opts.Store, streams: opts.StreamCounts, log: opts.Logger, now: opts.Now}
	if opts.Intervals != nil {
		iv := *opts.Intervals
		f.intervals = &iv
	}
	if f.log == nil {
		f.log = zap.NewNop()
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f, nil
}

// Routes registers the pages and the REST routes (on the admin handler; there are no public
// routes).
func (f *Feature) Routes(r web.Router) {
	if r.Mode() != web.ModeAdmin {
		return
	}
	f.dashboardRoutes(r)
	f.userPageRoutes(r)
	f.bulkRoutes(r)
	f.pendingRoutes(r)
	f.homeRoutes(r)
	f.serverRoutes(r)
	f.passRoutes(r)
	f.engineSettingsRoutes(r)
	f.apiRoutes(r)
}
