package integration

// Browser journeys (issue #8): headless Chromium drives the admin UI and the public invite pages
// of the in-process Caddy as people would, and every outcome is checked where it lands: in the
// Plex fake's state. Run them alone with
//
//	flock /tmp/plex-manager-it.lock go test -count=1 ./integration/ -run TestBrowser
//
// Screenshots: t.ArtifactDir() (go test -artifacts keeps them) and integration/artifacts/browser.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// The accounts of plextest.SeedMinimal the journeys use.
const (
	brAlice = int64(22526914) // friend: Movies + TV Shows, downloads
	brBob   = int64(22522496) // friend: all libraries
	brCarol = int64(31415926) // friend: Movies with a filter
	brDave  = int64(41234567) // no relation to the owner: joins with the invite
)

// Library values of the forms ("<server id>/<key>") on the fake's one server.
var (
	brMusic   = plextest.MinimalMachineID + "/1"
	brMovies  = plextest.MinimalMachineID + "/4"
	brTVShows = plextest.MinimalMachineID + "/8"
)

// brPassword passes the password rules; brWeakPassword does not (one kind of character).
const (
	brPassword     = "Browser-Journey-2026!"
	brWeakPassword = "passwordpassword"
)

// browserConfig is a fresh instance: no admin, no Plex token, no public URL (the setup wizard sets
// them), the Plex fake as plex.tv and its auth app, a fast stream poll.
func browserConfig(t *testing.T, fake *plextest.Fake) string {
	return globalOptions(t, fmt.Sprintf(`plex_manager {
	data_dir %s
	plex {
		tv_url %s
		auth_url %s
	}
	session_poll 1s
}`, testDir(t, "pm"), fake.TVURL(), fake.AuthURL())) + `
http://localhost:9080 {
	handle /manage/* {
		plex_manager admin {
			base_path /manage
		}
	}
	handle {
		plex_manager invite
	}
}
`
}

// brShareOf returns the fake's share of a user on its server.
func brShareOf(fake *plextest.Fake, userID int64) (plextest.Share, bool) {
	for _, sh := range fake.SharesFor(plextest.MinimalMachineID) {
		if sh.UserID == userID {
			return sh, true
		}
	}
	return plextest.Share{}, false
}

// brSections is a share's libraries, sorted.
func brSections(sh plextest.Share) []int64 {
	out := slices.Clone(sh.SectionIDs)
	slices.Sort(out)
	return out
}

// brJourney is the state one journey hands the next.
type brJourney struct {
	fake     *plextest.Fake
	h        *browserHarness
	admin    *browserTab // the admin's browser
	guest    *browserTab // the invitee's browser: its own cookies
	inviteID string
	link     string // the invite link
}

// TestBrowserJourneys runs the journeys in order on one instance: each builds on what the one
// before did (the admin the wizard creates, the user the invite brings in).
func TestBrowserJourneys(t *testing.T) {
	resetKeptScreenshots(t)
	j := &brJourney{fake: plextest.NewServer(t, plextest.Options{PINPollInterval: 10 * time.Millisecond})}
	j.h = newBrowserHarness(t)
	tc := newTester(t)
	load(t, tc, browserConfig(t, j.fake))
	j.admin = j.h.tab(t, "admin", false)

	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"1-setup-wizard", j.setupWizard},
		{"2-invite-redeemed", j.inviteRedeemed},
		{"3-users-streams-events", j.manageUsers},
		{"4-themes-and-phone", j.themesAndPhone},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("%s failed; the later journeys build on it", s.name)
		}
	}
}

