package invites

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Pages of the public side.
const (
	pageUnusable = "invite/unusable"
	pageShow     = "invite/show"
	pageWait     = "invite/wait"
	pageDiscord  = "invite/discord"
	pageWelcome  = "invite/welcome"
	pageFailed   = "invite/failed"
)

// unusableStatus is the status of every unusable-code page: 404, whatever the reason (unknown,
// disabled, expired, used up), so the status tells nothing a prober could use.
const unusableStatus = http.StatusNotFound

// publicRoutes registers the invite handler's pages. The two-segment pages share one pattern per
// method, "/{code}/{action}", dispatched here: other features' public routes ("/access/{token}")
// are then strictly more specific and never conflict with it, as separate "/{code}/callback"
// patterns would ("/access/callback" would match both).
func (f *Feature) publicRoutes(r web.Router) {
	r.Public(http.MethodGet, "/{code}", f.limited(f.show))
	r.Public(http.MethodGet, "/{code}/{action}", f.limited(f.getAction))
	r.Public(http.MethodPost, "/{code}/{action}", f.limited(f.postAction))
	r.Public(http.MethodGet, DiscordCallbackPath, f.limited(f.discordCallback))
}

// getAction answers GET {base}/{code}/{action}: only "callback" exists.
func (f *Feature) getAction(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("action") {
	case "callback":
		f.callback(w, r)
	default:
		web.Error(w, r, http.StatusNotFound)
	}
}

// postAction answers POST {base}/{code}/{action}: join, discord and skip.
func (f *Feature) postAction(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("action") {
	case "join":
		f.join(w, r)
	case "discord":
		f.discordStart(w, r)
	case "skip":
		f.discordSkip(w, r)
	default:
		web.Error(w, r, http.StatusNotFound)
	}
}

// limited applies the per-client rate limit: 429 with Retry-After when the bucket is empty.
func (f *Feature) limited(h http.HandlerFunc) http.HandlerFunc {
	if f.limiter == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := f.limiter.allow(web.ClientIP(r))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			web.Error(w, r, http.StatusTooManyRequests)
			return
		}
		h(w, r)
	}
}

// unusable answers the one page of every code that cannot be used, after at least the configured
// delay since start, so the answer's timing does not tell an unknown code from a known one.
func (f *Feature) unusable(w http.ResponseWriter, r *http.Request, start time.Time) {
	if f.delay > 0 {
		if rest := f.delay - f.now().Sub(start); rest > 0 {
			f.sleep(rest)
		}
	}
	web.RenderCached(w, r, unusableStatus, pageUnusable, nil)
}

// libraryView is one offered library.
type libraryView struct {
	Title string
	Type  string
}

// serverView is one offered server with its libraries.
type serverView struct {
	Name      string
	Libraries []libraryView
}

// offerView is what an invite offers, for the public pages.
type offerView struct {
	Code           string
	Label          string
	Servers        []serverView
	AllowDownloads bool
	MembershipDays int
	StartsAt       *time.Time
	ExpiresAt      *time.Time
	Discord        string
	UsesLeft       int // -1: unlimited
}

// offerOf describes inv with the stored servers' names and library titles.
func (f *Feature) offerOf(inv storage.Invite) offerView {
	servers, err := f.svc.Servers()
	if err != nil {
		f.log.Warn("listing servers for an invite page", zap.Error(err))
	}
	return offerWith(inv, servers)
}

// offerWith describes inv with the names and library titles of servers (the stored servers, or
// at least those inv names).
func offerWith(inv storage.Invite, servers []storage.Server) offerView {
	v := offerView{Code: inv.Code, Label: inv.Label, AllowDownloads: inv.AllowDownloads, MembershipDays: inv.MembershipDays,
		StartsAt: inv.StartsAt, ExpiresAt: inv.ExpiresAt, Discord: inv.Discord, UsesLeft: -1}
	if inv.MaxUses > 0 {
		v.UsesLeft = max(inv.MaxUses-inv.Uses, 0)
	}
	for _, sv := range serverChoices(servers, inv.Libraries) {
		sv2 := serverView{Name: sv.Name}
		for _, l := range sv.Libraries {
			if l.Checked {
				sv2.Libraries = append(sv2.Libraries, libraryView{Title: l.Title, Type: l.Type})
			}
		}
		if len(sv2.Libraries) > 0 {
			v.Servers = append(v.Servers, sv2)
		}
	}
	return v
}

