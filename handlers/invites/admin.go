package invites

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Admin pages.
const (
	pageList   = "admin/invites"
	pageForm   = "admin/invite-form"
	pageDetail = "admin/invite"
)

// adminRoutes registers the admin pages: auditors read, moderators change.
func (f *Feature) adminRoutes(r web.Router) {
	r.Page(http.MethodGet, "/invites", web.RoleAuditor, f.list)
	r.Page(http.MethodGet, "/invites/new", web.RoleModerator, f.newForm)
	r.Page(http.MethodPost, "/invites", web.RoleModerator, f.create)
	r.Page(http.MethodGet, "/invites/{id}", web.RoleAuditor, f.detail)
	r.Page(http.MethodGet, "/invites/{id}/edit", web.RoleModerator, f.editForm)
	r.Page(http.MethodPost, "/invites/{id}", web.RoleModerator, f.update)
	r.Page(http.MethodPost, "/invites/{id}/delete", web.RoleModerator, f.remove)
	r.Page(http.MethodPost, "/invites/{id}/enable", web.RoleModerator, f.toggle(true))
	r.Page(http.MethodPost, "/invites/{id}/disable", web.RoleModerator, f.toggle(false))
	r.Page(http.MethodGet, "/invites/{id}/qr.png", web.RoleAuditor, f.qrPNG)
	r.Page(http.MethodGet, "/invites/{id}/qr.svg", web.RoleAuditor, f.qrSVG)
}

// rowView is one invite in the list.
type rowView struct {
	storage.Invite
	URL   string
	State string
}

// listView is the list page's data.
type listView struct {
	Invites  []rowView
	LinkBase string
}

// list answers GET /invites.
func (f *Feature) list(w http.ResponseWriter, r *http.Request) {
	invites, err := f.svc.List()
	if err != nil {
		f.serverError(w, r, "listing invites", err)
		return
	}
	now := f.now()
	v := listView{LinkBase: f.svc.LinkBase()}
	for _, inv := range invites {
		v.Invites = append(v.Invites, rowView{Invite: inv, URL: f.svc.URL(inv), State: inviteState(inv, now)})
	}
	web.Render(w, r, pageList, v)
}

// formView is the create/edit form's data.
type formView struct {
	Edit     bool
	ID       string
	Values   formValues
	Servers  []serverChoice
	Errors   map[string]string
	Discord  bool
	LinkBase string
	Filters  []filterInput
}

// filterInput is one restriction filter input of the form.
type filterInput struct {
	Name, Label, Value, Error string
}

// newFormView builds the form's data.
func (f *Feature) newFormView(id string, v formValues, errs map[string]string) (formView, error) {
	servers, err := f.svc.Servers()
	if err != nil {
		return formView{}, err
	}
	return formView{Edit: id != "", ID: id, Values: v, Servers: serverChoices(servers, v.Libraries), Errors: errs,
		Discord:  f.svc.DiscordAvailable() || v.Discord == storage.DiscordOptional || v.Discord == storage.DiscordRequired,
		LinkBase: f.svc.LinkBase(), Filters: []filterInput{
			{Name: "filter_movies", Label: "Movies", Value: v.FilterMovies, Error: errs["filter_movies"]},
			{Name: "filter_television", Label: "TV shows", Value: v.FilterTV, Error: errs["filter_television"]},
			{Name: "filter_music", Label: "Music", Value: v.FilterMusic, Error: errs["filter_music"]},
		}}, nil
}

// renderForm shows the form with status.
func (f *Feature) renderForm(w http.ResponseWriter, r *http.Request, status int, id string, v formValues, errs map[string]string) {
	fv, err := f.newFormView(id, v, errs)
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	web.RenderStatus(w, r, status, pageForm, fv)
}

// newForm answers GET /invites/new.
func (f *Feature) newForm(w http.ResponseWriter, r *http.Request) {
	f.renderForm(w, r, http.StatusOK, "", formValues{Enabled: true, Discord: storage.DiscordOff}, nil)
}

// create answers POST /invites.
func (f *Feature) create(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	v := readForm(r)
	spec, err := v.spec()
	if err == nil {
		var inv storage.Invite
		if inv, err = f.svc.Create(r.Context(), actor(r), spec); err == nil {
			web.Flash(w, r, web.FlashSuccess, "Invite created.")
			web.Redirect(w, r, "/invites/"+inv.ID)
			return
		}
	}
	f.formError(w, r, "", v, err)
}