// setupWizard: a new admin opens the site, proves they run the server with the setup code, creates
// the first admin (a weak password is refused first), connects the fake Plex with the owner token,
// picks the server, sets the public URL and lands on the dashboard.
func (j *brJourney) setupWizard(t *testing.T) {
	b := j.admin
	b.open(t, "/manage/")
	if loc := b.location(t); loc != baseURL+"/manage/setup" {
		b.fatalf(t, "a fresh instance sent the browser to %s, want the setup page", loc)
	}
	b.expectText(t, "h1", "Set up Plex Manager")
	b.shot(t, "setup-1-code", true)

	b.typeInto(t, "#code", "ZZZZ-ZZZZ-ZZZZ")
	b.submit(t, `form[action="/manage/setup"] button[type=submit]`)
	b.expectText(t, "main", "wrong or has expired")

	b.typeInto(t, "#code", adminSetupCode(t))
	b.submit(t, `form[action="/manage/setup"] button[type=submit]`)
	b.expectText(t, "h1", "Create the first admin")

	b.typeInto(t, "#username", "root")
	b.typeInto(t, "#password", brWeakPassword)
	b.typeInto(t, "#confirm", brWeakPassword)
	b.submit(t, `form[action="/manage/setup/admin"] button[type=submit]`)
	if !b.has(t, "#password-error") {
		b.fatalf(t, "a weak password was not refused with a message next to the field")
	}
	b.shot(t, "setup-2-weak-password", true)
	b.typeInto(t, "#username", "root")
	b.typeInto(t, "#password", brPassword)
	b.typeInto(t, "#confirm", brPassword)
	b.submit(t, `form[action="/manage/setup/admin"] button[type=submit]`)
	b.expectText(t, "h1", "Connect Plex")
	b.shot(t, "setup-3-plex", true)

	b.typeInto(t, "#token", j.fake.OwnerToken())
	b.submit(t, `form[action="/manage/setup/plex/token"] button[type=submit]`)
	b.expectText(t, "h1", "Plex servers")
	b.expectText(t, "main", "Basement")
	b.setChecked(t, `input[name=server][value="`+plextest.MinimalMachineID+`"]`, true)
	b.shot(t, "setup-4-servers", true)
	b.submit(t, `form[action="/manage/setup/servers"] button[type=submit]`)

	b.expectText(t, "h1", "Public address")
	b.typeInto(t, "#public_url", baseURL)
	b.submit(t, `form[action="/manage/setup/url"] button[type=submit]`)
	if loc := b.location(t); loc != baseURL+"/manage/" {
		b.fatalf(t, "after the wizard the browser is at %s, want the dashboard", loc)
	}
	b.expectText(t, "h1", "Dashboard")
	b.expectText(t, "[data-user]", "root")
	b.shot(t, "setup-5-dashboard", true)

	// The server's libraries: the wizard saves the server only, so they are read by the next sync
	// pass (default every 15 minutes) or by "Check now" on the Servers page.
	b.submit(t, `nav a[href="/manage/servers"]`)
	if strings.Contains(b.text(t, "main"), "No libraries known yet") {
		t.Log("NOTE: right after the setup wizard the server's libraries are unknown (no invite can offer them) until a sync pass or a server check")
	}
	b.submit(t, `form[action="/manage/servers/refresh"] button[type=submit]`)
	b.expectText(t, ".flashes", "Every server answered")
	b.expectText(t, "main", "Basement", "Music", "Movies", "TV Shows")

	// The wizard cannot run again.
	b.open(t, "/manage/setup")
	b.expectText(t, "h1", "Setup is complete")
	b.assertClean(t)
}

