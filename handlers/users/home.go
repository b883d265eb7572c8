package users

import (
	"net/http"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Pages of the Plex Home.
const (
	pageHome       = "admin/home-members"
	pageHomeRemove = "admin/home-remove"
)

// homeRoutes registers the Plex Home pages.
func (f *Feature) homeRoutes(r web.Router) {
	r.Page(http.MethodGet, "/users/home", web.RoleAuditor, f.homePage)
	r.Page(http.MethodPost, "/users/home/managed", web.RoleModerator, f.createManaged)
	r.Page(http.MethodGet, "/users/home/{id}/remove", web.RoleModerator, f.homeRemoveForm)
	r.Page(http.MethodPost, "/users/home/{id}/remove", web.RoleModerator, f.homeRemove)
}

// restriction profiles of managed users, as the form offers them.
var restrictionProfiles = []filterOption{
	{Value: "", Label: "No restrictions"}, {Value: "little_kid", Label: "Little kid"},
	{Value: "older_kid", Label: "Older kid"}, {Value: "teen", Label: "Teen"},
}

// homeMemberRow is one Home member.
type homeMemberRow struct {
	access.HomeMember
	// Known is true when the member is a stored user (their page exists).
	Known bool
}

// managedValues are the managed-user form's values.
type managedValues struct {
	Name             string
	Profile          string
	AllowDownloads   bool
	FilterMovies     string
	FilterTelevision string
	FilterMusic      string
	Libraries        map[string]bool
}

// homeView is the Plex Home page's data.
type homeView struct {
	Members  []homeMemberRow
	Error    string
	Values   managedValues
	Profiles []filterOption
	Choices  []serverChoice
	Errors   map[string]string
}

// renderHome shows the Home page with status.
func (f *Feature) renderHome(w http.ResponseWriter, r *http.Request, status int, v managedValues, errs map[string]string) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	view := homeView{Values: v, Choices: serverChoices(ix, v.Libraries), Errors: errs}
	for _, p := range restrictionProfiles {
		p.Selected = p.Value == v.Profile
		view.Profiles = append(view.Profiles, p)
	}
	list, err := f.engine.HomeMembers(r.Context())
	if err != nil {
		var st int
		_, view.Error, st, _ = f.outcome(err, "")
		if status == http.StatusOK {
			status = st
		}
	}
	for _, m := range list {
		row := homeMemberRow{HomeMember: m}
		if _, err := f.store.CachedUser(m.ID); err == nil {
			row.Known = true
		}
		view.Members = append(view.Members, row)
	}
	web.RenderStatus(w, r, status, pageHome, view)
}

// homePage answers GET /users/home.
func (f *Feature) homePage(w http.ResponseWriter, r *http.Request) {
	f.renderHome(w, r, http.StatusOK, managedValues{Libraries: map[string]bool{}}, nil)
}

// createManaged answers POST /users/home/managed.
func (f *Feature) createManaged(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	form := r.PostForm
	v := managedValues{Name: strings.TrimSpace(form.Get("name")), Profile: form.Get("restriction_profile"),
		AllowDownloads: form.Get("allow_downloads") != "", FilterMovies: strings.TrimSpace(form.Get("filter_movies")),
		FilterTelevision: strings.TrimSpace(form.Get("filter_television")), FilterMusic: strings.TrimSpace(form.Get("filter_music")),
		Libraries: checkedLibraries(form)}
	pf := f.form(w, r, func(status int, errs map[string]string) { f.renderHome(w, r, status, v, errs) })
	libs, ok := pf.libraries(form)
	if !ok {
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	u, err := f.engine.CreateManagedUser(pctx, actor(r), access.ManagedUserRequest{Name: v.Name, RestrictionProfile: v.Profile,
		Libraries: libs, AllowDownloads: v.AllowDownloads,
		Filters: storage.Filters{Movies: v.FilterMovies, Television: v.FilterTelevision, Music: v.FilterMusic}})
	pf.finish(err, "Managed user "+v.Name+" created.", u.ID, "/users/home")
}

// homeRemoveForm answers GET /users/home/{id}/remove.
func (f *Feature) homeRemoveForm(w http.ResponseWriter, r *http.Request) {
	f.removeConfirmation(w, r, pageHomeRemove)
}

// homeRemove answers POST /users/home/{id}/remove.
func (f *Feature) homeRemove(w http.ResponseWriter, r *http.Request) {
	u, ok := f.pathUser(w, r)
	if !ok {
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	err := f.engine.RemoveManagedUser(pctx, actor(r), u.ID)
	kind, msg, status, done := f.outcome(err, displayName(u)+" was removed from the Plex Home.")
	if !done {
		v, verr := f.removeView(u)
		if verr != nil {
			f.serverError(w, r, "listing servers", verr)
			return
		}
		web.FlashNow(r, kind, prefixed("Nothing was removed: ", err, msg))
		web.RenderStatus(w, r, status, pageHomeRemove, v)
		return
	}
	web.Flash(w, r, kind, msg)
	web.Redirect(w, r, "/users/home")
}