// show answers GET {base}/{code}.
func (f *Feature) show(w http.ResponseWriter, r *http.Request) {
	start := f.now()
	inv, servers, err := f.svc.LookupOffer(r.PathValue("code"))
	if errors.Is(err, invite.ErrUnusable) {
		f.unusable(w, r, start)
		return
	}
	if err != nil {
		// The store cannot be read (Caddy stopping or reloading): try again, whatever the code.
		web.ServerError(w, r, f.log, "reading an invite", err)
		return
	}
	// The page is a function of the offer (and the app name): its bytes are kept by the handler,
	// keyed by the offer's JSON, so every field of offerView is part of the key.
	web.RenderCached(w, r, http.StatusOK, pageShow, offerWith(inv, servers))
}

// join answers POST {base}/{code}/join: it starts the Plex sign-in and sends the browser to the
// auth app.
func (f *Feature) join(w http.ResponseWriter, r *http.Request) {
	start := f.now()
	inv, err := f.svc.Lookup(r.PathValue("code"))
	if errors.Is(err, invite.ErrUnusable) {
		f.unusable(w, r, start)
		return
	}
	if err != nil {
		web.ServerError(w, r, f.log, "reading an invite", err)
		return
	}
	if f.flow == nil {
		f.failed(w, r, http.StatusServiceUnavailable, "Joining is not available right now. Please try again later.", inv.Code)
		return
	}
	forward := f.linkBase(r) + "/" + url.PathEscape(inv.Code) + "/callback"
	step, err := f.flow.Begin(r.Context(), inv, forward, web.ClientIP(r))
	if errors.Is(err, invite.ErrUnusable) {
		f.unusable(w, r, start)
		return
	}
	if f.storeFailed(w, r, "starting an invite sign-in", err, inv.Code) {
		return
	}
	if err != nil {
		f.log.Warn("starting an invite sign-in", zap.Error(err))
		f.failed(w, r, http.StatusBadGateway, "Plex could not be reached to start the sign-in. Please try again in a few minutes.", inv.Code)
		return
	}
	http.SetCookie(w, web.NewCookie(r, flowCookie, step.Key, invite.DefaultFlowTTL))
	http.Redirect(w, r, step.URL, http.StatusSeeOther)
}

// callback answers GET {base}/{code}/callback?state=…, Plex's forward URL and the waiting page.
func (f *Feature) callback(w http.ResponseWriter, r *http.Request) {
	f.continueFlow(w, r, func(ctx context.Context, key string) (invite.Step, error) {
		return f.flow.Resume(ctx, key, r.URL.Query().Get("state"))
	})
}

// discordStart answers POST {base}/{code}/discord.
func (f *Feature) discordStart(w http.ResponseWriter, r *http.Request) {
	f.continueFlow(w, r, func(ctx context.Context, key string) (invite.Step, error) {
		return f.flow.StartDiscord(ctx, key, f.linkBase(r)+DiscordCallbackPath)
	})
}

// discordSkip answers POST {base}/{code}/skip.
func (f *Feature) discordSkip(w http.ResponseWriter, r *http.Request) {
	f.continueFlow(w, r, f.flow.SkipDiscord)
}

// discordCallback answers GET {base}/discord/callback, Discord's redirect URI.
func (f *Feature) discordCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.continueFlow(w, r, func(ctx context.Context, key string) (invite.Step, error) {
		return f.flow.DiscordReturn(ctx, key, q.Get("state"), q.Get("code"), q.Get("error"))
	})
}