// inviteRedeemed: the admin creates an invite (two libraries, downloads, an expiry, three uses,
// onboarding text); a person opens the link in a browser of their own, joins with Plex through the
// fake's auth page and lands on the welcome page; the fake then shares exactly those libraries
// with downloads, and the admin sees the person in the user list and the invite's history.
func (j *brJourney) inviteRedeemed(t *testing.T) {
	b := j.admin
	b.open(t, "/manage/invites")
	b.expectText(t, "main", "No invites yet")
	b.submit(t, `a[href="/manage/invites/new"]`)
	b.expectText(t, "h1", "New invite")
	b.typeInto(t, "#label", "Browser friends")
	// The servers reach the store when the wizard saves them; the form lists their libraries.
	b.setChecked(t, `input[name=lib][value="`+brMovies+`"]`, true)
	b.setChecked(t, `input[name=lib][value="`+brTVShows+`"]`, true)
	b.setChecked(t, `input[name=allow_downloads]`, true)
	expires := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	b.setValue(t, "#expires_at", expires.Format("2006-01-02T15:04"))
	b.typeInto(t, "#max_uses", "3")
	b.typeInto(t, "#onboarding", "## Getting started\n\nOpen **Plex** and look for *Basement*.")
	b.shot(t, "invite-new-form", true)
	b.submit(t, `form[action="/manage/invites"] button[type=submit]`)

	b.expectText(t, "h1", "Browser friends")
	b.expectText(t, ".flashes", "Invite created")
	b.expectText(t, "main", "Movies, TV Shows", "allowed", "0 of 3", expires.Format("2006"))
	loc := b.location(t)
	j.inviteID = loc[strings.LastIndex(loc, "/")+1:]
	j.link = b.text(t, "main section.card code")
	if !strings.HasPrefix(j.link, baseURL+"/") {
		b.fatalf(t, "the invite link is %q, want it on the public URL %s", j.link, baseURL)
	}
	if !b.has(t, `img[src$="/qr.svg"]`) {
		b.fatalf(t, "the invite page shows no QR code")
	}
	b.shot(t, "invite-detail-new", true)

	// The invitee: a browser with no cookies of the admin's.
	j.guest = j.h.tab(t, "guest", true)
	g := j.guest
	g.open(t, "/manage/")
	if loc := g.location(t); !strings.HasPrefix(loc, baseURL+"/manage/login") {
		g.fatalf(t, "a fresh browser context reached %s: it shares the admin's session", loc)
	}
	g.open(t, j.link)
	g.expectText(t, "h1", "You're invited")
	g.expectText(t, "main", "Basement", "Movies, TV Shows", "Allowed")
	g.shot(t, "public-invite-page", true)
	g.submit(t, `form[action$="/join"] button[type=submit]`)

	// The fake's auth page: its script copies the PIN from the URL fragment into the form.
	if loc := g.location(t); !strings.HasPrefix(loc, j.fake.AuthURL()+"#") {
		g.fatalf(t, "joining went to %s, want the Plex auth app %s", loc, j.fake.AuthURL())
	}
	if code := browserEval[string](t, g, `document.getElementById("code").value`); code == "" {
		g.fatalf(t, "the auth page did not receive the PIN code from the fragment")
	}
	g.expectText(t, "#product", "wants to sign in")
	g.setValue(t, "#account", fmt.Sprint(brDave))
	g.shot(t, "plex-auth-page", false)
	g.submit(t, `button[type=submit]`)

	// Back on the invite site: maybe the waiting page for a moment, then the welcome page.
	g.waitText(t, "h1", "Welcome", 20*time.Second)
	g.expectText(t, ".onboarding h2", "Getting started")
	g.expectText(t, "main", "What you can watch", "Movies, TV Shows")
	if got := b.text(t, "body"); strings.Contains(got, j.fake.OwnerToken()) {
		t.Error("a page shows the owner's Plex token")
	}
	g.shot(t, "public-welcome", true)

	sh, ok := brShareOf(j.fake, brDave)
	if !ok || sh.Pending || !sh.AllowSync || !slices.Equal(brSections(sh), []int64{plextest.SectionMovies, plextest.SectionTVShows}) {
		t.Fatalf("dave's share on the fake = %+v (found %v), want Movies + TV Shows with downloads, accepted", sh, ok)
	}

	// The admin sees the redemption and the new user.
	b.open(t, "/manage/invites/"+j.inviteID)
	b.expectText(t, "main", "1 of 3", "1 joined", "dave")
	b.open(t, "/manage/users")
	b.expectText(t, "#user-results", "dave")
	b.assertClean(t)
	g.assertClean(t)
}

