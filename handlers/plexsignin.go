package handlers

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Plex sign-in purposes.
const (
	// plexForLogin signs in the admin linked to the Plex account.
	plexForLogin = "login"
	// plexForSetupAdmin creates the first admin from the Plex account (setup step 2).
	plexForSetupAdmin = "setup-admin"
	// plexForOwner stores the account's token as the Plex owner token (setup step 3, settings).
	plexForOwner = "owner"
	// plexForLink links the Plex account to the signed-in admin.
	plexForLink = "link"
)

// plexStateKind is the storage state kind of pending Plex sign-ins.
const plexStateKind = "plexauth"

// plexStateLifetime bounds a Plex sign-in (plex.tv PINs live about 15 minutes).
const plexStateLifetime = 15 * time.Minute

// plexStateCookie binds a pending Plex sign-in to the browser that began it.
const plexStateCookie = "pm_plex"

// plexCallbackPath is where plex.tv's auth app sends the browser back.
const plexCallbackPath = "/plex/callback"

// plexAuthState is a pending Plex sign-in, stored server side under the hash of its state.
type plexAuthState struct {
	Purpose string `json:"purpose"`
	// Session is the marshalled plex.AuthSession (it holds the account token once authorised,
	// which is why it never leaves the server).
	Session string `json:"session"`
	// AdminID is the admin who began an owner or link sign-in.
	AdminID string `json:"admin_id,omitempty"`
	// Flow is the hash of the setup flow token (setup-admin).
	Flow string `json:"flow,omitempty"`
	// Next is where to go after signing in (login).
	Next string `json:"next,omitempty"`
	// Return is where an owner sign-in continues.
	Return string `json:"return,omitempty"`
	// ExpiresAt ends the sign-in.
	ExpiresAt time.Time `json:"expires_at"`
}

// plexWaitData is the data of pages/admin/login-plex.html.
type plexWaitData struct {
	// Retry is the callback URL to check again.
	Retry string
	// Error, when set, ends the sign-in with a message.
	Error string
	// Back is where to start over.
	Back string
}

// plexRoutes registers the Plex sign-in routes.
func (s *server) plexRoutes() {
	s.mux.Open(http.MethodPost, "/login/plex", http.HandlerFunc(s.loginPlexBegin))
	s.mux.Open(http.MethodGet, plexCallbackPath, http.HandlerFunc(s.plexCallback))
}

// requestOrigin is scheme://host of the request, where plex.tv sends the browser back (the admin
// UI may be on another host than the public invite pages).
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// plexProvider returns the goth provider for Plex sign-in on this request's handler.
func (s *server) plexProvider(r *http.Request) *plex.Provider {
	return plex.NewProvider(s.deps.Plex, requestOrigin(r)+web.URL(r, plexCallbackPath))
}

// beginPlex starts a Plex sign-in for st and sends the browser to Plex's auth app. back is where
// to return with a message when plex.tv cannot be reached.
func (s *server) beginPlex(w http.ResponseWriter, r *http.Request, st plexAuthState, back string) {
	if s.deps.Plex == nil || s.core == nil {
		web.Flash(w, r, web.FlashError, "Sign-in with Plex is not available on this server.")
		web.Redirect(w, r, back)
		return
	}
	state := auth.NewToken()
	sess, err := s.plexProvider(r).BeginAuthContext(r.Context(), state)
	if err != nil {
		s.logger.Warn("starting a Plex sign-in", zap.Error(err))
		web.Flash(w, r, web.FlashError, "plex.tv could not be reached to start the sign-in. Try again in a moment.")
		web.Redirect(w, r, back)
		return
	}
	st.Session = sess.Marshal()
	st.ExpiresAt = s.now().Add(plexStateLifetime)
	val, err := json.Marshal(st)
	if err == nil {
		err = s.core.store.PutState(plexStateKind, auth.HashToken(state), val, plexStateLifetime)
	}
	if err != nil {
		s.serverError(w, r, "storing a Plex sign-in", err)
		return
	}
	http.SetCookie(w, web.NewCookie(r, plexStateCookie, state, plexStateLifetime))
	// The auth app is on another origin: a plain 303 (form-action in the CSP allows it).
	http.Redirect(w, r, sess.AuthURL, http.StatusSeeOther)
}

