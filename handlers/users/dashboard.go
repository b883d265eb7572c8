package users

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// pageDashboard is the dashboard.
const pageDashboard = "admin/dashboard"

// Sizes of the dashboard's lists.
const (
	dashboardEvents   = 10
	dashboardUpcoming = 10
)

// dashboardRoutes registers the dashboard.
func (f *Feature) dashboardRoutes(r web.Router) {
	r.Page(http.MethodGet, "/{$}", web.RoleAuditor, f.dashboard)
}

// statusCount is the number of users of one status.
type statusCount struct {
	Status string
	Count  int
}

// dashboardView is the dashboard's data.
type dashboardView struct {
	Counts        []statusCount
	Total         int
	ActiveInvites int
	Invites       int
	// Streams is the number of live streams (-1: unknown).
	Streams  int
	Servers  []serverRow
	Events   []eventRow
	Upcoming []upcomingRow
	Health   access.Health
	// Alerts are the engine's alerts other than the token's (which has its own banner).
	Alerts []string
	// HealthError says why the engine's health could not be read.
	HealthError string
}

// dashboard answers GET {base}/.
func (f *Feature) dashboard(w http.ResponseWriter, r *http.Request) {
	v := dashboardView{Streams: -1}
	byStatus, total, err := f.store.CountUsers()
	if err != nil {
		f.serverError(w, r, "counting users", err)
		return
	}
	v.Total = total
	for _, st := range statuses {
		v.Counts = append(v.Counts, statusCount{Status: st, Count: byStatus[st]})
	}
	invites, err := f.store.ListInvites()
	if err != nil {
		f.serverError(w, r, "listing invites", err)
		return
	}
	now := f.now()
	v.Invites = len(invites)
	for _, inv := range invites {
		if inviteUsable(inv, now) {
			v.ActiveInvites++
		}
	}
	if v.Servers, err = f.serverRows(); err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	if f.streams != nil {
		v.Streams = 0
		for _, n := range f.streams() {
			v.Streams += n
		}
	}
	evs, err := f.store.ListEvents(storage.EventQuery{Limit: dashboardEvents})
	if err != nil {
		f.serverError(w, r, "listing events", err)
		return
	}
	for _, ev := range evs {
		v.Events = append(v.Events, eventRow{ID: ev.ID, At: ev.At, Type: ev.Type, Actor: ev.Actor, Message: ev.Message})
	}
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	up, err := f.engine.Upcoming(dashboardUpcoming)
	if err != nil {
		f.serverError(w, r, "reading the schedule", err)
		return
	}
	v.Upcoming = upcomingRows(ix, up)
	if v.Health, err = f.engine.Health(); err != nil {
		f.log.Warn("reading the engine's health", zap.Error(err))
		v.HealthError = "The engine's health could not be read."
		v.Health.TokenValid = true
	}
	v.Alerts = v.Health.Alerts
	if !v.Health.TokenValid && len(v.Alerts) > 0 {
		v.Alerts = v.Alerts[1:] // Health lists the token's alert first.
	}
	web.SetNav(r, "dashboard")
	web.Render(w, r, pageDashboard, v)
}

// inviteUsable reports whether an invite can be redeemed at now.
func inviteUsable(inv storage.Invite, now time.Time) bool {
	return inv.Enabled && (inv.ExpiresAt == nil || now.Before(*inv.ExpiresAt)) && (inv.MaxUses == 0 || inv.Uses < inv.MaxUses)
}