// manageUsers: adopt the existing Plex friends, edit the new user's libraries and access window,
// bulk-edit three users (preview, then apply), remove one after the confirmation page, stop a
// stream with a message, and find every step in the events page.
func (j *brJourney) manageUsers(t *testing.T) {
	b := j.admin
	fake := j.fake

	// Sync now adopts alice, bob and carol, who were friends on Plex before the app.
	b.open(t, "/manage/sync")
	b.submit(t, `form[action="/manage/sync"] button[type=submit]`)
	b.expectText(t, "main", "adopted")
	b.open(t, "/manage/users")
	b.expectText(t, "#user-results", "alice", "bob", "carol", "dave", "4 users")
	b.shot(t, "users-list", true)

	// Dave's libraries: Music and TV Shows instead of Movies and TV Shows.
	b.submit(t, `#user-results a[href="/manage/users/`+fmt.Sprint(brDave)+`"]`)
	b.expectText(t, "h1", "dave")
	b.setChecked(t, `#libraries input[name=lib][value="`+brMovies+`"]`, false)
	b.setChecked(t, `#libraries input[name=lib][value="`+brMusic+`"]`, true)
	b.submit(t, `#libraries button[type=submit]`)
	if sh, ok := brShareOf(fake, brDave); !ok || !slices.Equal(brSections(sh), []int64{plextest.SectionMusic, plextest.SectionTVShows}) {
		b.fatalf(t, "after saving dave's libraries the fake shares %+v (found %v), want Music + TV Shows", sh, ok)
	}
	b.expectText(t, "#shares-title + .table-wrap", "Music", "TV Shows")

	// Dave's access window: an expiry in a month keeps the share…
	month := time.Now().UTC().AddDate(0, 1, 0).Truncate(time.Minute)
	b.setValue(t, "#window #expires_at", month.Format("2006-01-02T15:04"))
	b.submit(t, `#window button[type=submit]`)
	b.expectText(t, "#window", "Expires")
	if _, ok := brShareOf(fake, brDave); !ok {
		b.fatalf(t, "an expiry a month away removed dave's share on the fake")
	}
	b.shot(t, "user-detail", true)
	// …an expiry in the past ends the access on Plex at once.
	past := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	b.setValue(t, "#window #expires_at", past.Format("2006-01-02T15:04"))
	b.submit(t, `#window button[type=submit]`)
	if sh, ok := brShareOf(fake, brDave); ok {
		b.fatalf(t, "an expiry in the past left dave shared on the fake: %+v", sh)
	}
	b.expectText(t, "h1", "expired")

	// Bulk edit alice, bob and carol: add Music and allow downloads. The preview changes nothing.
	b.open(t, "/manage/users")
	for _, id := range []int64{brAlice, brBob, brCarol} {
		b.setChecked(t, fmt.Sprintf(`#user-results input[name=id][value="%d"]`, id), true)
	}
	b.submit(t, `#user-results button[type=submit]`)
	b.expectText(t, "h1", "Bulk edit")
	b.expectText(t, "summary", "3 users chosen")
	b.setValue(t, "#lib_mode", "add")
	b.setChecked(t, `input[name=lib][value="`+brMusic+`"]`, true)
	b.setValue(t, "#downloads", "on")
	b.typeInto(t, "#reason", "browser journey bulk edit")
	before := fake.Shares()
	b.submit(t, `form[action="/manage/users/bulk/preview"] button[type=submit]`)
	b.expectText(t, "h1", "Preview: 3 users would change")
	b.shot(t, "bulk-preview", true)
	if after := fake.Shares(); fmt.Sprint(after) != fmt.Sprint(before) {
		b.fatalf(t, "the bulk preview changed the fake:\nbefore %+v\nafter  %+v", before, after)
	}
	b.submit(t, `form[action="/manage/users/bulk/apply"] button[type=submit]`)
	b.expectText(t, "h1", "Bulk edit: 3 changed")
	b.shot(t, "bulk-result", true)
	for _, c := range []struct {
		id   int64
		want []int64
	}{
		{brAlice, []int64{plextest.SectionMusic, plextest.SectionMovies, plextest.SectionTVShows}},
		{brBob, []int64{plextest.SectionMusic, plextest.SectionMovies, plextest.SectionTVShows}},
		{brCarol, []int64{plextest.SectionMusic, plextest.SectionMovies}},
	} {
		if sh, ok := brShareOf(fake, c.id); !ok || !sh.AllowSync || !slices.Equal(brSections(sh), c.want) {
			t.Errorf("after the bulk edit the fake has user %d as %+v (found %v), want sections %v with downloads", c.id, sh, ok, c.want)
		}
	}

	// Remove bob, through the confirmation page.
	b.open(t, fmt.Sprintf("/manage/users/%d", brBob))
	b.submit(t, fmt.Sprintf(`a[href="/manage/users/%d/remove"]`, brBob))
	b.expectText(t, "h1", "Remove bob")
	b.expectText(t, "main", "Basement")
	if _, ok := brShareOf(fake, brBob); !ok {
		b.fatalf(t, "the confirmation page removed bob already")
	}
	b.typeInto(t, "#reason", "left the group")
	b.shot(t, "user-remove-confirm", true)
	b.submit(t, fmt.Sprintf(`form[action="/manage/users/%d/remove"] button[type=submit]`, brBob))
	if sh, ok := brShareOf(fake, brBob); ok {
		b.fatalf(t, "bob is still shared on the fake after the removal: %+v", sh)
	}
	b.expectText(t, "h1", "removed")

	// A stream starts on the fake; the streams page shows it and the admin stops it with a message.
	s := fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: brCarol, Title: "Harbor Lights"})
	b.open(t, "/manage/streams")
	b.waitText(t, "#live", "Harbor Lights", 20*time.Second)
	b.expectText(t, "#live", "carol")
	b.shot(t, "streams-live", true)
	b.submit(t, `#live tr[data-session="`+s.ID+`"] a[href$="/terminate"]`)
	b.expectText(t, "h1", "Stop a stream")
	b.expectText(t, "main", "Harbor Lights")
	b.typeInto(t, "#reason", "Browser journey says goodbye")
	b.click(t, `form[action$="/terminate"] button[type=submit]`)
	// The confirmation dialog, not window.confirm; nothing is stopped before it is confirmed.
	b.waitText(t, "#confirm-dialog[open]", "Stop this stream now?", 5*time.Second)
	b.shot(t, "streams-confirm-dialog", true)
	if n := len(fake.Terminations()); n != 0 {
		b.fatalf(t, "%d streams stopped before the dialog was confirmed", n)
	}
	b.submit(t, `#confirm-dialog [data-confirm-ok]`)
	terms := fake.Terminations()
	if len(terms) != 1 || terms[0].SessionID != s.ID || terms[0].Reason != "Browser journey says goodbye" {
		t.Fatalf("terminations on the fake = %+v, want session %s with the message", terms, s.ID)
	}

	// The events page has each step.
	b.open(t, "/manage/events")
	b.expectText(t, "main table", "setup.completed", "invite.created", "invite.redeemed", "user.joined", "user.adopted",
		"user.updated", "user.expired", "user.removed", "stream.terminated")
	b.shot(t, "events", true)
	b.assertClean(t)
}

