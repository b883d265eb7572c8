package users

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// maxMembershipDays bounds the membership days of a direct invitation.
const maxMembershipDays = 3650

// inviteValues are the direct invitation form's values.
type inviteValues struct {
	Invitee          string
	AllowDownloads   bool
	FilterMovies     string
	FilterTelevision string
	FilterMusic      string
	StartsAt         string
	ExpiresAt        string
	MembershipDays   string
	Notes            string
	Libraries        map[string]bool
}

// inviteView is the direct invitation page's data.
type inviteView struct {
	Values  inviteValues
	Choices []serverChoice
	Errors  map[string]string
}

// renderInvite shows the invitation form.
func (f *Feature) renderInvite(w http.ResponseWriter, r *http.Request, status int, v inviteValues, errs map[string]string) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	web.RenderStatus(w, r, status, pageInvite, inviteView{Values: v, Choices: serverChoices(ix, v.Libraries), Errors: errs})
}

// inviteForm answers GET /users/invite.
func (f *Feature) inviteForm(w http.ResponseWriter, r *http.Request) {
	f.renderInvite(w, r, http.StatusOK, inviteValues{Libraries: map[string]bool{}}, nil)
}

// invite answers POST /users/invite: share libraries with a Plex username or email address.
func (f *Feature) invite(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	form := r.PostForm
	v := inviteValues{Invitee: strings.TrimSpace(form.Get("invitee")), AllowDownloads: form.Get("allow_downloads") != "",
		FilterMovies: strings.TrimSpace(form.Get("filter_movies")), FilterTelevision: strings.TrimSpace(form.Get("filter_television")),
		FilterMusic: strings.TrimSpace(form.Get("filter_music")), StartsAt: strings.TrimSpace(form.Get("starts_at")),
		ExpiresAt: strings.TrimSpace(form.Get("expires_at")), MembershipDays: strings.TrimSpace(form.Get("membership_days")),
		Notes: strings.ReplaceAll(form.Get("notes"), "\r\n", "\n"), Libraries: checkedLibraries(form)}
	pf := f.form(w, r, func(status int, errs map[string]string) { f.renderInvite(w, r, status, v, errs) })
	libs, ok := pf.libraries(form)
	if !ok {
		return
	}
	if len(libs) == 0 {
		pf.refuse(web.NewInputError("libraries", "choose at least one library"))
		return
	}
	var err error
	settings := access.InviteSettings{AllowDownloads: v.AllowDownloads, Notes: v.Notes,
		Filters: storage.Filters{Movies: v.FilterMovies, Television: v.FilterTelevision, Music: v.FilterMusic}}
	if settings.StartsAt, err = parseFormTime("starts_at", v.StartsAt); err != nil {
		pf.refuse(err)
		return
	}
	if settings.ExpiresAt, err = parseFormTime("expires_at", v.ExpiresAt); err != nil {
		pf.refuse(err)
		return
	}
	if v.MembershipDays != "" {
		n, err := strconv.Atoi(v.MembershipDays)
		if err != nil || n < 0 || n > maxMembershipDays {
			pf.refuse(web.NewInputError("membership_days", "must be a whole number of days from 0 to %d", maxMembershipDays))
			return
		}
		settings.MembershipDays = n
	}
	if len(v.Notes) > maxNotesBytes {
		pf.refuse(web.NewInputError("notes", "are too long"))
		return
	}
	pctx, cancel := plexEditContext(r)
	defer cancel()
	res, err := f.engine.InviteDirect(pctx, actor(r), v.Invitee, libs, settings)
	done := "Invitation sent to " + v.Invitee + "."
	if res.Scheduled {
		done = v.Invitee + " is invited; access starts on schedule."
	}
	pf.finish(err, done, res.User.ID, "/users/pending")
}
