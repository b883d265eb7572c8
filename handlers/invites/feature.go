// Package invites is the web side of invites: the admin pages (list, create/edit form, detail with
// QR code and usage history), the REST routes under {base}/api/v1/invites, and the public invite
// pages with the Plex (and Discord) sign-in that redeems an invite. It registers its routes
// through the handlers/web kit; the domain lives in access/invite.
//
// # Public pages
//
//	GET  {base}/{code}             the invite: server, libraries, duration, downloads, expiry
//	POST {base}/{code}/join        starts the Plex PIN sign-in: 303 to the auth app
//	GET  {base}/{code}/callback    the auth app's forward URL (?state=…): waits, asks for Discord,
//	                               redeems, shows the onboarding page
//	POST {base}/{code}/discord     "Sign in with Discord": 303 to Discord
//	POST {base}/{code}/skip        skip the optional Discord sign-in
//	GET  {base}/discord/callback   Discord's redirect URI (fixed: register it with the Discord app)
//
// Unknown, disabled, expired and used-up codes all get the same page with the same status (404),
// after the same minimum time, so codes cannot be probed; malformed codes never reach the store.
// Every public route is rate limited per client address (a token bucket in memory; IPv6 by /64).
// The sign-in is bound to the browser by a short-lived SameSite=Lax cookie holding the flow key,
// which must equal the forward URL's state. Nothing needs JavaScript: the waiting page refreshes
// itself (Refresh header and <meta http-equiv="refresh">).
package invites

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// DiscordCallbackPath is the Discord redirect URI's path below the invite handler's base path.
const DiscordCallbackPath = "/discord/callback"

// flowCookie is the cookie binding a sign-in to the browser.
const flowCookie = "pm_invite"

// Defaults of Options.
const (
	// DefaultRateBurst and DefaultRateEvery: a client may make DefaultRateBurst public requests at
	// once and one more every DefaultRateEvery (30 a minute sustained).
	DefaultRateBurst = 20
	DefaultRateEvery = 2 * time.Second
	// DefaultUnusableDelay is the least time the page of an unusable code takes.
	DefaultUnusableDelay = 50 * time.Millisecond
	// DefaultWaitRefresh is how often the waiting page reloads itself.
	DefaultWaitRefresh = 3 * time.Second
)

// Options configure New. Service is required; Flow is required for the public sign-in.
type Options struct {
	// Service manages and redeems invites.
	Service *invite.Service
	// Flow runs the public sign-in (nil: the join button answers 503).
	Flow *invite.Flow
	// Logger receives warnings (default: discard).
	Logger *zap.Logger
	// RateBurst and RateEvery set the per-client token bucket of the public routes (defaults
	// above; a negative RateBurst turns limiting off, for tests).
	RateBurst int
	RateEvery time.Duration
	// UnusableDelay is the least time an unusable-code page takes (default DefaultUnusableDelay;
	// negative: none).
	UnusableDelay time.Duration
	// WaitRefresh is the waiting page's reload interval (default DefaultWaitRefresh).
	WaitRefresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits (default time.Sleep); tests replace it.
	Sleep func(time.Duration)
}

// Feature is the invites feature: pass it in handlers.Deps.Features of both handlers.
type Feature struct {
	svc     *invite.Service
	flow    *invite.Flow
	log     *zap.Logger
	limiter *limiter
	delay   time.Duration
	refresh time.Duration
	now     func() time.Time
	sleep   func(time.Duration)
}

// New checks opts and returns the feature.
func New(opts Options) (*Feature, error) {
	if opts.Service == nil {
		return nil, errors.New("invites: Options.Service is required")
	}
	f := &Feature{svc: opts.Service, flow: opts.Flow, log: opts.Logger, delay: opts.UnusableDelay,
		refresh: opts.WaitRefresh, now: opts.Now, sleep: opts.Sleep}
	if f.log == nil {
		f.log = zap.NewNop()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.sleep == nil {
		f.sleep = time.Sleep
	}
	if f.delay == 0 {
		f.delay = DefaultUnusableDelay
	}
	if f.refresh <= 0 {
		f.refresh = DefaultWaitRefresh
	}
	burst, every := opts.RateBurst, opts.RateEvery
	if burst == 0 {
		burst = DefaultRateBurst
	}
	if every <= 0 {
		every = DefaultRateEvery
	}
	if burst > 0 {
		f.limiter = newLimiter(burst, every, f.now)
	}
	return f, nil
}

// Routes registers the admin pages, the REST routes and the public pages.
func (f *Feature) Routes(r web.Router) {
	f.adminRoutes(r)
	f.apiRoutes(r)
	f.publicRoutes(r)
}

// DiscordRedirectURL returns the Discord redirect URI of an invite handler reachable at
// publicURL with basePath: register it with the Discord application. (The feature sends it with
// every authorization itself; discord.Config.RedirectURL may stay empty.)
func DiscordRedirectURL(publicURL, basePath string) string {
	return strings.TrimRight(publicURL, "/") + basePath + DiscordCallbackPath
}

// AuthOrigins returns the origins the invite handler's Content-Security-Policy must allow as form
// targets (handlers.Config.AuthOrigins): the Plex auth app's and, when Discord is used, Discord's
// authorization endpoint's. Unparsable URLs are skipped.
func AuthOrigins(urls ...string) []string {
	var out []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		o := u.Scheme + "://" + u.Host
		dup := false
		for _, x := range out {
			dup = dup || x == o
		}
		if !dup {
			out = append(out, o)
		}
	}
	return out
}