// brPage is a main page of the UI, in the admin's browser or the guest's.
type brPage struct {
	name, path string
	guest      bool
}

// themesAndPhone: the theme toggle against the system preference, then every main page in the light
// and the dark theme on a desktop and a 360×740 phone: a screenshot each, and no horizontal
// overflow on the phone.
func (j *brJourney) themesAndPhone(t *testing.T) {
	b := j.admin
	const lightBG, darkBG = "rgb(246, 247, 249)", "rgb(15, 17, 21)"
	bg := func(tab *browserTab) string {
		return browserEval[string](t, tab, `getComputedStyle(document.body).backgroundColor`)
	}
	label := func() string { return b.text(t, "[data-theme-toggle] [data-theme-label]") }

	b.open(t, "/manage/")
	b.colorScheme(t, "light")
	if got := bg(b); got != lightBG || label() != "Auto" {
		b.fatalf(t, "theme Auto with a light system: background %s, toggle %q", got, label())
	}
	b.colorScheme(t, "dark")
	if got := bg(b); got != darkBG {
		b.fatalf(t, "theme Auto with a dark system: background %s, want %s", got, darkBG)
	}
	b.click(t, "[data-theme-toggle]") // Auto → Light, whatever the system says
	if got := bg(b); got != lightBG || label() != "Light" {
		b.fatalf(t, "theme Light with a dark system: background %s, toggle %q", got, label())
	}
	b.open(t, "/manage/users") // remembered on the next page, before the first paint
	if got := bg(b); got != lightBG || label() != "Light" {
		b.fatalf(t, "the Light choice was not kept on the next page: background %s, toggle %q", got, label())
	}
	b.colorScheme(t, "light")
	b.click(t, "[data-theme-toggle]") // Light → Dark
	if got := bg(b); got != darkBG || label() != "Dark" {
		b.fatalf(t, "theme Dark with a light system: background %s, toggle %q", got, label())
	}
	b.click(t, "[data-theme-toggle]") // Dark → Auto: the system again
	if got := bg(b); got != lightBG || label() != "Auto" {
		b.fatalf(t, "back to Auto with a light system: background %s, toggle %q", got, label())
	}
	if stored := browserEval[string](t, b, `String(localStorage.getItem("theme"))`); stored != "null" {
		b.fatalf(t, "Auto still stores a theme: %q", stored)
	}

	pages := []brPage{
		{"dashboard", "/manage/", false},
		{"users", "/manage/users", false},
		{"user-detail", fmt.Sprintf("/manage/users/%d", brAlice), false},
		{"invites", "/manage/invites", false},
		{"invite-detail", "/manage/invites/" + j.inviteID, false},
		{"streams", "/manage/streams", false},
		{"events", "/manage/events", false},
		{"settings", "/manage/settings", false},
		{"public-invite", j.link, true},
		{"login", "/manage/login", true},
	}
	for _, scheme := range []string{"light", "dark"} {
		for _, tab := range []*browserTab{j.admin, j.guest} {
			tab.colorScheme(t, scheme)
		}
		for _, vp := range []struct {
			name          string
			width, height int64
			phone         bool
		}{
			{"desktop", browserDesktopWidth, browserDesktopHeight, false},
			{"phone", browserPhoneWidth, browserPhoneHeight, true},
		} {
			for _, tab := range []*browserTab{j.admin, j.guest} {
				tab.viewport(t, vp.width, vp.height, vp.phone)
			}
			for _, p := range pages {
				tab := j.admin
				if p.guest {
					tab = j.guest
				}
				tab.open(t, p.path)
				want := lightBG
				if scheme == "dark" {
					want = darkBG
				}
				if got := bg(tab); got != want {
					t.Errorf("%s (%s, %s): background %s, want %s", p.name, vp.name, scheme, got, want)
				}
				if vp.phone {
					sw, cw := browserEval[int](t, tab, `document.documentElement.scrollWidth`), browserEval[int](t, tab, `document.documentElement.clientWidth`)
					if sw > cw {
						wide := browserEval[string](t, tab, brWidestJS)
						t.Errorf("%s (%s): the page is %d px wide on a %d px screen (scrollWidth %d > clientWidth %d); widest: %s",
							p.name, scheme, sw, browserPhoneWidth, sw, cw, wide)
					}
				}
				tab.shot(t, fmt.Sprintf("%s-%s-%s", vp.name, scheme, p.name), true)
			}
		}
	}
	for _, tab := range []*browserTab{j.admin, j.guest} {
		tab.viewport(t, browserDesktopWidth, browserDesktopHeight, false)
		tab.assertClean(t)
	}
}

