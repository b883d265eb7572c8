package handlers

import (
	"errors"
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// accountData is the data of pages/admin/admins-account.html.
type accountData struct {
	Admin  adminJSON
	Plex   bool
	Errors map[string]string
}

// accountRoutes registers the signed-in admin's own account page.
func (s *server) accountRoutes() {
	m := s.mux
	m.Page(http.MethodGet, "/account", web.RoleAuditor, s.accountPage)
	m.Page(http.MethodPost, "/account/password", web.RoleAuditor, s.accountPassword)
	m.Page(http.MethodPost, "/account/plex", web.RoleAuditor, s.accountPlexLink)
	m.Page(http.MethodPost, "/account/plex/unlink", web.RoleAuditor, s.accountPlexUnlink)
}

// renderAccount renders the account page of the signed-in admin.
func (s *server) renderAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	p, _ := web.CurrentPrincipal(r)
	a, err := s.core.store.GetAdmin(p.AdminID)
	if err != nil {
		s.serverError(w, r, "reading the signed-in admin", err)
		return
	}
	web.RenderStatus(w, r, status, "admin/admins-account", accountData{Admin: toAdminJSON(a), Plex: s.deps.Plex != nil, Errors: errs})
}

// selfOnly checks the request comes from a browser session (API keys have no account page).
func (s *server) selfOnly(w http.ResponseWriter, r *http.Request) bool {
	if !s.needCore(w, r) {
		return false
	}
	if p, _ := web.CurrentPrincipal(r); p.AdminID == "" {
		web.Error(w, r, http.StatusForbidden)
		return false
	}
	return true
}

// accountPage answers GET {base}/account.
func (s *server) accountPage(w http.ResponseWriter, r *http.Request) {
	if s.selfOnly(w, r) {
		s.renderAccount(w, r, http.StatusOK, nil)
	}
}

// accountPassword answers POST {base}/account/password: the admin changes (or sets) their own
// password; every other session of theirs ends.
func (s *server) accountPassword(w http.ResponseWriter, r *http.Request) {
	if !s.selfOnly(w, r) || !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	a, err := s.core.store.GetAdmin(p.AdminID)
	if err != nil {
		s.serverError(w, r, "reading the signed-in admin", err)
		return
	}
	errs := map[string]string{}
	if a.PasswordHash != "" {
		ip := web.ClientIP(r)
		if wait := s.core.throttle.Wait(a.Username, ip); wait > 0 {
			errs["current"] = "Too many failed attempts. Try again later."
			s.renderAccount(w, r, http.StatusTooManyRequests, errs)
			return
		}
		ok, err := s.core.hasher.Verify(r.Context(), a.PasswordHash, r.PostFormValue("current"))
		if err != nil && !errors.Is(err, auth.ErrMalformedHash) {
			s.serverError(w, r, "checking a password", err)
			return
		}
		if !ok {
			s.core.throttle.Fail(a.Username, ip)
			errs["current"] = "This is not your current password."
			s.renderAccount(w, r, http.StatusBadRequest, errs)
			return
		}
	}
	hash, ok := s.checkNewPassword(w, r, a.Username, r.PostFormValue("password"), r.PostFormValue("confirm"), errs)
	if !ok {
		if len(errs) > 0 {
			s.renderAccount(w, r, http.StatusBadRequest, errs)
		}
		return
	}
	a, err = updateAdmin(s.core.store, a.ID, func(ad *storage.Admin) error { ad.PasswordHash = hash; ad.UpdatedAt = s.now().UTC(); return nil })
	if err != nil {
		s.serverError(w, r, "changing a password", err)
		return
	}
	if _, err := s.core.sessions.DeleteAll(a.ID); err != nil {
		s.serverError(w, r, "ending sessions", err)
		return
	}
	s.record(r, storage.Event{Type: "admin.password_changed", Actor: p.Actor(), Message: a.Username + " changed their password"})
	if err := s.signIn(w, r, a, "password change"); err != nil {
		s.serverError(w, r, "starting a session", err)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "Password changed. Your other sessions have been signed out.")
	web.Redirect(w, r, "/account")
}

// accountPlexLink answers POST {base}/account/plex: links a Plex account for "Sign in with Plex".
func (s *server) accountPlexLink(w http.ResponseWriter, r *http.Request) {
	if !s.selfOnly(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	s.beginPlex(w, r, plexAuthState{Purpose: plexForLink, AdminID: p.AdminID}, "/account")
}

// accountPlexUnlink answers POST {base}/account/plex/unlink (only with a password to fall back on).
func (s *server) accountPlexUnlink(w http.ResponseWriter, r *http.Request) {
	if !s.selfOnly(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	_, err := updateAdmin(s.core.store, p.AdminID, func(a *storage.Admin) error {
		if a.PasswordHash == "" {
			return errNoPassword
		}
		a.PlexID = 0
		return nil
	})
	if errors.Is(err, errNoPassword) {
		web.Flash(w, r, web.FlashError, "Set a password first: without Plex you would have no way to sign in.")
		web.Redirect(w, r, "/account")
		return
	}
	if err != nil {
		s.serverError(w, r, "unlinking a Plex account", err)
		return
	}
	s.record(r, storage.Event{Type: "admin.plex_unlinked", Actor: p.Actor(), Message: p.Name + " unlinked their Plex account"})
	web.Flash(w, r, web.FlashSuccess, "Your Plex account is unlinked.")
	web.Redirect(w, r, "/account")
}

// errNoPassword refuses unlinking Plex from an admin without a password.
var errNoPassword = errors.New("the admin has no password")
