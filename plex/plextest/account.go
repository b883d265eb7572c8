package plextest

import (
	"net/http"
	"time"
)

type subscriptionJSON struct {
	Active         bool     `json:"active"`
	Status         string   `json:"status"`
	Plan           *string  `json:"plan"`
	SubscribedAt   *string  `json:"subscribedAt"`
	PaymentService *string  `json:"paymentService"`
	Features       []string `json:"features"`
}

type userJSON struct {
	ID               int64            `json:"id"`
	UUID             string           `json:"uuid"`
	Username         string           `json:"username"`
	Title            string           `json:"title"`
	Email            string           `json:"email"`
	FriendlyName     string           `json:"friendlyName"`
	Thumb            string           `json:"thumb"`
	AuthToken        string           `json:"authToken"`
	Home             bool             `json:"home"`
	HomeAdmin        bool             `json:"homeAdmin"`
	HomeSize         int              `json:"homeSize"`
	MaxHomeSize      int              `json:"maxHomeSize"`
	Guest            bool             `json:"guest"`
	Restricted       bool             `json:"restricted"`
	Protected        bool             `json:"protected"`
	HasPassword      bool             `json:"hasPassword"`
	TwoFactorEnabled bool             `json:"twoFactorEnabled"`
	JoinedAt         int64            `json:"joinedAt"`
	Subscription     subscriptionJSON `json:"subscription"`
	Roles            []string         `json:"roles"`
	Entitlements     []string         `json:"entitlements"`
	Profile          map[string]any   `json:"profile"`
}

const maxHomeSize = 15

var plexPassFeatures = []string{"content_filter", "session_bandwidth_restrictions", "webhooks"}

func (f *Fake) userView(acc Account) userJSON {
	f.mu.Lock()
	defer f.mu.Unlock()
	isOwner := acc.ID == f.ownerID
	u := userJSON{
		ID: acc.ID, UUID: acc.UUID, Username: acc.Username, Title: acc.Title, Email: acc.Email,
		Thumb: acc.Thumb, AuthToken: acc.Token, Home: acc.Home, HomeAdmin: isOwner,
		MaxHomeSize: maxHomeSize, Guest: acc.Guest, Restricted: acc.Managed, Protected: acc.Protected,
		HasPassword: !acc.Managed, JoinedAt: acc.JoinedAt.Unix(),
		Roles: []string{}, Entitlements: []string{},
		Profile:      map[string]any{"autoSelectAudio": true, "defaultAudioLanguage": "en", "defaultSubtitleLanguage": "en"},
		Subscription: subscriptionJSON{Status: "Inactive", Features: []string{}},
	}
	if isOwner {
		u.HomeSize = f.homeSizeLocked()
	}
	if acc.PlexPass {
		plan, since, pay := "lifetime", "2019-06-24T11:38:02Z", "braintree"
		u.Subscription = subscriptionJSON{Active: true, Status: "Active", Plan: &plan, SubscribedAt: &since, PaymentService: &pay, Features: plexPassFeatures}
		u.Roles = []string{"plexpass"}
		u.Entitlements = []string{"all"}
	}
	return u
}

func (f *Fake) homeSizeLocked() int {
	n := 0
	for _, x := range f.accounts {
		if x.Home {
			n++
		}
	}
	return n
}

// userNode is the XML form shared by /api/v2/user and /users/account.
func userNode(u userJSON, legacy bool) *node {
	tokenKey := "authToken"
	if legacy {
		tokenKey = "authenticationToken"
	}
	n := el("user",
		a("id", u.ID), a("uuid", u.UUID), a("username", u.Username), a("title", u.Title),
		a("email", u.Email), a("friendlyName", u.FriendlyName), a("thumb", u.Thumb), a(tokenKey, u.AuthToken),
		a("home", u.Home), a("homeAdmin", u.HomeAdmin), a("homeSize", u.HomeSize), a("maxHomeSize", u.MaxHomeSize),
		a("guest", u.Guest), a("restricted", u.Restricted), a("protected", u.Protected),
		a("hasPassword", u.HasPassword), a("twoFactorEnabled", u.TwoFactorEnabled), a("joinedAt", u.JoinedAt))
	sub := el("subscription", a("active", u.Subscription.Active), a("status", u.Subscription.Status))
	if u.Subscription.Plan != nil {
		sub.attrs = append(sub.attrs, a("plan", *u.Subscription.Plan))
	}
	feats := el("features")
	for _, ft := range u.Subscription.Features {
		feats.add(el("feature", a("id", ft)))
	}
	sub.add(feats)
	roles := el("roles")
	for _, r := range u.Roles {
		roles.add(el("role", a("id", r)))
	}
	ents := el("entitlements")
	for _, e := range u.Entitlements {
		ents.add(el("entitlement", a("id", e)))
	}
	prof := el("profile", a("autoSelectAudio", true), a("defaultAudioLanguage", "en"), a("defaultSubtitleLanguage", "en"))
	return n.add(sub, roles, ents, prof)
}

func (f *Fake) handleV2User(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	u := f.userView(acc)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, u)
		return
	}
	writeXML(w, http.StatusOK, userNode(u, false))
}

// legacyAccount authenticates /users/account, which answers 422 (not 401)
// for a bad token.
func (f *Fake) legacyAccount(w http.ResponseWriter, r *http.Request) (Account, bool) {
	c, ok := f.caller(r)
	if !ok {
		writeXML(w, http.StatusUnprocessableEntity, el("errors").add(&node{name: "error", text: "Invalid token."}))
		return Account{}, false
	}
	return c, true
}

func (f *Fake) handleUsersAccount(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.legacyAccount(w, r)
	if !ok {
		return
	}
	writeXML(w, http.StatusOK, userNode(f.userView(acc), true))
}

func (f *Fake) handleUsersAccountJSON(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.legacyAccount(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]userJSON{"user": f.userView(acc)})
}

func (f *Fake) handlePing(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.authV2(w, r); !ok {
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]bool{"pong": true})
		return
	}
	writeXML(w, http.StatusOK, &node{name: "pong", text: "true"})
}

// iso formats a plex.tv v2 time.
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
