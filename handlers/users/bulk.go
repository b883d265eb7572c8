package users

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Bulk pages.
const (
	pageBulk        = "admin/bulk"
	pageBulkPreview = "admin/bulk-preview"
	pageBulkResult  = "admin/bulk-result"
)

// maxBulkUsers bounds one bulk edit (the engine's own limit).
const maxBulkUsers = 1000

// bulkRoutes registers the bulk edit pages: choose, preview, apply.
func (f *Feature) bulkRoutes(r web.Router) {
	r.Page(http.MethodGet, "/users/bulk", web.RoleModerator, f.bulkForm)
	r.Page(http.MethodPost, "/users/bulk/preview", web.RoleModerator, f.bulkPreview)
	r.Page(http.MethodPost, "/users/bulk/apply", web.RoleModerator, f.bulkApply)
}

// bulkValues are the bulk form's values.
type bulkValues struct {
	IDs []int64
	// Action is edit or remove.
	Action string
	// LibMode is "" (leave), set, add or remove.
	LibMode   string
	Libraries map[string]bool
	// Downloads and Whitelist are "" (leave), on or off.
	Downloads string
	Whitelist string
	// StartsMode is "" (leave), set or clear; ExpiresMode also extend.
	StartsMode  string
	StartsAt    string
	ExpiresMode string
	ExpiresAt   string
	ExtendDays  string
	Reason      string
}

// bulkUser is one chosen user.
type bulkUser struct {
	ID     int64
	Name   string
	Status string
}

// bulkItemView is one user of a preview or result.
type bulkItemView struct {
	UserID int64
	Name   string
	Result string
	Error  string
	Diff   []diffRow
}

// hiddenField carries a form value from the preview to the apply form.
type hiddenField struct {
	Name, Value string
}

// bulkView is the data of the bulk pages.
type bulkView struct {
	Values  bulkValues
	Users   []bulkUser
	Choices []serverChoice
	Errors  map[string]string
	Items   []bulkItemView
	Changed int
	Failed  int
	Skipped int
	Hidden  []hiddenField
}

// bulkForm answers GET /users/bulk?id=…: the edit form for the chosen users. With match=1 the
// users are every user matching the list's filters (at most 1000).
func (f *Feature) bulkForm(w http.ResponseWriter, r *http.Request) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	query := r.URL.Query()
	var ids []int64
	if ok, _ := parseBool(query.Get("match")); ok {
		ids, err = f.matchingIDs(query, ix)
	} else {
		ids, err = parseIDs(query["id"])
	}
	v := bulkValues{IDs: ids, Action: "edit", Libraries: map[string]bool{}}
	if err == nil && len(ids) == 0 {
		err = web.NewInputError("user_ids", "choose at least one user on the user list")
	}
	status := http.StatusOK
	var errs map[string]string
	if err != nil {
		kind, msg, st, _ := f.outcome(err, "")
		web.FlashNow(r, kind, msg)
		status, errs = st, map[string]string{"user_ids": msg}
		v.IDs = nil
	}
	f.renderBulk(w, r, status, pageBulk, v, ix, errs, nil)
}

// matchingIDs resolves the list's filters to user ids (at most maxBulkUsers).
func (f *Feature) matchingIDs(query url.Values, ix serverIndex) ([]int64, error) {
	q, err := parseUserQuery(query, ix.list)
	if err != nil {
		return nil, err
	}
	q.Page, q.PerPage = 1, storage.MaxPerPage
	var ids []int64
	for {
		page, err := f.store.ListUsers(q)
		if err != nil {
			return nil, err
		}
		if page.Total > maxBulkUsers {
			return nil, web.NewInputError("user_ids", "%d users match; a bulk edit takes at most %d: narrow the filter", page.Total, maxBulkUsers)
		}
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if len(page.Users) < page.PerPage || len(ids) >= page.Total {
			return ids, nil
		}
		q.Page++
	}
}

