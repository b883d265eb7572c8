package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// maxAppNameLength bounds the application name.
const maxAppNameLength = 64

// settingsJSON is the settings in the REST API. Secrets are never included: only whether a Plex
// token is set.
type settingsJSON struct {
	AppName                string   `json:"app_name"`
	PublicURL              string   `json:"public_url"`
	PublicURLFixed         bool     `json:"public_url_fixed"`
	SessionIdleMinutes     int      `json:"session_idle_minutes"`
	SessionAbsoluteMinutes int      `json:"session_absolute_minutes"`
	PlexTokenSet           bool     `json:"plex_token_set"`
	PlexTokenFixed         bool     `json:"plex_token_fixed"`
	ServersFixed           []string `json:"servers_fixed"`
	SetupDone              bool     `json:"setup_done"`
}

// settingsPatch changes settings; nil fields stay.
type settingsPatch struct {
	AppName                *string `json:"app_name,omitempty"`
	PublicURL              *string `json:"public_url,omitempty"`
	SessionIdleMinutes     *int    `json:"session_idle_minutes,omitempty"`
	SessionAbsoluteMinutes *int    `json:"session_absolute_minutes,omitempty"`
}

// plexTokenInput sets the Plex owner token.
type plexTokenInput struct {
	Token string `json:"token"`
}

// settingsData is the data of pages/admin/settings.html.
type settingsData struct {
	Settings settingsJSON
	// Form values as entered (hours for the lifetimes).
	AppName       string
	PublicURL     string
	IdleHours     string
	AbsoluteHours string
	Servers       []storage.Server
	Plex          bool
	Errors        map[string]string
}

// settingsRoutes registers the settings page and API.
func (s *server) settingsRoutes() {
	m := s.mux
	m.Page(http.MethodGet, "/settings", web.RoleAdmin, s.settingsPage)
	m.Page(http.MethodPost, "/settings", web.RoleAdmin, s.settingsSave)
	m.Page(http.MethodPost, "/settings/plex-token", web.RoleAdmin, s.settingsPlexToken)
	m.Page(http.MethodPost, "/settings/plex-token/remove", web.RoleAdmin, s.settingsPlexTokenRemove)
	m.Page(http.MethodPost, "/settings/plex/signin", web.RoleAdmin, s.settingsPlexSignIn)
	m.Page(http.MethodGet, "/settings/servers", web.RoleAdmin, s.settingsServersPage)
	m.Page(http.MethodPost, "/settings/servers", web.RoleAdmin, s.settingsServersSubmit)
	m.API(http.MethodGet, "/settings", web.RoleAdmin, s.apiSettingsGet, web.APIDoc{
		Summary: "Application settings (secrets only as set/not set)", Tags: []string{"settings"}, Response: settingsJSON{}})
	m.API(http.MethodPatch, "/settings", web.RoleAdmin, s.apiSettingsPatch, web.APIDoc{
		Summary: "Change application settings", Tags: []string{"settings"}, Request: settingsPatch{}, Response: settingsJSON{}})
	m.API(http.MethodPut, "/settings/plex-token", web.RoleAdmin, s.apiPlexTokenPut, web.APIDoc{
		Summary: "Set the Plex owner token (checked with plex.tv, stored encrypted)", Tags: []string{"settings"},
		Request: plexTokenInput{}, Errors: []int{409, 502}})
	m.API(http.MethodDelete, "/settings/plex-token", web.RoleAdmin, s.apiPlexTokenDelete, web.APIDoc{
		Summary: "Remove the stored Plex owner token", Tags: []string{"settings"}, Errors: []int{409}})
}