// formError shows the form again for a *FieldError, or answers a server error.
func (f *Feature) formError(w http.ResponseWriter, r *http.Request, id string, v formValues, err error) {
	var fe *invite.FieldError
	if errors.As(err, &fe) {
		web.FlashNow(r, web.FlashError, "Please correct the highlighted field: "+fe.Error())
		f.renderForm(w, r, http.StatusBadRequest, id, v, map[string]string{fieldGroup(fe.Field): fe.Message})
		return
	}
	if errors.Is(err, invite.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	f.serverError(w, r, "saving an invite", err)
}

// fieldGroup maps an error's field to the form control that shows it.
func fieldGroup(field string) string {
	switch field {
	case "filters.movies":
		return "filter_movies"
	case "filters.television":
		return "filter_television"
	case "filters.music":
		return "filter_music"
	}
	return field
}

// detailView is the detail page's data.
type detailView struct {
	Invite      storage.Invite
	URL         string
	State       string
	Offer       offerView
	Redemptions []storage.Redemption
	Joined      int
	Failed      int
}

// detail answers GET /invites/{id}.
func (f *Feature) detail(w http.ResponseWriter, r *http.Request) {
	inv, ok := f.load(w, r)
	if !ok {
		return
	}
	reds, err := f.svc.Redemptions(inv.ID)
	if err != nil {
		f.serverError(w, r, "listing redemptions", err)
		return
	}
	v := detailView{Invite: inv, URL: f.svc.URL(inv), State: inviteState(inv, f.now()), Offer: f.offerOf(inv)}
	// Newest first for the page.
	for i := len(reds) - 1; i >= 0; i-- {
		v.Redemptions = append(v.Redemptions, reds[i])
		switch reds[i].Outcome {
		case storage.OutcomeJoined, storage.OutcomeUpdated:
			v.Joined++
		case storage.OutcomeFailed:
			v.Failed++
		}
	}
	web.Render(w, r, pageDetail, v)
}

// editForm answers GET /invites/{id}/edit.
func (f *Feature) editForm(w http.ResponseWriter, r *http.Request) {
	inv, ok := f.load(w, r)
	if !ok {
		return
	}
	f.renderForm(w, r, http.StatusOK, inv.ID, valuesOf(inv), nil)
}

// update answers POST /invites/{id}.
func (f *Feature) update(w http.ResponseWriter, r *http.Request) {
	inv, ok := f.load(w, r)
	if !ok {
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	v := readForm(r)
	spec, err := v.spec()
	if err == nil {
		if _, err = f.svc.Update(r.Context(), actor(r), inv.ID, spec); err == nil {
			web.Flash(w, r, web.FlashSuccess, "Invite saved.")
			web.Redirect(w, r, "/invites/"+inv.ID)
			return
		}
	}
	f.formError(w, r, inv.ID, v, err)
}

// remove answers POST /invites/{id}/delete.
func (f *Feature) remove(w http.ResponseWriter, r *http.Request) {
	err := f.svc.Delete(r.Context(), actor(r), r.PathValue("id"))
	switch {
	case errors.Is(err, invite.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
	case err != nil:
		f.serverError(w, r, "deleting an invite", err)
	default:
		web.Flash(w, r, web.FlashSuccess, "Invite deleted. People who joined with it keep their access.")
		web.Redirect(w, r, "/invites")
	}
}

// toggle answers POST /invites/{id}/enable and /disable.
func (f *Feature) toggle(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		inv, err := f.svc.SetEnabled(r.Context(), actor(r), r.PathValue("id"), enabled)
		switch {
		case errors.Is(err, invite.ErrNotFound):
			web.Error(w, r, http.StatusNotFound)
			return
		case err != nil:
			var fe *invite.FieldError
			if errors.As(err, &fe) {
				web.Flash(w, r, web.FlashError, "The invite could not be changed: "+fe.Error()+". Edit it to fix this.")
				web.Redirect(w, r, "/invites/"+r.PathValue("id"))
				return
			}
			f.serverError(w, r, "changing an invite", err)
			return
		}
		msg := "Invite disabled: its link no longer works."
		if enabled {
			msg = "Invite enabled."
		}
		web.Flash(w, r, web.FlashSuccess, msg)
		web.Redirect(w, r, "/invites/"+inv.ID)
	}
}

// load reads the invite named by the {id} path value, answering 404 itself.
func (f *Feature) load(w http.ResponseWriter, r *http.Request) (storage.Invite, bool) {
	inv, err := f.svc.Get(r.PathValue("id"))
	if errors.Is(err, invite.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return storage.Invite{}, false
	}
	if err != nil {
		f.serverError(w, r, "reading an invite", err)
		return storage.Invite{}, false
	}
	return inv, true
}

// qrPNG answers GET /invites/{id}/qr.png (page and API).
func (f *Feature) qrPNG(w http.ResponseWriter, r *http.Request) {
	q, ok := f.qr(w, r)
	if !ok {
		return
	}
	scale := 8
	if s, err := strconv.Atoi(r.URL.Query().Get("scale")); err == nil && s >= 1 && s <= 32 {
		scale = s
	}
	png, err := q.PNG(scale)
	if err != nil {
		f.serverError(w, r, "drawing a QR code", err)
		return
	}
	writeImage(w, "image/png", png)
}

// qrSVG answers GET /invites/{id}/qr.svg (page and API).
func (f *Feature) qrSVG(w http.ResponseWriter, r *http.Request) {
	q, ok := f.qr(w, r)
	if !ok {
		return
	}
	writeImage(w, "image/svg+xml", q.SVG())
}

// qr encodes the link of the invite named by {id}; without a public URL there is no link (409).
func (f *Feature) qr(w http.ResponseWriter, r *http.Request) (invite.QR, bool) {
	inv, ok := f.load(w, r)
	if !ok {
		return invite.QR{}, false
	}
	link := f.svc.URL(inv)
	if link == "" {
		web.Error(w, r, http.StatusConflict)
		return invite.QR{}, false
	}
	q, err := invite.EncodeQR(link)
	if err != nil {
		f.serverError(w, r, "encoding a QR code", err)
		return invite.QR{}, false
	}
	return q, true
}

// writeImage answers an image. The QR code of an invite is as private as its link: no caching
// beyond the browser's session (the handler already sets no-store).
func writeImage(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// actor is the audit actor of the request.
func actor(r *http.Request) string {
	if p, ok := web.CurrentPrincipal(r); ok {
		return p.Actor()
	}
	return "system"
}

// serverError logs err and answers it with web.ServerError: 507 when the data disk is full, 503
// when the store is closed, otherwise 500 (the page, or JSON under the API).
func (f *Feature) serverError(w http.ResponseWriter, r *http.Request, doing string, err error) {
	web.ServerError(w, r, f.log, doing, err)
}
