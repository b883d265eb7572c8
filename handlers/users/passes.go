package users

import (
	"cmp"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// Pages of the passes.
const (
	pageSchedule    = "admin/schedule"
	pageSync        = "admin/sync"
	pageEnforce     = "admin/schedule-enforce"
	pagePurge       = "admin/purge"
	pagePurgeResult = "admin/purge-result"
)

// recentPasses is how many stored passes the pages read.
const recentPasses = 50

// passRoutes registers the schedule, sync, enforcement and purge pages.
func (f *Feature) passRoutes(r web.Router) {
	r.Page(http.MethodGet, "/schedule", web.RoleAuditor, f.schedulePage)
	r.Page(http.MethodGet, "/sync", web.RoleAuditor, f.syncPage)
	r.Page(http.MethodPost, "/sync", web.RoleModerator, f.syncNow)
	r.Page(http.MethodPost, "/sync/confirm", web.RoleAdmin, f.syncConfirm)
	r.Page(http.MethodGet, "/enforce", web.RoleAuditor, f.enforcePage)
	r.Page(http.MethodPost, "/enforce", web.RoleModerator, f.enforceNow)
	r.Page(http.MethodGet, "/purge", web.RoleAuditor, f.purgePage)
	r.Page(http.MethodPost, "/purge", web.RoleAdmin, f.purgeNow)
}

// changeRow is one step of a pass report.
type changeRow struct {
	Action    string
	UserID    int64
	Username  string
	Server    string
	Libraries string
	Details   []string
	Reason    string
	Result    string
	Error     string
	// Known is true when the user is stored (their page exists).
	Known bool
}

// changeRows describes a report's changes.
func (f *Feature) changeRows(ix serverIndex, changes []access.Change) []changeRow {
	out := make([]changeRow, 0, len(changes))
	for _, c := range changes {
		row := changeRow{Action: c.Action, UserID: c.UserID, Username: cmpOr(c.Username, "user "+strconv.FormatInt(c.UserID, 10)),
			Reason: c.Reason, Result: c.Result, Error: c.Error}
		if c.ServerID != "" {
			row.Server = ix.name(c.ServerID)
			if len(c.Libraries) > 0 {
				row.Libraries = describeValue(ix, "libraries."+c.ServerID, c.Libraries)
			}
		}
		for _, k := range sortedKeys(unionKeys(c.Before, c.After)) {
			row.Details = append(row.Details, describeChange(ix, k, c.Before[k], c.After[k])...)
		}
		if _, err := f.store.CachedUser(c.UserID); err == nil {
			row.Known = true
		}
		out = append(out, row)
	}
	return out
}

// describeChange describes one before/after pair of a report in words, one line per changed field;
// nested maps (a user's shares, one share) are described field by field.
func describeChange(ix serverIndex, key string, before, after any) []string {
	bm, bIsMap := before.(map[string]any)
	am, aIsMap := after.(map[string]any)
	if (bIsMap || before == nil) && (aIsMap || after == nil) && (bIsMap || aIsMap) {
		var out []string
		for _, sub := range sortedKeys(unionKeys(bm, am)) {
			if sub == "share_id" {
				continue // plex.tv's internal id
			}
			child := key + "." + sub
			switch {
			case key == "shares":
				child = "shares." + sub
			case strings.HasPrefix(key, "shares."):
				child = sub + "." + strings.TrimPrefix(key, "shares.")
			}
			out = append(out, describeChange(ix, child, bm[sub], am[sub])...)
		}
		return out
	}
	if reflect.DeepEqual(before, after) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s → %s", describeField(ix, key), describeValue(ix, key, before), describeValue(ix, key, after))}
}

// unionKeys returns the keys of two maps.
func unionKeys(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// passRow is one stored pass.
type passRow struct {
	ID       string
	Kind     string
	Actor    string
	At       time.Time
	Message  string
	Changes  int
	Failures int
	Error    string
}

// passRows lists the stored passes of kind ("" for every kind).
func (f *Feature) passRows(kind string) ([]passRow, error) {
	list, err := f.engine.RecentPasses(recentPasses)
	if err != nil {
		return nil, err
	}
	var out []passRow
	for _, p := range list {
		if kind == "" || p.Kind == kind {
			out = append(out, passRow{ID: p.ID, Kind: p.Kind, Actor: p.Actor, At: p.At, Message: p.Message, Changes: p.Changes,
				Failures: p.Failures, Error: p.Error})
		}
	}
	return out, nil
}

// upcomingRow is one scheduled change.
type upcomingRow struct {
	At       time.Time
	Kind     string
	UserID   int64
	Username string
	Server   string
	Library  string
}

// upcomingRows describes scheduled changes.
func upcomingRows(ix serverIndex, items []access.UpcomingItem) []upcomingRow {
	out := make([]upcomingRow, 0, len(items))
	for _, it := range items {
		row := upcomingRow{At: it.At, Kind: it.Kind, UserID: it.UserID, Username: cmpOr(it.Username, "user "+strconv.FormatInt(it.UserID, 10))}
		if it.ServerID != "" {
			row.Server = ix.name(it.ServerID)
			if it.Library != "" {
				row.Library = ix.libraryTitle(it.ServerID, it.Library)
			}
		}
		out = append(out, row)
	}
	return out
}

// scheduleView is the schedule page's data.
type scheduleView struct {
	Upcoming []upcomingRow
	Passes   []passRow
	Health   access.Health
}

// schedulePage answers GET /schedule.
func (f *Feature) schedulePage(w http.ResponseWriter, r *http.Request) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	s, err := f.schedule(defaultSchedule)
	if err != nil {
		f.serverError(w, r, "reading the schedule", err)
		return
	}
	v := scheduleView{Upcoming: upcomingRows(ix, s.Upcoming), Health: s.Health}
	for _, p := range s.Passes {
		v.Passes = append(v.Passes, passRow{ID: p.ID, Kind: p.Kind, Actor: p.Actor, At: p.At, Message: p.Message, Changes: p.Changes,
			Failures: p.Failures, Error: p.Error})
	}
	web.Render(w, r, pageSchedule, v)
}

// heldView is a held sync shrink with the users it would mark removed.
type heldView struct {
	ID     string
	At     time.Time
	Reason string
	Active int
	Users  []changeRow
}

// syncView is the sync page's data.
type syncView struct {
	Held   *heldView
	Passes []passRow
	// Report is the pass just run (nil on GET).
	Report  *access.SyncReport
	Changes []changeRow
}

// renderSync shows the sync page with an optional report.
func (f *Feature) renderSync(w http.ResponseWriter, r *http.Request, status int, rep *access.SyncReport) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	v := syncView{Report: rep}
	held, err := f.engine.HeldSync()
	if err != nil {
		f.serverError(w, r, "reading the held sync", err)
		return
	}
	if held != nil {
		hv := &heldView{ID: held.ID, At: held.At, Reason: held.Reason, Active: held.Active}
		var cs []access.Change
		for _, id := range held.UserIDs {
			c := access.Change{UserID: id, Action: access.ActionMarkRemoved}
			if u, err := f.store.CachedUser(id); err == nil {
				c.Username = displayName(u)
			}
			cs = append(cs, c)
		}
		hv.Users = f.changeRows(ix, cs)
		v.Held = hv
	}
	if rep != nil {
		v.Changes = f.changeRows(ix, rep.Changes)
	}
	if v.Passes, err = f.passRows("sync"); err != nil {
		f.serverError(w, r, "reading passes", err)
		return
	}
	web.SetNav(r, "schedule")
	web.RenderStatus(w, r, status, pageSync, v)
}

