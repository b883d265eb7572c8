package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Limits of the detail page.
const (
	eventsPerPage = 25
	maxExtendDays = 3650
	maxNotesBytes = 40000
)

// shareView is one share on the detail page.
type shareView struct {
	ServerID       string
	Server         string
	Libraries      []string
	AllLibraries   bool
	AllowDownloads bool
	Pending        bool
	// Live is false for a share the record only remembers: nothing is shared on Plex now.
	Live    bool
	Filters string
	Windows []windowView
}

// windowView is one library window.
type windowView struct {
	Library   string
	StartsAt  *time.Time
	ExpiresAt *time.Time
}

// editValues are the values of the edit forms (the user's, or what was submitted when a form is
// shown again).
type editValues struct {
	StartsAt         string
	ExpiresAt        string
	ExtendDays       string
	Notes            string
	Whitelisted      bool
	AllowDownloads   bool
	FilterMovies     string
	FilterTelevision string
	FilterMusic      string
	StreamLimit      string
	No4KTranscode    bool
	// Libraries are the checked "<server id>/<key>" values.
	Libraries map[string]bool
}

// eventRow is one event of the user's history.
type eventRow struct {
	ID      string
	At      time.Time
	Type    string
	Actor   string
	Message string
}

// detailView is the user page's data.
type detailView struct {
	User       storage.User
	Name       string
	Shares     []shareView
	Choices    []serverChoice
	Values     editValues
	Errors     map[string]string
	Events     []eventRow
	Older      string
	DiscordURL string
	Removed    bool
}

// valuesOf returns the edit forms' values for u.
func valuesOf(u storage.User, ix serverIndex) editValues {
	v := editValues{StartsAt: formTime(u.StartsAt), ExpiresAt: formTime(u.ExpiresAt), Notes: u.Notes, Whitelisted: u.Whitelisted,
		No4KTranscode: u.No4KTranscode, Libraries: map[string]bool{}}
	if u.StreamLimit > 0 {
		v.StreamLimit = strconv.Itoa(u.StreamLimit)
	}
	if sh, ok := firstShare(u); ok {
		v.AllowDownloads = sh.AllowDownloads
		v.FilterMovies, v.FilterTelevision, v.FilterMusic = sh.Filters.Movies, sh.Filters.Television, sh.Filters.Music
	}
	for srv := range u.Shares {
		for _, k := range currentKeys(u, srv, ix) {
			v.Libraries[srv+"/"+k] = true
		}
	}
	return v
}

// firstShare is the share whose settings the forms show (the first by server id).
func firstShare(u storage.User) (storage.Share, bool) {
	ids := make([]string, 0, len(u.Shares))
	for id := range u.Shares {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return storage.Share{}, false
	}
	slices.Sort(ids)
	return u.Shares[ids[0]], true
}

// currentKeys lists the library keys a user's share of a server covers (every library of the
// server for an all-libraries share), sorted.
func currentKeys(u storage.User, serverID string, ix serverIndex) []string {
	sh, ok := u.Shares[serverID]
	if !ok {
		return nil
	}
	var keys []string
	if sh.AllLibraries {
		for _, l := range ix.byID[serverID].Libraries {
			keys = append(keys, l.Key)
		}
	} else {
		keys = slices.Clone(sh.Libraries)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// pageUserID reads the {id} path value, answering 404 itself.
func pageUserID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := parseUserID(r.PathValue("id"))
	if !ok {
		web.Error(w, r, http.StatusNotFound)
	}
	return id, ok
}

// detailPage answers GET /users/{id}.
func (f *Feature) detailPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pageUserID(w, r)
	if !ok {
		return
	}
	f.renderDetail(w, r, http.StatusOK, id, nil, nil)
}

