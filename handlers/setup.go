package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The setup flow: after the setup code is accepted, the browser gets a flow token (cookie) that
// authorises creating the first admin for an hour.
const (
	setupFlowKind     = "setupflow"
	setupFlowCookie   = "pm_setup"
	setupFlowLifetime = time.Hour
)

// Setup steps, as setupData.Step names them.
const (
	stepCode   = "code"
	stepAdmin  = "admin"
	stepPlex   = "plex"
	stepURL    = "url"
	stepClosed = "closed"
)

// setupData is the data of pages/admin/setup.html.
type setupData struct {
	Step string
	// Errors maps form fields to messages; Error is a message for the whole form.
	Errors map[string]string
	Error  string
	// Username is the entered username (step admin).
	Username string
	// Plex offers Plex sign-in.
	Plex bool
	// TokenFixed: the Caddyfile sets the Plex token. TokenStored: the UI stored one.
	TokenFixed  bool
	TokenStored bool
	// PublicURL is the current or suggested public URL; URLFixed when the Caddyfile sets it.
	PublicURL string
	URLFixed  bool
	// Unavailable means setup cannot run (no store).
	Unavailable bool
}

// setupRoutes registers the wizard.
func (s *server) setupRoutes() {
	m := s.mux
	m.Open(http.MethodGet, web.SetupPath, http.HandlerFunc(s.setupCodePage))
	m.Open(http.MethodPost, web.SetupPath, http.HandlerFunc(s.setupCodeSubmit))
	m.Open(http.MethodPost, web.SetupPath+"/new-code", http.HandlerFunc(s.setupNewCode))
	m.Open(http.MethodGet, web.SetupPath+"/admin", http.HandlerFunc(s.setupAdminPage))
	m.Open(http.MethodPost, web.SetupPath+"/admin", http.HandlerFunc(s.setupAdminSubmit))
	m.Open(http.MethodPost, web.SetupPath+"/admin/plex", http.HandlerFunc(s.setupAdminPlex))
	m.Page(http.MethodGet, web.SetupPath+"/plex", web.RoleAdmin, s.setupOnly(s.setupPlexPage))
	m.Page(http.MethodPost, web.SetupPath+"/plex/token", web.RoleAdmin, s.setupOnly(s.setupPlexToken))
	m.Page(http.MethodPost, web.SetupPath+"/plex/signin", web.RoleAdmin, s.setupOnly(s.setupPlexSignIn))
	m.Page(http.MethodGet, web.SetupPath+"/servers", web.RoleAdmin, s.setupOnly(s.setupServersPage))
	m.Page(http.MethodPost, web.SetupPath+"/servers", web.RoleAdmin, s.setupOnly(s.setupServersSubmit))
	m.Page(http.MethodGet, web.SetupPath+"/url", web.RoleAdmin, s.setupOnly(s.setupURLPage))
	m.Page(http.MethodPost, web.SetupPath+"/url", web.RoleAdmin, s.setupOnly(s.setupURLSubmit))
}

// setupClosed renders the 403 "setup is complete" page.
func (s *server) setupClosed(w http.ResponseWriter, r *http.Request) {
	web.RenderStatus(w, r, http.StatusForbidden, "admin/setup", setupData{Step: stepClosed})
}

// adminsExist reports whether setup's first part is over.
func (s *server) adminsExist(r *http.Request) (bool, error) {
	pending, err := s.core.SetupPending(r)
	return !pending, err
}

// setupOpen checks that steps 1–2 may run: a store exists and no admin yet. It answers otherwise.
func (s *server) setupOpen(w http.ResponseWriter, r *http.Request) bool {
	if s.core == nil {
		web.RenderStatus(w, r, http.StatusServiceUnavailable, "admin/setup", setupData{Unavailable: true})
		return false
	}
	exist, err := s.adminsExist(r)
	if err != nil {
		s.serverError(w, r, "checking for admins", err)
		return false
	}
	if exist {
		// A signed-in admin in the middle of the wizard continues it; anybody else is refused.
		if p, err := s.core.Session(r); err == nil && p.Role == web.RoleAdmin && r.Method == http.MethodGet {
			if a, err := LoadAppSettings(s.deps.Store); err == nil && !a.SetupDone {
				web.Redirect(w, r, web.SetupPath+"/plex")
				return false
			}
		}
		s.setupClosed(w, r)
		return false
	}
	return true
}