// syncPage answers GET /sync.
func (f *Feature) syncPage(w http.ResponseWriter, r *http.Request) {
	f.renderSync(w, r, http.StatusOK, nil)
}

// syncNow answers POST /sync: run a sync and show what changed.
func (f *Feature) syncNow(w http.ResponseWriter, r *http.Request) {
	rep, err := f.engine.Sync(r.Context(), actor(r))
	f.syncResult(w, r, rep, err)
}

// syncConfirm answers POST /sync/confirm: apply a held shrink.
func (f *Feature) syncConfirm(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	heldID := r.PostForm.Get("held_id")
	if heldID == "" {
		web.FlashNow(r, web.FlashError, "Nothing was changed: the held change is not named; reload the page.")
		f.renderSync(w, r, http.StatusBadRequest, nil)
		return
	}
	rep, err := f.engine.ConfirmHeldSync(r.Context(), actor(r), heldID)
	if err != nil && rep.ID == "" {
		kind, msg, status, _ := f.outcome(err, "")
		web.FlashNow(r, kind, msg)
		f.renderSync(w, r, status, nil)
		return
	}
	f.syncResult(w, r, rep, err)
}

// syncResult shows a sync report.
func (f *Feature) syncResult(w http.ResponseWriter, r *http.Request, rep access.SyncReport, err error) {
	status := http.StatusOK
	switch {
	case err != nil:
		var msg string
		status, msg = f.passError(err, "")
		web.FlashNow(r, web.FlashError, "The sync failed: "+msg)
	case rep.Refused != "":
		web.FlashNow(r, web.FlashWarning, "Nothing was changed: "+rep.Refused)
	case rep.Held != nil:
		web.FlashNow(r, web.FlashWarning, fmt.Sprintf("%d removals are held for confirmation: %s", len(rep.Held.UserIDs), rep.Held.Reason))
	default:
		web.FlashNow(r, web.FlashSuccess, fmt.Sprintf("Sync done: %d adopted, %d updated, %d marked removed.", rep.Adopted, rep.Updated, rep.Removed))
	}
	f.renderSync(w, r, status, &rep)
}

// enforceView is the enforcement page's data.
type enforceView struct {
	Passes  []passRow
	Report  *access.PassReport
	Planned []changeRow
	Changes []changeRow
}