// currentSettings builds the settings view.
func (s *server) currentSettings() (settingsJSON, AppSettings, error) {
	a, err := LoadAppSettings(s.deps.Store)
	if err != nil {
		return settingsJSON{}, a, err
	}
	idle, absolute := a.Lifetimes()
	fixed, stored := s.plexTokenState()
	out := settingsJSON{AppName: a.AppName, PublicURL: a.PublicURL, SessionIdleMinutes: int(idle.Minutes()),
		SessionAbsoluteMinutes: int(absolute.Minutes()), PlexTokenSet: fixed || stored, PlexTokenFixed: fixed,
		ServersFixed: s.deps.Fixed.PlexServers, SetupDone: a.SetupDone}
	if out.ServersFixed == nil {
		out.ServersFixed = []string{}
	}
	if s.deps.Fixed.PublicURL != "" {
		out.PublicURL, out.PublicURLFixed = s.deps.Fixed.PublicURL, true
	}
	if out.AppName == "" {
		out.AppName = s.cfg.AppName
	}
	return out, a, nil
}

// applySettingsPatch validates patch onto a. Errors are *web.InputError.
func (s *server) applySettingsPatch(a *AppSettings, patch settingsPatch) error {
	if patch.AppName != nil {
		name := strings.TrimSpace(*patch.AppName)
		switch {
		case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }):
			return &web.InputError{Field: "app_name", Message: "use printable characters only"}
		case utf8.RuneCountInString(name) > maxAppNameLength:
			return &web.InputError{Field: "app_name", Message: fmt.Sprintf("use at most %d characters", maxAppNameLength)}
		}
		a.AppName = name
	}
	if patch.PublicURL != nil {
		if s.deps.Fixed.PublicURL != "" {
			return &web.InputError{Field: "public_url", Message: "the public URL is set in the Caddyfile"}
		}
		if strings.TrimSpace(*patch.PublicURL) == "" {
			a.PublicURL = ""
		} else {
			u, msg := checkPublicURL(strings.TrimSpace(*patch.PublicURL))
			if msg != "" {
				return &web.InputError{Field: "public_url", Message: strings.TrimSuffix(strings.ToLower(msg[:1])+msg[1:], ".")}
			}
			a.PublicURL = u
		}
	}
	idle, absolute := a.SessionIdleMinutes, a.SessionAbsoluteMinutes
	if patch.SessionIdleMinutes != nil {
		idle = *patch.SessionIdleMinutes
		if idle < minSessionMinutes || idle > maxSessionIdleMinutes {
			return &web.InputError{Field: "session_idle_minutes", Message: fmt.Sprintf("must be between %d minutes and 30 days", minSessionMinutes)}
		}
	}
	if patch.SessionAbsoluteMinutes != nil {
		absolute = *patch.SessionAbsoluteMinutes
		if absolute < minSessionMinutes || absolute > maxSessionAbsoluteMinutes {
			return &web.InputError{Field: "session_absolute_minutes", Message: fmt.Sprintf("must be between %d minutes and 365 days", minSessionMinutes)}
		}
	}
	eff := AppSettings{SessionIdleMinutes: idle, SessionAbsoluteMinutes: absolute}
	if i, ab := eff.Lifetimes(); ab < i {
		field := "session_absolute_minutes"
		if patch.SessionAbsoluteMinutes == nil {
			field = "session_idle_minutes"
		}
		return &web.InputError{Field: field, Message: "the absolute lifetime must not be shorter than the idle timeout"}
	}
	a.SessionIdleMinutes, a.SessionAbsoluteMinutes = idle, absolute
	return nil
}

// saveSettings applies patch and records the change.
func (s *server) saveSettings(r *http.Request, patch settingsPatch) error {
	var changed bool
	_, err := updateAppSettings(s.deps.Store, func(a *AppSettings) error {
		before := *a
		if err := s.applySettingsPatch(a, patch); err != nil {
			return err
		}
		changed = before.PublicURL != a.PublicURL
		return nil
	})
	if err != nil {
		return err
	}
	p, _ := web.CurrentPrincipal(r)
	s.record(r, storage.Event{Type: "settings.changed", Actor: p.Actor(), Message: "application settings changed"})
	if changed {
		s.settingsChanged()
	}
	return nil
}