// setupOnly wraps steps 3–4 (admin already signed in): refused once the wizard is finished.
func (s *server) setupOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.core == nil {
			s.setupClosed(w, r)
			return
		}
		a, err := LoadAppSettings(s.deps.Store)
		if err != nil {
			s.serverError(w, r, "reading the settings", err)
			return
		}
		if a.SetupDone {
			s.setupClosed(w, r)
			return
		}
		h(w, r)
	}
}

// setupCodePage answers GET {base}/setup: step 1, the setup code.
func (s *server) setupCodePage(w http.ResponseWriter, r *http.Request) {
	if !s.setupOpen(w, r) {
		return
	}
	web.Render(w, r, "admin/setup", setupData{Step: stepCode})
}

// setupCodeSubmit answers POST {base}/setup: checks the code and opens the flow.
func (s *server) setupCodeSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.setupOpen(w, r) || !web.ParseForm(w, r) {
		return
	}
	data := setupData{Step: stepCode, Errors: map[string]string{}}
	ip := web.ClientIP(r)
	if wait := s.core.throttle.Wait("", ip); wait > 0 {
		data.Error = tooManyAttempts(w, wait)
		web.RenderStatus(w, r, http.StatusTooManyRequests, "admin/setup", data)
		return
	}
	code := r.PostFormValue("code")
	if strings.TrimSpace(code) == "" {
		data.Errors["code"] = "Enter the setup code from the server log."
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/setup", data)
		return
	}
	err := s.core.codes.Redeem(code)
	if errors.Is(err, auth.ErrBadSetupCode) {
		s.core.throttle.Fail("", ip)
		s.logger.Info("wrong setup code", zap.String("client_ip", ip))
		data.Errors["code"] = "This code is wrong or has expired. Check the server log for the current code."
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/setup", data)
		return
	}
	if err != nil {
		s.serverError(w, r, "checking the setup code", err)
		return
	}
	token := auth.NewToken()
	if err := s.core.store.PutState(setupFlowKind, auth.HashToken(token), []byte("{}"), setupFlowLifetime); err != nil {
		s.serverError(w, r, "opening the setup flow", err)
		return
	}
	http.SetCookie(w, web.NewCookie(r, setupFlowCookie, token, setupFlowLifetime))
	s.logger.Info("setup code accepted", zap.String("client_ip", ip))
	web.Redirect(w, r, web.SetupPath+"/admin")
}

// setupNewCode answers POST {base}/setup/new-code: issues (and logs) a new code when none is valid.
func (s *server) setupNewCode(w http.ResponseWriter, r *http.Request) {
	if !s.setupOpen(w, r) {
		return
	}
	ip := web.ClientIP(r)
	if wait := s.core.throttle.Wait("", ip); wait > 0 {
		data := setupData{Step: stepCode}
		data.Error = tooManyAttempts(w, wait)
		web.RenderStatus(w, r, http.StatusTooManyRequests, "admin/setup", data)
		return
	}
	active, err := s.core.codes.Active()
	if err != nil {
		s.serverError(w, r, "checking the setup code", err)
		return
	}
	if active {
		web.Flash(w, r, web.FlashInfo, "The current setup code is still valid: look for it in the server log.")
		web.Redirect(w, r, web.SetupPath)
		return
	}
	// Counted like a failure, so nobody can make the server issue codes in a loop.
	s.core.throttle.Fail("", ip)
	if _, err := IssueSetupCode(s.core.store, s.logger, s.clock); err != nil {
		s.serverError(w, r, "issuing a setup code", err)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "A new setup code is in the server log. It is valid for one hour.")
	web.Redirect(w, r, web.SetupPath)
}

// flowValid reports whether the request carries a live setup flow; it returns the flow key.
func (s *server) flowValid(r *http.Request) (string, bool) {
	token := web.ReadCookie(r, setupFlowCookie)
	if token == "" {
		return "", false
	}
	key := auth.HashToken(token)
	ok := false
	_ = s.core.store.Update(func(tx *storage.Tx) error {
		ok = false
		val, err := tx.States().Take(setupFlowKind, key)
		if err != nil {
			return nil
		}
		ok = true
		// Put it back: the flow lasts until the admin is created (its TTL restarts, bounded by
		// the hour the setup code itself allowed).
		return tx.States().Put(setupFlowKind, key, val, setupFlowLifetime)
	})
	return key, ok
}