// renderEnforce shows the enforcement page with an optional report.
func (f *Feature) renderEnforce(w http.ResponseWriter, r *http.Request, status int, rep *access.PassReport) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	v := enforceView{Report: rep}
	if rep != nil {
		v.Planned, v.Changes = f.changeRows(ix, rep.Planned), f.changeRows(ix, rep.Changes)
	}
	if v.Passes, err = f.passRows("enforce"); err != nil {
		f.serverError(w, r, "reading passes", err)
		return
	}
	web.SetNav(r, "schedule")
	web.RenderStatus(w, r, status, pageEnforce, v)
}

// enforcePage answers GET /enforce.
func (f *Feature) enforcePage(w http.ResponseWriter, r *http.Request) {
	f.renderEnforce(w, r, http.StatusOK, nil)
}

// enforceNow answers POST /enforce: one pass now (ignore_cap: admins only).
func (f *Feature) enforceNow(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	ignore := r.PostForm.Get("ignore_cap") != ""
	if p, _ := web.CurrentPrincipal(r); ignore && !p.Role.Allows(web.RoleAdmin) {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	rep, err := f.engine.EnforceWith(r.Context(), actor(r), access.EnforceOptions{IgnoreCap: ignore})
	status := http.StatusOK
	failed := 0
	for _, c := range rep.Changes {
		if c.Result == access.ResultFailed {
			failed++
		}
	}
	switch {
	case err != nil:
		var msg string
		status, msg = f.passError(err, "")
		web.FlashNow(r, web.FlashError, "The pass failed: "+msg)
	case rep.Capped:
		web.FlashNow(r, web.FlashWarning, fmt.Sprintf("Nothing was removed: the pass would remove more than the cap of %d. Review the plan below.", rep.Cap))
	case failed > 0:
		web.FlashNow(r, web.FlashWarning, fmt.Sprintf("Pass done with %d failed changes.", failed))
	case len(rep.Changes) == 0:
		web.FlashNow(r, web.FlashInfo, "Nothing was due.")
	default:
		web.FlashNow(r, web.FlashSuccess, fmt.Sprintf("Pass done: %d changes.", len(rep.Changes)))
	}
	f.renderEnforce(w, r, status, &rep)
}

// purgeView is the purge page's data.
type purgeView struct {
	Plan     access.PurgePlan
	Selected map[int64]bool
	Error    string
}

// renderPurge shows a fresh preview with status.
func (f *Feature) renderPurge(w http.ResponseWriter, r *http.Request, status int, selected map[int64]bool, msg string) {
	plan, err := f.engine.PurgePreview(r.Context())
	if err != nil {
		f.serverError(w, r, "previewing the purge", err)
		return
	}
	if selected == nil {
		selected = map[int64]bool{}
		for _, c := range plan.Candidates {
			selected[c.UserID] = true
		}
	}
	web.SetNav(r, "schedule")
	web.RenderStatus(w, r, status, pagePurge, purgeView{Plan: plan, Selected: selected, Error: msg})
}

// purgePage answers GET /purge: the preview.
func (f *Feature) purgePage(w http.ResponseWriter, r *http.Request) {
	f.renderPurge(w, r, http.StatusOK, nil, "")
}

// purgeResultView is the purge result page's data.
type purgeResultView struct {
	Report  access.PurgeReport
	Changes []changeRow
}

// purgeNow answers POST /purge: remove exactly the checked users of the preview, all of which must
// still be candidates.
func (f *Feature) purgeNow(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	ids, err := parseIDs(r.PostForm["id"])
	if err == nil {
		ids, err = f.checkPurge(r, ids)
	}
	if err != nil {
		selected := map[int64]bool{}
		for _, id := range ids {
			selected[id] = true
		}
		kind, msg, status, _ := f.outcome(err, "")
		web.FlashNow(r, kind, msg)
		f.renderPurge(w, r, status, selected, msg)
		return
	}
	rep, err := f.engine.Purge(r.Context(), actor(r), ids)
	status := http.StatusOK
	switch {
	case err != nil:
		var msg string
		status, msg = f.passError(err, "")
		web.FlashNow(r, web.FlashError, "The purge failed: "+msg)
	case len(rep.Removed) < len(ids):
		web.FlashNow(r, web.FlashWarning, fmt.Sprintf("%d of %d users removed: see below.", len(rep.Removed), len(ids)))
	default:
		web.FlashNow(r, web.FlashSuccess, fmt.Sprintf("%d users removed.", len(rep.Removed)))
	}
	ix, ierr := f.loadServers()
	if ierr != nil {
		f.serverError(w, r, "listing servers", ierr)
		return
	}
	slices.SortFunc(rep.Skipped, func(a, b access.PurgeExclusion) int { return cmp.Compare(a.UserID, b.UserID) })
	web.SetNav(r, "schedule")
	web.RenderStatus(w, r, status, pagePurgeResult, purgeResultView{Report: rep, Changes: f.changeRows(ix, rep.Changes)})
}