// renderSettings renders the settings page with status; form carries entered values of the main
// form (nil: the stored ones), errs field errors of any form.
func (s *server) renderSettings(w http.ResponseWriter, r *http.Request, status int, form *settingsData, errs map[string]string) {
	cur, _, err := s.currentSettings()
	if err != nil {
		s.serverError(w, r, "reading the settings", err)
		return
	}
	servers, err := s.deps.Store.ListServers()
	if err != nil {
		s.serverError(w, r, "listing servers", err)
		return
	}
	data := settingsData{Settings: cur, AppName: cur.AppName, PublicURL: cur.PublicURL,
		IdleHours: hours(cur.SessionIdleMinutes), AbsoluteHours: hours(cur.SessionAbsoluteMinutes),
		Servers: servers, Plex: s.deps.Plex != nil, Errors: errs}
	if form != nil {
		data.AppName, data.PublicURL, data.IdleHours, data.AbsoluteHours = form.AppName, form.PublicURL, form.IdleHours, form.AbsoluteHours
		if cur.PublicURLFixed {
			data.PublicURL = cur.PublicURL
		}
	}
	web.RenderStatus(w, r, status, "admin/settings", data)
}

// hours formats minutes as hours for the form ("12", "0.5").
func hours(minutes int) string {
	return strconv.FormatFloat(float64(minutes)/60, 'f', -1, 64)
}

// settingsPage answers GET {base}/settings.
func (s *server) settingsPage(w http.ResponseWriter, r *http.Request) {
	if s.needCore(w, r) {
		s.renderSettings(w, r, http.StatusOK, nil, nil)
	}
}

// parseHours reads an hours field into minutes.
func parseHours(field, v string) (*int, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f != f || f < 0 || f > 1e6 {
		return nil, &web.InputError{Field: field, Message: "enter a number of hours"}
	}
	m := int(f*60 + 0.5)
	return &m, nil
}

// settingsSave answers POST {base}/settings.
func (s *server) settingsSave(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) || !web.ParseForm(w, r) {
		return
	}
	form := settingsData{AppName: r.PostFormValue("app_name"), PublicURL: r.PostFormValue("public_url"),
		IdleHours: r.PostFormValue("session_idle_hours"), AbsoluteHours: r.PostFormValue("session_absolute_hours")}
	patch := settingsPatch{AppName: &form.AppName}
	if s.deps.Fixed.PublicURL == "" {
		patch.PublicURL = &form.PublicURL
	}
	var err error
	if patch.SessionIdleMinutes, err = parseHours("session_idle_hours", form.IdleHours); err == nil {
		patch.SessionAbsoluteMinutes, err = parseHours("session_absolute_hours", form.AbsoluteHours)
	}
	if err == nil {
		err = s.saveSettings(r, patch)
	}
	var inv *web.InputError
	if errors.As(err, &inv) {
		field := map[string]string{"session_idle_minutes": "session_idle_hours", "session_absolute_minutes": "session_absolute_hours"}[inv.Field]
		if field == "" {
			field = inv.Field
		}
		s.renderSettings(w, r, http.StatusBadRequest, &form, map[string]string{field: sentence(inv.Message)})
		return
	}
	if err != nil {
		s.serverError(w, r, "saving the settings", err)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "Settings saved.")
	web.Redirect(w, r, "/settings")
}

// settingsPlexToken answers POST {base}/settings/plex-token.
func (s *server) settingsPlexToken(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) || !web.ParseForm(w, r) {
		return
	}
	if s.deps.Fixed.PlexToken {
		web.Flash(w, r, web.FlashError, "The Plex token is set in the Caddyfile and cannot be changed here.")
		web.Redirect(w, r, "/settings")
		return
	}
	msg, err := s.savePlexToken(r, strings.TrimSpace(r.PostFormValue("token")))
	if err != nil {
		s.serverError(w, r, "saving the Plex token", err)
		return
	}
	if msg != "" {
		s.renderSettings(w, r, http.StatusBadRequest, nil, map[string]string{"token": msg})
		return
	}
	web.Flash(w, r, web.FlashSuccess, "Plex token saved.")
	web.Redirect(w, r, "/settings")
}