// loginPlexBegin answers POST {base}/login/plex.
func (s *server) loginPlexBegin(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	if s.core != nil {
		if wait := s.core.throttle.Wait("", web.ClientIP(r)); wait > 0 {
			web.RenderStatus(w, r, http.StatusTooManyRequests, "admin/login", loginData{Plex: true, Error: tooManyAttempts(w, wait)})
			return
		}
	}
	s.beginPlex(w, r, plexAuthState{Purpose: plexForLogin, Next: safeNext(r, r.PostFormValue("next"))}, web.LoginPath)
}

// plexCallback answers GET {base}/plex/callback?state=…: plex.tv's auth app sends the browser
// here after the person signed in (or gave up).
func (s *server) plexCallback(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg, back string) {
		web.RenderStatus(w, r, status, "admin/login-plex", plexWaitData{Error: msg, Back: web.URL(r, back)})
	}
	if s.core == nil || s.deps.Plex == nil {
		fail(http.StatusNotFound, "Sign-in with Plex is not available on this server.", web.LoginPath)
		return
	}
	state := r.URL.Query().Get("state")
	cookie := web.ReadCookie(r, plexStateCookie)
	if state == "" || cookie == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cookie)) != 1 {
		fail(http.StatusBadRequest, "This sign-in was started in another browser or has already been used. Start again.", web.LoginPath)
		return
	}
	key := auth.HashToken(state)
	raw, err := s.core.store.TakeState(plexStateKind, key)
	if errors.Is(err, storage.ErrNotFound) {
		fail(http.StatusBadRequest, "This sign-in has expired. Start again.", web.LoginPath)
		return
	}
	if err != nil {
		s.serverError(w, r, "reading a Plex sign-in", err)
		return
	}
	var st plexAuthState
	if err := json.Unmarshal(raw, &st); err != nil {
		fail(http.StatusBadRequest, "This sign-in cannot be read. Start again.", web.LoginPath)
		return
	}
	back := plexBack(st)
	provider := s.plexProvider(r)
	gs, err := provider.UnmarshalSession(st.Session)
	if err != nil {
		fail(http.StatusBadRequest, "This sign-in cannot be read. Start again.", back)
		return
	}
	sess := gs.(*plex.AuthSession)
	if _, err := sess.AuthorizeContext(r.Context(), provider, r.URL.Query()); err != nil {
		if errors.Is(err, plex.ErrPINPending) || errors.Is(err, plex.ErrRateLimited) {
			// Not finished on plex.tv yet: keep the sign-in and let the person check again.
			if remaining := st.ExpiresAt.Sub(s.now()); remaining > time.Second {
				_ = s.core.store.PutState(plexStateKind, key, raw, remaining)
				web.RenderStatus(w, r, http.StatusAccepted, "admin/login-plex",
					plexWaitData{Retry: web.URL(r, plexCallbackPath) + "?state=" + state, Back: web.URL(r, back)})
				return
			}
		}
		s.logger.Info("Plex sign-in not completed", zap.Error(err))
		fail(http.StatusBadRequest, "The Plex sign-in did not complete (it may have expired). Start again.", back)
		return
	}
	user, err := provider.FetchUserContext(r.Context(), sess)
	if err != nil {
		s.logger.Warn("reading the Plex account", zap.Error(err))
		fail(http.StatusBadGateway, "plex.tv could not be reached to read your account. Try again in a moment.", back)
		return
	}
	plexID, err := strconv.ParseInt(user.UserID, 10, 64)
	if err != nil || plexID <= 0 {
		fail(http.StatusBadGateway, "plex.tv returned an account without an id.", back)
		return
	}
	http.SetCookie(w, web.NewCookie(r, plexStateCookie, "", -1))
	acct := plexAccount{ID: plexID, Username: user.NickName, Token: sess.Token}
	switch st.Purpose {
	case plexForLogin:
		s.plexLogin(w, r, st, acct)
	case plexForSetupAdmin:
		s.setupAdminFromPlex(w, r, st, acct)
	case plexForOwner:
		s.ownerFromPlex(w, r, st, acct)
	case plexForLink:
		s.linkPlex(w, r, st, acct)
	default:
		fail(http.StatusBadRequest, "This sign-in cannot be read. Start again.", web.LoginPath)
	}
}

