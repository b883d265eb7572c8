package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// loginData is the data of pages/admin/login.html.
type loginData struct {
	Username string
	// Next is where to go after signing in (a validated local path, or "").
	Next string
	// Error is shown above the form.
	Error string
	// Plex offers "Sign in with Plex".
	Plex bool
	// Unavailable means sign-in cannot work (no store configured).
	Unavailable bool
}

// loginRoutes registers sign-in and sign-out.
func (s *server) loginRoutes() {
	m := s.mux
	m.Open(http.MethodGet, web.LoginPath, http.HandlerFunc(s.loginPage))
	m.Open(http.MethodPost, web.LoginPath, http.HandlerFunc(s.loginSubmit))
	m.Open(http.MethodPost, "/logout", http.HandlerFunc(s.logout))
	m.Page(http.MethodPost, "/logout/everywhere", web.RoleAuditor, s.logoutEverywhere)
}

// safeNext returns next if it is a local path below the base path, else "".
func safeNext(r *http.Request, next string) string {
	if next != "" && web.LocalTarget(r, next) {
		return next
	}
	return ""
}

// loginPage answers GET {base}/login.
func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	data := loginData{Next: safeNext(r, r.URL.Query().Get("next")), Plex: s.deps.Plex != nil}
	if s.core == nil {
		data.Unavailable = true
		web.RenderStatus(w, r, http.StatusServiceUnavailable, "admin/login", data)
		return
	}
	if pending, err := s.core.SetupPending(r); err != nil {
		s.serverError(w, r, "checking for admins", err)
		return
	} else if pending {
		web.Redirect(w, r, web.SetupPath)
		return
	}
	if _, err := s.core.Session(r); err == nil {
		web.RedirectTo(w, r, s.afterSignIn(r, data.Next))
		return
	}
	web.Render(w, r, "admin/login", data)
}

// afterSignIn is where a signed-in admin goes: next, or the dashboard.
func (s *server) afterSignIn(r *http.Request, next string) string {
	if next = safeNext(r, next); next != "" {
		return next
	}
	return web.URL(r, "/")
}

// loginSubmit answers POST {base}/login: username and password.
func (s *server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	data := loginData{Plex: s.deps.Plex != nil}
	if s.core == nil {
		data.Unavailable = true
		web.RenderStatus(w, r, http.StatusServiceUnavailable, "admin/login", data)
		return
	}
	if !web.ParseForm(w, r) {
		return
	}
	c := s.core
	username := auth.NormalizeUsername(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	data.Username, data.Next = username, safeNext(r, r.PostFormValue("next"))
	if username == "" || password == "" {
		data.Error = "Enter your username and password."
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/login", data)
		return
	}
	ip := web.ClientIP(r)
	if wait := c.throttle.Wait(username, ip); wait > 0 {
		data.Error = tooManyAttempts(w, wait)
		web.RenderStatus(w, r, http.StatusTooManyRequests, "admin/login", data)
		return
	}
	a, err := c.store.AdminByUsername(username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrInvalid) {
		s.serverError(w, r, "looking up an admin", err)
		return
	}
	ok := false
	if err == nil && a.PasswordHash != "" && !a.Disabled {
		ok, err = c.hasher.Verify(r.Context(), a.PasswordHash, password)
	} else {
		// Unknown name, disabled admin or no password: spend the same time.
		_, err = c.hasher.VerifyUnknown(r.Context(), password)
	}
	if err != nil && !errors.Is(err, auth.ErrMalformedHash) {
		s.serverError(w, r, "checking a password", err)
		return
	}
	if !ok {
		c.throttle.Fail(username, ip)
		s.logger.Info("failed sign-in", zap.String("client_ip", ip))
		data.Error = "Wrong username or password."
		web.RenderStatus(w, r, http.StatusUnauthorized, "admin/login", data)
		return
	}
	if c.hasher.NeedsRehash(a.PasswordHash) {
		if h, err := c.hasher.Hash(r.Context(), password); err == nil {
			_, _ = updateAdmin(c.store, a.ID, func(ad *storage.Admin) error { ad.PasswordHash = h; return nil })
		}
	}
	if err := s.signIn(w, r, a, "password"); err != nil {
		s.serverError(w, r, "starting a session", err)
		return
	}
	web.RedirectTo(w, r, s.afterSignIn(r, data.Next))
}

// tooManyAttempts sets Retry-After for a 429 and returns the message to show.
func tooManyAttempts(w http.ResponseWriter, wait time.Duration) string {
	minutes := int(math.Ceil(wait.Minutes()))
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return fmt.Sprintf("Too many failed attempts. Try again in %d minute%s.", minutes, plural(minutes))
}

// plural returns "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// logout answers POST {base}/logout: ends this browser's session.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if s.core != nil {
		if p, err := s.core.Session(r); err == nil {
			s.record(r, storage.Event{Type: "admin.signed_out", Actor: p.Actor(), Message: p.Name + " signed out"})
		}
		if err := s.core.sessions.Delete(web.ReadCookie(r, web.SessionCookieName)); err != nil {
			s.serverError(w, r, "ending a session", err)
			return
		}
	}
	http.SetCookie(w, web.NewCookie(r, web.SessionCookieName, "", -1))
	web.Flash(w, r, web.FlashInfo, "You are signed out.")
	web.Redirect(w, r, web.LoginPath)
}

// logoutEverywhere answers POST {base}/logout/everywhere: ends every session of the admin.
func (s *server) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	p, _ := web.CurrentPrincipal(r)
	if s.core == nil || p.AdminID == "" {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	n, err := s.core.sessions.DeleteAll(p.AdminID)
	if err != nil {
		s.serverError(w, r, "ending sessions", err)
		return
	}
	s.record(r, storage.Event{Type: "admin.signed_out_everywhere", Actor: p.Actor(),
		Message: fmt.Sprintf("%s signed out everywhere (%d sessions)", p.Name, n)})
	http.SetCookie(w, web.NewCookie(r, web.SessionCookieName, "", -1))
	web.Flash(w, r, web.FlashInfo, "You are signed out on every device.")
	web.Redirect(w, r, web.LoginPath)
}

// serverError logs err and answers it with web.ServerError: 507 when the data disk is full, 503
// when the store is closed, otherwise 500.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	web.ServerError(w, r, s.logger, what, err)
}