// continueFlow runs one flow step for the browser's flow cookie and answers it.
func (f *Feature) continueFlow(w http.ResponseWriter, r *http.Request, next func(context.Context, string) (invite.Step, error)) {
	if f.flow == nil {
		f.failed(w, r, http.StatusServiceUnavailable, "Joining is not available right now. Please try again later.", "")
		return
	}
	key := web.ReadCookie(r, flowCookie)
	if key == "" {
		f.failed(w, r, http.StatusBadRequest, expiredReason, r.PathValue("code"))
		return
	}
	step, err := next(r.Context(), key)
	switch {
	case errors.Is(err, invite.ErrFlowNotFound):
		f.failed(w, r, http.StatusBadRequest, expiredReason, r.PathValue("code"))
		return
	case f.storeFailed(w, r, "continuing an invite sign-in", err, r.PathValue("code")):
		return
	case err != nil:
		f.log.Error("continuing an invite sign-in", zap.Error(err))
		f.failed(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please start again from the invite link.", r.PathValue("code"))
		return
	}
	f.renderStep(w, r, step)
}

// unavailableReason is shown when the store cannot be written (full data disk) or is closed
// (Caddy stopping or reloading). It tells the visitor to come back, not how the server is run.
const unavailableReason = "Your request could not be completed right now. Please try again later from the invite link."

// storeFailed answers err when the store refused it for a reason that passes (web.ServerStatus
// 507 or 503): the failure page with unavailableReason, that status, and a link back to code.
// It logs err and reports whether it answered.
func (f *Feature) storeFailed(w http.ResponseWriter, r *http.Request, doing string, err error, code string) bool {
	status := web.ServerStatus(err)
	if err == nil || status == http.StatusInternalServerError {
		return false
	}
	f.log.Error(doing, zap.Error(err), zap.Int("status", status))
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	f.failed(w, r, status, unavailableReason, code)
	return true
}

// expiredReason is shown when the browser has no (or a stale) sign-in.
const expiredReason = "This sign-in has expired, was already finished, or was started in another browser. Open the invite link again to start over."

// waitView is the waiting page's data.
type waitView struct {
	Offer    offerView
	Refresh  string // the page's own URL
	Seconds  int
	TimedOut bool
}

// discordView is the Discord page's data.
type discordView struct {
	Offer    offerView
	Required bool
	Notice   string
}

// welcomeView is the onboarding page's data.
type welcomeView struct {
	Offer      offerView
	Result     invite.Result
	Onboarding template.HTML
	Pending    int
}

// failedView is the failure page's data.
type failedView struct {
	Reason string
	Code   string // the invite to start over from, if known
}

// renderStep answers a flow step.
func (f *Feature) renderStep(w http.ResponseWriter, r *http.Request, step invite.Step) {
	offer := f.offerOf(step.Invite)
	switch step.Kind {
	case invite.StepRedirect:
		http.Redirect(w, r, step.URL, http.StatusSeeOther)
	case invite.StepWait:
		code := step.Invite.Code
		if code == "" {
			code = r.PathValue("code")
		}
		self := web.URL(r, "/", code, "callback") + "?" + url.Values{"state": {step.Key}}.Encode()
		secs := int(f.refresh / time.Second)
		timedOut := !step.Deadline.IsZero() && !f.now().Before(step.Deadline)
		if !timedOut {
			w.Header().Set("Refresh", strconv.Itoa(secs)+"; url="+self)
		}
		web.Render(w, r, pageWait, waitView{Offer: offer, Refresh: self, Seconds: secs, TimedOut: timedOut})
	case invite.StepDiscord:
		web.Render(w, r, pageDiscord, discordView{Offer: offer, Required: step.DiscordRequired, Notice: step.Reason})
	case invite.StepDone:
		v := welcomeView{Offer: offer}
		if step.Result != nil {
			v.Result = *step.Result
			v.Pending = len(step.Result.Pending)
		}
		if md := step.Invite.Onboarding; md != "" {
			html, err := f.svc.Markdown().Render(md)
			if err != nil {
				f.log.Warn("rendering onboarding", zap.Error(err))
			}
			v.Onboarding = html
		}
		web.Render(w, r, pageWelcome, v)
	default:
		f.failed(w, r, http.StatusOK, step.Reason, step.Invite.Code)
	}
}

// failed answers the failure page with reason and a way back to the invite (when code is one).
func (f *Feature) failed(w http.ResponseWriter, r *http.Request, status int, reason, code string) {
	if _, err := f.svc.Lookup(code); err != nil {
		code = ""
	}
	web.RenderStatus(w, r, status, pageFailed, failedView{Reason: reason, Code: code})
}

// linkBase is the absolute URL of the invite handler's base: the configured link base, else one
// derived from the request (no public URL configured yet).
func (f *Feature) linkBase(r *http.Request) string {
	if b := f.svc.LinkBase(); b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + web.BasePath(r)
}