// brWidestJS names the elements that stick out to the right of the viewport, skipping those inside
// a box that scrolls or clips (a wide table in its scrolling wrapper is fine), for the failure
// message.
const brWidestJS = `(function(){
  var w = document.documentElement.clientWidth, out = [];
  function contained(e) {
    for (var p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") { return true; }
    }
    return false;
  }
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > w + 1 && out.length < 5 && !contained(e)) {
      var cls = typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "";
      out.push(e.tagName.toLowerCase() + cls + " right=" + Math.round(r.right) + " " + JSON.stringify((e.innerText || "").slice(0, 60)));
    }
  });
  return out.join("; ") || "none found outside scrolling boxes";
})()`

// TestBrowserMonitorCatchesProblems proves the journeys' error checks can fail: a page that logs a
// console error, throws, and has an inline script blocked by the CSP must show up as three problems.
func TestBrowserMonitorCatchesProblems(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	h := newBrowserHarness(t)
	tc := newTester(t)
	load(t, tc, browserConfig(t, fake))
	b := h.tab(t, "monitor", true)

	b.open(t, "/manage/login")
	if problems := b.takeProblems(t); len(problems) != 0 {
		t.Fatalf("a clean page reported problems: %v", problems)
	}
	b.do(t, "misbehaving",
		// A script the page itself runs (as an event handler would), not CDP's evaluation.
		brEval(`setTimeout(function () { console.error("monitor self-test error"); }, 0)`),
		brEval(`setTimeout(function () { throw new Error("monitor self-test exception"); }, 0)`),
		brEval(`(function () { var s = document.createElement("script"); s.textContent = "window.__inline = 1"; document.body.appendChild(s); })()`),
	)
	time.Sleep(200 * time.Millisecond) // let the timers fire
	problems := b.takeProblems(t)
	var kinds []string
	for _, p := range problems {
		kinds = append(kinds, p.String())
	}
	all := strings.Join(kinds, "\n")
	t.Logf("recorded:\n%s", all)
	for _, want := range []string{"monitor self-test error", "monitor self-test exception", "CSP violation: script-src"} {
		if !strings.Contains(all, want) {
			t.Errorf("the monitor missed %q; it recorded:\n%s", want, all)
		}
	}
	if ran := browserEval[bool](t, b, `window.__inline === 1`); ran {
		t.Error("the CSP let an inline script run")
	}
}

// brEval is an Evaluate step that ignores the result.
func brEval(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}