// renderDetail shows the user page with status; errs marks form fields, values (when not nil)
// adjusts the forms' values to what was submitted.
func (f *Feature) renderDetail(w http.ResponseWriter, r *http.Request, status int, id int64, errs map[string]string, values func(*editValues)) {
	u, ok := f.userByID(w, r, id)
	if !ok {
		return
	}
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	before := strings.TrimSpace(r.URL.Query().Get("before"))
	evs, err := f.store.ListEvents(storage.EventQuery{UserID: u.ID, Before: before, Limit: eventsPerPage + 1})
	if errors.Is(err, storage.ErrInvalid) {
		web.Error(w, r, http.StatusBadRequest)
		return
	}
	if err != nil {
		f.serverError(w, r, "listing a user's events", err)
		return
	}
	v := detailView{User: u, Name: displayName(u), Values: valuesOf(u, ix), Errors: errs, Removed: u.Status == storage.StatusRemoved}
	if values != nil {
		values(&v.Values)
	}
	v.Choices = serverChoices(ix, v.Values.Libraries)
	for _, srv := range sortedShareServers(u, ix) {
		sh := u.Shares[srv]
		sv := shareView{ServerID: srv, Server: ix.name(srv), Libraries: ix.libraryTitles(srv, sh.Libraries), AllLibraries: sh.AllLibraries,
			AllowDownloads: sh.AllowDownloads, Pending: sh.Pending, Live: sh.ShareID > 0, Filters: describeFilters(sh.Filters)}
		for _, k := range sortedKeys(sh.LibraryWindows) {
			w := sh.LibraryWindows[k]
			sv.Windows = append(sv.Windows, windowView{Library: ix.libraryTitle(srv, k), StartsAt: w.StartsAt, ExpiresAt: w.ExpiresAt})
		}
		v.Shares = append(v.Shares, sv)
	}
	if len(evs) > eventsPerPage {
		evs = evs[:eventsPerPage]
		v.Older = web.URL(r, "/users", u.ID) + "?before=" + evs[len(evs)-1].ID + "#history"
	}
	for _, ev := range evs {
		v.Events = append(v.Events, eventRow{ID: ev.ID, At: ev.At, Type: ev.Type, Actor: ev.Actor, Message: ev.Message})
	}
	if u.DiscordID != "" && isDigits(u.DiscordID) {
		v.DiscordURL = "https://discord.com/users/" + u.DiscordID
	}
	web.RenderStatus(w, r, status, pageDetail, v)
}