// requireFlow answers the request unless steps 1–2 are open and it carries a live flow.
func (s *server) requireFlow(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !s.setupOpen(w, r) {
		return "", false
	}
	key, ok := s.flowValid(r)
	if !ok {
		web.Flash(w, r, web.FlashWarning, "Enter the setup code first.")
		web.Redirect(w, r, web.SetupPath)
		return "", false
	}
	return key, true
}

// setupAdminPage answers GET {base}/setup/admin: step 2, the first admin.
func (s *server) setupAdminPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireFlow(w, r); !ok {
		return
	}
	web.Render(w, r, "admin/setup", setupData{Step: stepAdmin, Plex: s.deps.Plex != nil})
}

// setupAdminSubmit answers POST {base}/setup/admin: creates the first admin with a password.
func (s *server) setupAdminSubmit(w http.ResponseWriter, r *http.Request) {
	flow, ok := s.requireFlow(w, r)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	username := auth.NormalizeUsername(r.PostFormValue("username"))
	data := setupData{Step: stepAdmin, Plex: s.deps.Plex != nil, Username: username, Errors: map[string]string{}}
	hash, ok := s.checkNewPassword(w, r, username, r.PostFormValue("password"), r.PostFormValue("confirm"), data.Errors)
	if !ok {
		if len(data.Errors) > 0 {
			web.RenderStatus(w, r, http.StatusBadRequest, "admin/setup", data)
		}
		return
	}
	s.setUpFirstAdmin(w, r, flow, "password", func(tx *storage.Tx) (storage.Admin, error) {
		return storage.Admin{Username: username, PasswordHash: hash}, nil
	})
}

// checkNewPassword validates a new username/password pair into errs and hashes the password.
// It answers the request itself only on a server error (ok false, errs empty).
func (s *server) checkNewPassword(w http.ResponseWriter, r *http.Request, username, password, confirm string, errs map[string]string) (string, bool) {
	var inv *auth.InvalidError
	if err := auth.CheckUsername(username); errors.As(err, &inv) {
		errs["username"] = inv.Reason
	}
	var weak *auth.WeakPasswordError
	if err := auth.CheckPasswordStrength(password, username, s.core.common); errors.As(err, &weak) {
		errs["password"] = weak.Reason
	} else if password != confirm {
		errs["confirm"] = "The two passwords differ."
	}
	if len(errs) > 0 {
		return "", false
	}
	hash, err := s.core.hasher.Hash(r.Context(), password)
	if err != nil {
		s.serverError(w, r, "hashing a password", err)
		return "", false
	}
	return hash, true
}

// errSetupRace means an admin appeared while the first one was being created.
var errSetupRace = errors.New("an admin already exists")

// createFirstAdmin creates the first admin atomically: only while none exists, consuming the
// setup flow.
func (s *server) createFirstAdmin(flow string, build func(tx *storage.Tx) (storage.Admin, error)) (storage.Admin, error) {
	now := s.now().UTC()
	var out storage.Admin
	err := s.core.store.Update(func(tx *storage.Tx) error {
		n, err := tx.Admins().Count()
		if err != nil {
			return err
		}
		if n > 0 {
			return errSetupRace
		}
		if _, err := tx.States().Take(setupFlowKind, flow); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return errSetupRace
			}
			return err
		}
		a, err := build(tx)
		if err != nil {
			return err
		}
		a.ID, a.Role, a.CreatedAt, a.UpdatedAt = storage.NewID(), storage.RoleAdmin, now, now
		out = a
		return tx.Admins().Put(a)
	})
	return out, err
}

// setUpFirstAdmin creates the first admin with build (createFirstAdmin) and signs it in with
// method (finishFirstAdmin). When another setup won the race it shows that setup is closed.
func (s *server) setUpFirstAdmin(w http.ResponseWriter, r *http.Request, flow, method string, build func(tx *storage.Tx) (storage.Admin, error)) {
	a, err := s.createFirstAdmin(flow, build)
	if errors.Is(err, errSetupRace) {
		s.setupClosed(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "creating the first admin", err)
		return
	}
	s.finishFirstAdmin(w, r, a, method)
}