// settingsPlexTokenRemove answers POST {base}/settings/plex-token/remove.
func (s *server) settingsPlexTokenRemove(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) {
		return
	}
	if err := s.removePlexToken(r); err != nil {
		s.serverError(w, r, "removing the Plex token", err)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "Plex token removed.")
	web.Redirect(w, r, "/settings")
}

// removePlexToken deletes the stored owner token.
func (s *server) removePlexToken(r *http.Request) error {
	if err := storePlexOwnerToken(s.deps.Store, s.deps.Sealer, ""); err != nil {
		return err
	}
	p, _ := web.CurrentPrincipal(r)
	s.record(r, storage.Event{Type: "settings.plex_token_removed", Actor: p.Actor(), Message: "the stored Plex owner token was removed"})
	s.settingsChanged()
	return nil
}

// settingsPlexSignIn answers POST {base}/settings/plex/signin: the owner signs in with Plex.
func (s *server) settingsPlexSignIn(w http.ResponseWriter, r *http.Request) {
	if s.deps.Fixed.PlexToken {
		web.Error(w, r, http.StatusConflict)
		return
	}
	p, _ := web.CurrentPrincipal(r)
	s.beginPlex(w, r, plexAuthState{Purpose: plexForOwner, AdminID: p.AdminID, Return: "/settings/servers"}, "/settings")
}

// settingsServersPage answers GET {base}/settings/servers.
func (s *server) settingsServersPage(w http.ResponseWriter, r *http.Request) {
	if s.needCore(w, r) {
		s.serversPage(w, r, false, http.StatusOK, serversData{})
	}
}

// settingsServersSubmit answers POST {base}/settings/servers.
func (s *server) settingsServersSubmit(w http.ResponseWriter, r *http.Request) {
	if s.needCore(w, r) && s.saveServers(w, r, false) {
		web.Flash(w, r, web.FlashSuccess, "Servers saved.")
		web.Redirect(w, r, "/settings")
	}
}

// apiSettingsGet answers GET {base}/api/v1/settings.
func (s *server) apiSettingsGet(w http.ResponseWriter, r *http.Request) {
	if !s.apiNeedCore(w) {
		return
	}
	cur, _, err := s.currentSettings()
	if err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, cur)
}

// apiSettingsPatch answers PATCH {base}/api/v1/settings.
func (s *server) apiSettingsPatch(w http.ResponseWriter, r *http.Request) {
	var patch settingsPatch
	if !s.apiNeedCore(w) || !web.DecodeJSON(w, r, &patch) {
		return
	}
	if err := s.saveSettings(r, patch); err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	s.apiSettingsGet(w, r)
}

// apiPlexTokenPut answers PUT {base}/api/v1/settings/plex-token.
func (s *server) apiPlexTokenPut(w http.ResponseWriter, r *http.Request) {
	var in plexTokenInput
	if !s.apiNeedCore(w) || !web.DecodeJSON(w, r, &in) {
		return
	}
	if s.deps.Fixed.PlexToken {
		web.JSONError(w, http.StatusConflict, "the Plex token is set in the Caddyfile")
		return
	}
	msg, err := s.savePlexToken(r, strings.TrimSpace(in.Token))
	if err != nil {
		s.serverError(w, r, "saving the Plex token", err)
		return
	}
	if msg != "" {
		status := http.StatusBadRequest
		if strings.Contains(msg, "could not be reached") {
			status = http.StatusBadGateway
		}
		if status == http.StatusBadRequest {
			web.BadInput(w, "token", strings.TrimSuffix(strings.ToLower(msg[:1])+msg[1:], "."))
		} else {
			web.JSONError(w, status, strings.TrimSuffix(msg, "."))
		}
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiPlexTokenDelete answers DELETE {base}/api/v1/settings/plex-token.
func (s *server) apiPlexTokenDelete(w http.ResponseWriter, r *http.Request) {
	if !s.apiNeedCore(w) {
		return
	}
	if s.deps.Fixed.PlexToken {
		web.JSONError(w, http.StatusConflict, "the Plex token is set in the Caddyfile")
		return
	}
	if err := s.removePlexToken(r); err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