// plexAccount is the signed-in Plex account of a callback.
type plexAccount struct {
	ID       int64
	Username string
	// Token is the account's token: a secret, only ever stored sealed.
	Token string
}

// plexBack is where a failed sign-in of st starts over.
func plexBack(st plexAuthState) string {
	switch st.Purpose {
	case plexForSetupAdmin:
		return web.SetupPath + "/admin"
	case plexForOwner:
		if st.Return != "" {
			return st.Return
		}
		return "/settings"
	case plexForLink:
		return "/account"
	}
	return web.LoginPath
}

// plexLogin signs in the admin linked to acct.
func (s *server) plexLogin(w http.ResponseWriter, r *http.Request, st plexAuthState, acct plexAccount) {
	ip := web.ClientIP(r)
	a, err := s.core.store.AdminByPlexID(acct.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.serverError(w, r, "looking up an admin by Plex account", err)
		return
	}
	if err != nil || a.Disabled {
		s.core.throttle.Fail("", ip)
		s.logger.Info("Plex sign-in by an account not linked to an admin", zap.String("client_ip", ip))
		web.RenderStatus(w, r, http.StatusForbidden, "admin/login", loginData{Plex: true,
			Error: "This Plex account is not linked to an admin here. Sign in with your password, or ask an admin to link it."})
		return
	}
	if err := s.signIn(w, r, a, "plex"); err != nil {
		s.serverError(w, r, "starting a session", err)
		return
	}
	web.RedirectTo(w, r, s.afterSignIn(r, st.Next))
}

// linkPlex links acct to the admin who began the sign-in.
func (s *server) linkPlex(w http.ResponseWriter, r *http.Request, st plexAuthState, acct plexAccount) {
	p, err := s.core.Session(r)
	if err != nil || p.AdminID != st.AdminID {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	_, err = updateAdmin(s.core.store, p.AdminID, func(a *storage.Admin) error { a.PlexID = acct.ID; return nil })
	if errors.Is(err, storage.ErrExists) {
		web.Flash(w, r, web.FlashError, "This Plex account is already linked to another admin.")
		web.Redirect(w, r, "/account")
		return
	}
	if err != nil {
		s.serverError(w, r, "linking a Plex account", err)
		return
	}
	s.record(r, storage.Event{Type: "admin.plex_linked", Actor: p.Actor(), Message: p.Name + " linked a Plex account"})
	web.Flash(w, r, web.FlashSuccess, "Your Plex account is linked: you can sign in with Plex.")
	web.Redirect(w, r, "/account")
}

// plexUsernameFor turns a Plex username into a valid, unused admin username.
func (s *server) plexUsernameFor(tx *storage.Tx, acct plexAccount) string {
	name := strings.TrimSpace(acct.Username)
	if auth.CheckUsername(name) != nil {
		name = fmt.Sprintf("plex-%d", acct.ID)
	}
	for i := 1; ; i++ {
		candidate := name
		if i > 1 {
			candidate = fmt.Sprintf("%s-%d", name, i)
		}
		if _, err := tx.Admins().ByUsername(candidate); errors.Is(err, storage.ErrNotFound) || i > 50 {
			return candidate
		}
	}
}