// finishFirstAdmin signs the new first admin in and continues with step 3.
func (s *server) finishFirstAdmin(w http.ResponseWriter, r *http.Request, a storage.Admin, method string) {
	s.core.adminsExist.Store(true)
	http.SetCookie(w, web.NewCookie(r, setupFlowCookie, "", -1))
	s.record(r, storage.Event{Type: "admin.created", Actor: "admin:" + a.Username,
		Message: fmt.Sprintf("first admin %s created by the setup wizard (%s)", a.Username, method)})
	s.logger.Info("first admin created", zap.String("admin", a.Username))
	if err := s.signIn(w, r, a, method); err != nil {
		s.serverError(w, r, "starting a session", err)
		return
	}
	web.Redirect(w, r, web.SetupPath+"/plex")
}

// setupAdminPlex answers POST {base}/setup/admin/plex: the first admin signs in with Plex.
func (s *server) setupAdminPlex(w http.ResponseWriter, r *http.Request) {
	flow, ok := s.requireFlow(w, r)
	if !ok {
		return
	}
	s.beginPlex(w, r, plexAuthState{Purpose: plexForSetupAdmin, Flow: flow}, web.SetupPath+"/admin")
}

// setupAdminFromPlex finishes step 2 with a Plex account.
func (s *server) setupAdminFromPlex(w http.ResponseWriter, r *http.Request, st plexAuthState, acct plexAccount) {
	flow, ok := s.requireFlow(w, r)
	if !ok {
		return
	}
	if flow != st.Flow {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	s.setUpFirstAdmin(w, r, flow, "plex", func(tx *storage.Tx) (storage.Admin, error) {
		return storage.Admin{Username: s.plexUsernameFor(tx, acct), PlexID: acct.ID}, nil
	})
}

// plexTokenState reports whether the Caddyfile fixes the Plex token and whether the UI stored one.
func (s *server) plexTokenState() (fixed, stored bool) {
	t, err := PlexOwnerToken(s.deps.Store, s.deps.Sealer)
	return s.deps.Fixed.PlexToken, err == nil && t != ""
}

// setupPlexPage answers GET {base}/setup/plex: step 3, the Plex connection.
func (s *server) setupPlexPage(w http.ResponseWriter, r *http.Request) {
	fixed, stored := s.plexTokenState()
	web.Render(w, r, "admin/setup", setupData{Step: stepPlex, Plex: s.deps.Plex != nil, TokenFixed: fixed, TokenStored: stored})
}

// setupPlexToken answers POST {base}/setup/plex/token: a pasted owner token.
func (s *server) setupPlexToken(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	fixed, stored := s.plexTokenState()
	data := setupData{Step: stepPlex, Plex: s.deps.Plex != nil, TokenFixed: fixed, TokenStored: stored, Errors: map[string]string{}}
	if fixed {
		data.Error = "The Plex token is set in the Caddyfile and cannot be changed here."
		web.RenderStatus(w, r, http.StatusConflict, "admin/setup", data)
		return
	}
	msg, err := s.savePlexToken(r, strings.TrimSpace(r.PostFormValue("token")))
	if err != nil {
		s.serverError(w, r, "saving the Plex token", err)
		return
	}
	if msg != "" {
		data.Errors["token"] = msg
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/setup", data)
		return
	}
	web.Redirect(w, r, web.SetupPath+"/servers")
}

// savePlexToken checks token against plex.tv and stores it sealed. It returns a message for the
// token field (the token is not usable, or plex.tv cannot check it), or an error when the store
// refused the token (the caller answers it with serverError: a full data disk is a 507); both
// empty on success.
func (s *server) savePlexToken(r *http.Request, token string) (string, error) {
	switch {
	case token == "":
		return "Paste the Plex token of the server owner.", nil
	case len(token) > 512 || strings.ContainsAny(token, " \t\r\n"):
		return "This does not look like a Plex token.", nil
	case s.deps.Plex == nil:
		return "Plex is not configured on this server.", nil
	case s.deps.Sealer == nil:
		return "The server has no sealing key, so it cannot keep a token safely.", nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	if _, err := s.deps.Plex.Account(ctx, token); err != nil {
		if errors.Is(err, plex.ErrUnauthorized) || errors.Is(err, plex.ErrForbidden) {
			return "Plex rejected this token.", nil
		}
		s.logger.Warn("checking a Plex token", zap.Error(err))
		return "plex.tv could not be reached to check the token. Try again in a moment.", nil
	}
	if err := storePlexOwnerToken(s.deps.Store, s.deps.Sealer, token); err != nil {
		return "", fmt.Errorf("storing the Plex token: %w", err)
	}
	p, _ := web.CurrentPrincipal(r)
	s.record(r, storage.Event{Type: "settings.plex_token_set", Actor: p.Actor(), Message: "the Plex owner token was set"})
	s.settingsChanged()
	return "", nil
}

// setupPlexSignIn answers POST {base}/setup/plex/signin: the server owner signs in with Plex.
func (s *server) setupPlexSignIn(w http.ResponseWriter, r *http.Request) {
	p, _ := web.CurrentPrincipal(r)
	if s.deps.Fixed.PlexToken {
		web.Error(w, r, http.StatusConflict)
		return
	}
	s.beginPlex(w, r, plexAuthState{Purpose: plexForOwner, AdminID: p.AdminID, Return: web.SetupPath + "/servers"}, web.SetupPath+"/plex")
}

// ownerFromPlex stores the token of the Plex account that signed in as the owner token.
func (s *server) ownerFromPlex(w http.ResponseWriter, r *http.Request, st plexAuthState, acct plexAccount) {
	p, err := s.core.Session(r)
	if err != nil || p.AdminID != st.AdminID || p.Role != web.RoleAdmin || s.deps.Fixed.PlexToken {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	if s.deps.Sealer == nil {
		web.Flash(w, r, web.FlashError, "The server has no sealing key, so it cannot keep a token safely.")
		web.Redirect(w, r, plexBack(st))
		return
	}
	if err := storePlexOwnerToken(s.deps.Store, s.deps.Sealer, acct.Token); err != nil {
		s.serverError(w, r, "storing the Plex token", err)
		return
	}
	s.record(r, storage.Event{Type: "settings.plex_token_set", Actor: p.Actor(),
		Message: "the Plex owner token was set by signing in with Plex", Data: map[string]any{"plex_account_id": acct.ID}})
	s.settingsChanged()
	web.Flash(w, r, web.FlashSuccess, "Connected to Plex.")
	web.Redirect(w, r, st.Return)
}

// setupURLPage answers GET {base}/setup/url: step 4, the public URL.
func (s *server) setupURLPage(w http.ResponseWriter, r *http.Request) {
	data := setupData{Step: stepURL, URLFixed: s.deps.Fixed.PublicURL != ""}
	a, _ := LoadAppSettings(s.deps.Store)
	switch {
	case data.URLFixed:
		data.PublicURL = s.deps.Fixed.PublicURL
	case a.PublicURL != "":
		data.PublicURL = a.PublicURL
	default:
		data.PublicURL = requestOrigin(r)
	}
	web.Render(w, r, "admin/setup", data)
}

// setupURLSubmit answers POST {base}/setup/url: saves the public URL and finishes the wizard.
func (s *server) setupURLSubmit(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	fixed := s.deps.Fixed.PublicURL != ""
	raw := strings.TrimSpace(r.PostFormValue("public_url"))
	var publicURL string
	if !fixed {
		var msg string
		if publicURL, msg = checkPublicURL(raw); msg != "" {
			data := setupData{Step: stepURL, PublicURL: raw, Errors: map[string]string{"public_url": msg}}
			web.RenderStatus(w, r, http.StatusBadRequest, "admin/setup", data)
			return
		}
	}
	now := s.now().UTC()
	_, err := updateAppSettings(s.deps.Store, func(a *AppSettings) error {
		if !fixed {
			a.PublicURL = publicURL
		}
		a.SetupDone, a.SetupDoneAt = true, now
		return nil
	})
	if err != nil {
		s.serverError(w, r, "finishing setup", err)
		return
	}
	p, _ := web.CurrentPrincipal(r)
	s.record(r, storage.Event{Type: "setup.completed", Actor: p.Actor(), Message: "the setup wizard was completed"})
	s.settingsChanged()
	web.Flash(w, r, web.FlashSuccess, "Setup is complete.")
	web.Redirect(w, r, "/")
}

// checkPublicURL validates a public URL: absolute http(s), a host, no credentials, query or
// fragment. It returns the normalised URL (no trailing slash) or a message.
func checkPublicURL(raw string) (string, string) {
	if raw == "" {
		return "", "Enter the address people use to reach this server, such as https://plex.example.com."
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return "", "Enter an absolute address starting with https:// (or http://)."
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, " <>\"'") {
		return "", "The address must not contain a user name, a query or a fragment."
	}
	if len(raw) > 512 {
		return "", "The address is too long."
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String(), ""
}