// sortedShareServers lists the servers a user has a share of: stored servers by name, then unknown
// ids.
func sortedShareServers(u storage.User, ix serverIndex) []string {
	var out []string
	for _, srv := range ix.list {
		if _, ok := u.Shares[srv.ID]; ok {
			out = append(out, srv.ID)
		}
	}
	var unknown []string
	for id := range u.Shares {
		if _, ok := ix.byID[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	slices.Sort(unknown)
	return append(out, unknown...)
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// editForm reads the user and the form of an edit route; false means it already answered.
func (f *Feature) editForm(w http.ResponseWriter, r *http.Request) (storage.User, serverIndex, bool) {
	u, ok := f.pathUser(w, r)
	if !ok {
		return storage.User{}, serverIndex{}, false
	}
	if !web.ParseForm(w, r) {
		return storage.User{}, serverIndex{}, false
	}
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return storage.User{}, serverIndex{}, false
	}
	return u, ix, true
}

// editPageForm is the pageForm of an edit of user id: a refusal shows the user page again, values
// (when not nil) putting back what was submitted.
func (f *Feature) editPageForm(w http.ResponseWriter, r *http.Request, id int64, values func(*editValues)) pageForm {
	return f.form(w, r, func(status int, errs map[string]string) { f.renderDetail(w, r, status, id, errs, values) })
}

// applyEdit sends a patch to the engine and shows the outcome: back to the user page with a
// message, or the page again (with the submitted values) when nothing was changed.
func (f *Feature) applyEdit(w http.ResponseWriter, r *http.Request, u storage.User, p access.UserPatch, done string, values func(*editValues)) {
	pctx, cancel := plexEditContext(r)
	defer cancel()
	after, err := f.engine.UpdateUser(pctx, actor(r), u.ID, p)
	if err == nil && sameUser(u, after) {
		web.Flash(w, r, web.FlashInfo, "Nothing to change.")
		web.Redirect(w, r, userPath(u.ID))
		return
	}
	f.editPageForm(w, r, u.ID, values).finish(err, done, u.ID, userPath(u.ID))
}

// badEdit shows the user page again for a form value that could not be read (nothing was sent to
// the engine).
func (f *Feature) badEdit(w http.ResponseWriter, r *http.Request, id int64, err error, values func(*editValues)) {
	f.editPageForm(w, r, id, values).refuse(err)
}

// editLibraries answers POST /users/{id}/libraries: the checked libraries of each server listed
// in the form become the user's share of it (none checked removes the share).
func (f *Feature) editLibraries(w http.ResponseWriter, r *http.Request) {
	u, ix, ok := f.editForm(w, r)
	if !ok {
		return
	}
	submitted := map[string]bool{}
	for _, v := range r.PostForm["lib"] {
		submitted[v] = true
	}
	keep := func(v *editValues) { v.Libraries = submitted }
	checked, err := parseLibraryValues("libraries", r.PostForm["lib"], ix)
	if err != nil {
		f.badEdit(w, r, u.ID, err, keep)
		return
	}
	p := access.UserPatch{Libraries: map[string][]string{}, Reason: "edited on the user page"}
	for _, srv := range r.PostForm["server"] {
		if _, known := ix.byID[srv]; !known {
			f.badEdit(w, r, u.ID, web.NewInputError("libraries", "names a server that is not connected; reload the page"), keep)
			return
		}
		want := slices.Clone(checked[srv])
		slices.Sort(want)
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(want, currentKeys(u, srv, ix)) {
			p.Libraries[srv] = want
		}
	}
	for srv := range checked {
		if !slices.Contains(r.PostForm["server"], srv) {
			f.badEdit(w, r, u.ID, web.NewInputError("libraries", "the form is incomplete; reload the page"), keep)
			return
		}
	}
	if len(p.Libraries) == 0 {
		web.Flash(w, r, web.FlashInfo, "Nothing to change.")
		web.Redirect(w, r, userPath(u.ID))
		return
	}
	f.applyEdit(w, r, u, p, "Libraries saved and pushed to Plex.", keep)
}

// editAccess answers POST /users/{id}/access: downloads, restriction filters and stream rules.
func (f *Feature) editAccess(w http.ResponseWriter, r *http.Request) {
	u, ix, ok := f.editForm(w, r)
	if !ok {
		return
	}
	form := r.PostForm
	sub := editValues{AllowDownloads: form.Get("allow_downloads") != "", FilterMovies: strings.TrimSpace(form.Get("filter_movies")),
		FilterTelevision: strings.TrimSpace(form.Get("filter_television")), FilterMusic: strings.TrimSpace(form.Get("filter_music")),
		StreamLimit: strings.TrimSpace(form.Get("stream_limit")), No4KTranscode: form.Get("no_4k_transcode") != ""}
	keep := func(v *editValues) {
		v.AllowDownloads, v.FilterMovies, v.FilterTelevision, v.FilterMusic = sub.AllowDownloads, sub.FilterMovies, sub.FilterTelevision, sub.FilterMusic
		v.StreamLimit, v.No4KTranscode = sub.StreamLimit, sub.No4KTranscode
	}
	cur := valuesOf(u, ix)
	p := access.UserPatch{Reason: "edited on the user page"}
	if sub.AllowDownloads != cur.AllowDownloads {
		p.AllowDownloads = &sub.AllowDownloads
	}
	if sub.FilterMovies != cur.FilterMovies || sub.FilterTelevision != cur.FilterTelevision || sub.FilterMusic != cur.FilterMusic {
		p.Filters = &storage.Filters{Movies: sub.FilterMovies, Television: sub.FilterTelevision, Music: sub.FilterMusic}
	}
	limit := 0
	if sub.StreamLimit != "" {
		n, err := strconv.Atoi(sub.StreamLimit)
		if err != nil {
			f.badEdit(w, r, u.ID, web.NewInputError("stream_limit", "must be a whole number (0 or empty: the default rule)"), keep)
			return
		}
		limit = n
	}
	if limit != u.StreamLimit {
		p.StreamLimit = &limit
	}
	if sub.No4KTranscode != u.No4KTranscode {
		p.No4KTranscode = &sub.No4KTranscode
	}
	f.applyEdit(w, r, u, p, "Access settings saved and pushed to Plex.", keep)
}

// editWindow answers POST /users/{id}/window: the access start and expiry (empty clears), or an
// extension of the expiry by a number of days.
func (f *Feature) editWindow(w http.ResponseWriter, r *http.Request) {
	u, _, ok := f.editForm(w, r)
	if !ok {
		return
	}
	form := r.PostForm
	sub := editValues{StartsAt: strings.TrimSpace(form.Get("starts_at")), ExpiresAt: strings.TrimSpace(form.Get("expires_at")),
		ExtendDays: strings.TrimSpace(form.Get("extend_days"))}
	keep := func(v *editValues) {
		v.StartsAt, v.ExpiresAt, v.ExtendDays = sub.StartsAt, sub.ExpiresAt, sub.ExtendDays
	}
	starts, err := parseFormTime("starts_at", sub.StartsAt)
	if err != nil {
		f.badEdit(w, r, u.ID, err, keep)
		return
	}
	expires, err := parseFormTime("expires_at", sub.ExpiresAt)
	if err != nil {
		f.badEdit(w, r, u.ID, err, keep)
		return
	}
	p := access.UserPatch{Reason: "edited on the user page"}
	if sub.StartsAt != formTime(u.StartsAt) {
		p.StartsAt, p.ClearStartsAt = starts, starts == nil
	}
	expiryChanged := sub.ExpiresAt != formTime(u.ExpiresAt)
	if expiryChanged {
		p.ExpiresAt, p.ClearExpiresAt = expires, expires == nil
	}
	if sub.ExtendDays != "" {
		days, err := strconv.Atoi(sub.ExtendDays)
		switch {
		case err != nil || days < -maxExtendDays || days > maxExtendDays || days == 0:
			f.badEdit(w, r, u.ID, web.NewInputError("extend_days", "must be a whole number of days from -%d to %d, not 0", maxExtendDays, maxExtendDays), keep)
			return
		case expiryChanged:
			f.badEdit(w, r, u.ID, web.NewInputError("extend_days", "change the expiry or extend it by a number of days, not both"), keep)
			return
		}
		base := f.now().UTC()
		if u.ExpiresAt != nil {
			base = u.ExpiresAt.UTC()
		}
		t := base.AddDate(0, 0, days)
		p.ExpiresAt, p.ClearExpiresAt = &t, false
	}
	f.applyEdit(w, r, u, p, "Access window saved.", keep)
}

// editNotes answers POST /users/{id}/notes: notes and the whitelist.
func (f *Feature) editNotes(w http.ResponseWriter, r *http.Request) {
	u, _, ok := f.editForm(w, r)
	if !ok {
		return
	}
	notes := strings.ReplaceAll(r.PostForm.Get("notes"), "\r\n", "\n")
	white := r.PostForm.Get("whitelisted") != ""
	keep := func(v *editValues) { v.Notes, v.Whitelisted = notes, white }
	if len(notes) > maxNotesBytes {
		f.badEdit(w, r, u.ID, web.NewInputError("notes", "are too long"), keep)
		return
	}
	p := access.UserPatch{Reason: "edited on the user page"}
	if notes != u.Notes {
		p.Notes = &notes
	}
	if white != u.Whitelisted {
		p.Whitelisted = &white
	}
	f.applyEdit(w, r, u, p, "Notes saved.", keep)
}

// sameUser reports whether two versions of a user are alike but for the time of the last change.
func sameUser(a, b storage.User) bool {
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}
