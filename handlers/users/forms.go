package users

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// pageForm is one submitted page form that asks the engine for a change. A refused change shows
// the form again (the reason as a message, its field marked, the error's status); a change made, or
// one Plex gets at its next retry, is reported on the page the browser is sent to.
type pageForm struct {
	f *Feature
	w http.ResponseWriter
	r *http.Request
	// show renders the form page again with status and the fields to mark (field → message).
	show func(status int, errs map[string]string)
}

// form returns the pageForm of a request; show renders the form page again.
func (f *Feature) form(w http.ResponseWriter, r *http.Request, show func(status int, errs map[string]string)) pageForm {
	return pageForm{f: f, w: w, r: r, show: show}
}

// refuse shows the form again for err: bad input or a change the engine refused.
func (p pageForm) refuse(err error) {
	kind, msg, status, _ := p.f.outcome(err, "")
	p.refused(err, kind, msg, status)
}

// refused shows the form again with an outcome already worked out for err.
func (p pageForm) refused(err error, kind, msg string, status int) {
	web.FlashNow(p.r, kind, msg)
	p.show(status, fieldErrors(err))
}

// libraries reads the checked libraries (the form's "lib" values, "serverID/key") against the
// stored servers. false means it already answered: the form again for an unknown library, the 500
// page when the servers cannot be read.
func (p pageForm) libraries(form url.Values) (map[string][]string, bool) {
	ix, err := p.f.loadServers()
	if err != nil {
		p.f.serverError(p.w, p.r, "listing servers", err)
		return nil, false
	}
	libs, err := parseLibraryValues("libraries", form["lib"], ix)
	if err != nil {
		p.refuse(err)
		return nil, false
	}
	return libs, true
}

// finish reports the engine's answer err to the change: refused, the form again; else the message
// (done, or that Plex gets it later) on the page of the user the change is about, or on the page
// at path when userID is 0 (no stored user yet).
func (p pageForm) finish(err error, done string, userID int64, path string) {
	kind, msg, status, ok := p.f.outcome(err, done)
	if !ok {
		p.refused(err, kind, msg, status)
		return
	}
	web.Flash(p.w, p.r, kind, msg)
	if userID != 0 {
		path = userPath(userID)
	}
	web.Redirect(p.w, p.r, path)
}

// fieldErrors marks the form field a validation error names; other errors mark none.
func fieldErrors(err error) map[string]string {
	errs := map[string]string{}
	if field, msg, ok := inputField(err); ok {
		errs[field] = msg
	}
	return errs
}

// checkedLibraries is the set of a form's checked "lib" values, to show them checked again.
func checkedLibraries(form url.Values) map[string]bool {
	checked := make(map[string]bool, len(form["lib"]))
	for _, lib := range form["lib"] {
		checked[lib] = true
	}
	return checked
}

// userPath is the path of a user's page below the base path.
func userPath(id int64) string {
	return "/users/" + strconv.FormatInt(id, 10)
}

// pathUser reads the user the {id} path value names, answering 404 (or 500) itself.
func (f *Feature) pathUser(w http.ResponseWriter, r *http.Request) (storage.User, bool) {
	id, ok := pageUserID(w, r)
	if !ok {
		return storage.User{}, false
	}
	return f.userByID(w, r, id)
}
