// Package events is the HTTP side of the audit log, the application log and notifications: the
// events page (filters, detail, CSV/JSON export streamed with the filter applied, retention), the
// live log viewer (admin), the notification settings with test buttons and delivery log (admin),
// the REST route GET /events, and the public page where users see their own access status
// through a signed link (registered as a Public route, so only the invite handler serves it).
package events

import (
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/logbuf"
	"github.com/plex-manager/caddy-plex-manager/notify"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Feature registers the routes. Logs and Notifier are optional: without them their pages are
// not registered.
type Feature struct {
	store    *storage.Store
	logs     *logbuf.Buffer
	notifier *notify.Notifier
}

// New returns the feature.
func New(store *storage.Store, logs *logbuf.Buffer, notifier *notify.Notifier) *Feature {
	return &Feature{store: store, logs: logs, notifier: notifier}
}

// Routes registers the pages, the API route and the public status page.
func (f *Feature) Routes(r web.Router) {
	r.Page("GET", "/events", web.RoleAuditor, f.list)
	r.Page("GET", "/events/export", web.RoleAuditor, f.export)
	r.Page("GET", "/events/{id}", web.RoleAuditor, f.detail)
	r.Page("POST", "/events/retention", web.RoleAdmin, f.saveRetention)
	r.API("GET", "/events", web.RoleAuditor, f.apiList, web.APIDoc{
		Summary: "Audit events", Tags: []string{"events"},
		Description: "Newest first. type is an exact type (user.expired) or a category ending with a dot (user.).",
		Params: []web.Param{
			{Name: "type", In: web.ParamQuery, Description: "event type, or a prefix ending with a dot"},
			{Name: "since", In: web.ParamQuery, Format: "date-time", Description: "RFC 3339 time or YYYY-MM-DD (inclusive)"},
			{Name: "until", In: web.ParamQuery, Format: "date-time", Description: "RFC 3339 time or YYYY-MM-DD (inclusive)"},
			{Name: "actor", In: web.ParamQuery, Description: "admin:<name>, apikey:<name>, system or user:<id>"},
			{Name: "user_id", In: web.ParamQuery, Type: "integer", Format: "int64"},
			{Name: "before", In: web.ParamQuery, Description: "cursor: next of the previous page"},
			{Name: "limit", In: web.ParamQuery, Type: "integer", Description: "1–1000, default 100"},
		},
		Response: ListResponse{},
	})
	if f.logs != nil {
		r.Page("GET", "/logs", web.RoleAdmin, f.logsPage)
		r.Page("GET", "/logs/rows", web.RoleAdmin, f.logRows)
		r.Page("GET", "/logs/download", web.RoleAdmin, f.logDownload)
	}
	if f.notifier != nil {
		r.Page("GET", "/notifications", web.RoleAdmin, f.notifyPage)
		r.Page("POST", "/notifications", web.RoleAdmin, f.notifySave)
		r.Page("POST", "/notifications/test", web.RoleAdmin, f.notifyTest)
		r.Public("GET", "/access/{token}", f.accessStatus)
	}
}