// parseIDs reads user ids.
func parseIDs(values []string) ([]int64, error) {
	if len(values) > maxBulkUsers {
		return nil, web.NewInputError("user_ids", "at most %d users at once", maxBulkUsers)
	}
	out := make([]int64, 0, len(values))
	seen := map[int64]bool{}
	for _, s := range values {
		id, ok := parseUserID(strings.TrimSpace(s))
		if !ok {
			return nil, web.NewInputError("user_ids", "the list of users is damaged; choose them again")
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// renderBulk shows one of the bulk pages.
func (f *Feature) renderBulk(w http.ResponseWriter, r *http.Request, status int, page string, v bulkValues, ix serverIndex,
	errs map[string]string, rep *access.BulkReport) {
	view := bulkView{Values: v, Choices: serverChoices(ix, v.Libraries), Errors: errs}
	names := map[int64]bulkUser{}
	for _, id := range v.IDs {
		bu := bulkUser{ID: id, Name: "user " + strconv.FormatInt(id, 10), Status: "unknown"}
		if u, err := f.store.CachedUser(id); err == nil {
			bu.Name, bu.Status = displayName(u), u.Status
		}
		names[id] = bu
		view.Users = append(view.Users, bu)
	}
	if rep != nil {
		view.Changed, view.Failed = rep.Changed, rep.Failed
		for _, it := range rep.Items {
			name := it.Username
			if name == "" {
				name = names[it.UserID].Name
			}
			view.Items = append(view.Items, bulkItemView{UserID: it.UserID, Name: name, Result: it.Result, Error: it.Error,
				Diff: diffRows(ix, it.Diff)})
			if it.Result == access.ResultSkipped {
				view.Skipped++
			}
		}
		view.Hidden = hiddenValues(v)
	}
	web.SetNav(r, "users")
	web.RenderStatus(w, r, status, page, view)
}

// hiddenValues encodes the form values for the apply form.
func hiddenValues(v bulkValues) []hiddenField {
	var out []hiddenField
	for _, id := range v.IDs {
		out = append(out, hiddenField{"id", strconv.FormatInt(id, 10)})
	}
	for _, kv := range []hiddenField{{"action", v.Action}, {"lib_mode", v.LibMode}, {"downloads", v.Downloads},
		{"whitelist", v.Whitelist}, {"starts_mode", v.StartsMode}, {"starts_at", v.StartsAt}, {"expires_mode", v.ExpiresMode},
		{"expires_at", v.ExpiresAt}, {"extend_days", v.ExtendDays}, {"reason", v.Reason}} {
		if kv.Value != "" {
			out = append(out, kv)
		}
	}
	for _, lib := range sortedKeys(v.Libraries) {
		out = append(out, hiddenField{"lib", lib})
	}
	return out
}

// readBulk reads the bulk form into values and the engine's operation; the error names the field.
func readBulk(form url.Values, ix serverIndex) (bulkValues, access.BulkOp, error) {
	v := bulkValues{Action: form.Get("action"), LibMode: form.Get("lib_mode"), Downloads: form.Get("downloads"),
		Whitelist: form.Get("whitelist"), StartsMode: form.Get("starts_mode"), StartsAt: strings.TrimSpace(form.Get("starts_at")),
		ExpiresMode: form.Get("expires_mode"), ExpiresAt: strings.TrimSpace(form.Get("expires_at")),
		ExtendDays: strings.TrimSpace(form.Get("extend_days")), Reason: strings.TrimSpace(form.Get("reason")), Libraries: map[string]bool{}}
	for _, lib := range form["lib"] {
		v.Libraries[lib] = true
	}
	var op access.BulkOp
	ids, err := parseIDs(form["id"])
	if err != nil {
		return v, op, err
	}
	v.IDs = ids
	if len(v.Reason) > maxReason {
		return v, op, web.NewInputError("reason", "must be at most %d characters", maxReason)
	}
	op.Reason = v.Reason
	switch v.Action {
	case "remove":
		op.Remove = true
		return v, op, nil
	case "edit", "":
		v.Action = "edit"
	default:
		return v, op, web.NewInputError("action", "choose edit or remove")
	}
	libs, err := parseLibraryValues("libraries", form["lib"], ix)
	if err != nil {
		return v, op, err
	}
	switch v.LibMode {
	case "":
	case "set":
		if len(libs) == 0 {
			return v, op, web.NewInputError("libraries", "choose the libraries to set")
		}
		op.Libraries = libs
	case "add":
		if len(libs) == 0 {
			return v, op, web.NewInputError("libraries", "choose the libraries to add")
		}
		op.AddLibraries = libs
	case "remove":
		if len(libs) == 0 {
			return v, op, web.NewInputError("libraries", "choose the libraries to take away")
		}
		op.RemoveLibraries = libs
	default:
		return v, op, web.NewInputError("lib_mode", "choose set, add or remove")
	}
	if op.AllowDownloads, err = triState("downloads", v.Downloads); err != nil {
		return v, op, err
	}
	if op.Whitelisted, err = triState("whitelist", v.Whitelist); err != nil {
		return v, op, err
	}
	switch v.StartsMode {
	case "":
	case "clear":
		op.ClearStartsAt = true
	case "set":
		t, err := parseFormTime("starts_at", v.StartsAt)
		if err != nil {
			return v, op, err
		}
		if t == nil {
			return v, op, web.NewInputError("starts_at", "enter the start")
		}
		op.StartsAt = t
	default:
		return v, op, web.NewInputError("starts_mode", "choose set or clear")
	}
	switch v.ExpiresMode {
	case "":
	case "clear":
		op.ClearExpiresAt = true
	case "set":
		t, err := parseFormTime("expires_at", v.ExpiresAt)
		if err != nil {
			return v, op, err
		}
		if t == nil {
			return v, op, web.NewInputError("expires_at", "enter the expiry")
		}
		op.ExpiresAt = t
	case "extend":
		n, err := strconv.Atoi(v.ExtendDays)
		if err != nil || n == 0 || n < -maxExtendDays || n > maxExtendDays {
			return v, op, web.NewInputError("extend_days", "must be a whole number of days from -%d to %d, not 0", maxExtendDays, maxExtendDays)
		}
		op.ExtendDays = n
	default:
		return v, op, web.NewInputError("expires_mode", "choose set, clear or extend")
	}
	return v, op, nil
}

// triState reads a leave/on/off choice.
func triState(field, s string) (*bool, error) {
	switch s {
	case "":
		return nil, nil
	case "on", "off":
		b := s == "on"
		return &b, nil
	}
	return nil, web.NewInputError(field, "choose leave, on or off")
}

// bulkPreview answers POST /users/bulk/preview: what the edit would change, with the button
// that applies it.
func (f *Feature) bulkPreview(w http.ResponseWriter, r *http.Request) {
	f.bulkRun(w, r, false)
}

// bulkApply answers POST /users/bulk/apply.
func (f *Feature) bulkApply(w http.ResponseWriter, r *http.Request) {
	f.bulkRun(w, r, true)
}

// bulkRun previews or applies the submitted bulk edit; bad input shows the form again.
func (f *Feature) bulkRun(w http.ResponseWriter, r *http.Request, apply bool) {
	if !web.ParseForm(w, r) {
		return
	}
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	v, op, err := readBulk(r.PostForm, ix)
	var rep access.BulkReport
	if err == nil {
		if apply {
			rep, err = f.engine.BulkApply(r.Context(), actor(r), v.IDs, op)
		} else {
			rep, err = f.engine.BulkPreview(r.Context(), v.IDs, op)
		}
	}
	if err != nil {
		f.form(w, r, func(status int, errs map[string]string) { f.renderBulk(w, r, status, pageBulk, v, ix, errs, nil) }).refuse(err)
		return
	}
	page := pageBulkPreview
	if apply {
		page = pageBulkResult
		switch {
		case rep.Failed > 0:
			web.FlashNow(r, web.FlashWarning, strconv.Itoa(rep.Changed)+" users changed, "+strconv.Itoa(rep.Failed)+" failed: see below.")
		default:
			web.FlashNow(r, web.FlashSuccess, strconv.Itoa(rep.Changed)+" users changed and pushed to Plex.")
		}
	}
	f.renderBulk(w, r, http.StatusOK, page, v, ix, nil, &rep)
}
