package handlers

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestFreshInstanceLeadsToSetup(t *testing.T) {
	hs := newHarness(t, harnessOptions{base: "/m"})
	b := hs.browser()
	for _, p := range []string{"/", "/admins", "/settings", "/login"} {
		rec := b.get(p)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/setup" {
			t.Errorf("GET %s on a fresh instance: %d → %q, want 303 → /m/setup", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := b.get("/setup"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "setup code") {
		t.Errorf("GET /setup: %d", rec.Code)
	}
	// The API is not a way in: nothing without a key.
	if rec := hs.api("GET", "/status", "", ""); rec.Code != 401 {
		t.Errorf("API on a fresh instance: %d", rec.Code)
	}
}

func TestSetupWizard(t *testing.T) {
	hs := newHarness(t, harnessOptions{plex: true})
	code := hs.setupCode()
	b := hs.browser()

	// Step 2 cannot be reached without the code.
	if rec := b.get("/setup/admin"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup" {
		t.Fatalf("step 2 without a code: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := b.post("/setup/admin", url.Values{"username": {"root"}, "password": {testPassword}, "confirm": {testPassword}}); rec.Code != http.StatusSeeOther || hs.countAdmins() != 0 {
		t.Fatalf("creating an admin without a code: %d, %d admins", rec.Code, hs.countAdmins())
	}

	// A wrong code is refused with a message; the right one still works afterwards.
	wrong := "0000-0000-0000"
	if code == wrong {
		wrong = "1111-1111-1111"
	}
	rec := b.post("/setup", url.Values{"code": {wrong}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(fieldError(rec.Body.String(), "code"), "wrong or has expired") {
		t.Fatalf("wrong code: %d %q", rec.Code, fieldError(rec.Body.String(), "code"))
	}
	if b.cookies[setupFlowCookie] != "" {
		t.Fatal("a wrong code opened the flow")
	}
	if rec := b.post("/setup", url.Values{"code": {""}}); rec.Code != 400 || fieldError(rec.Body.String(), "code") == "" {
		t.Errorf("empty code: %d", rec.Code)
	}
	rec = b.post("/setup", url.Values{"code": {strings.ToLower(code)}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/admin" || b.cookies[setupFlowCookie] == "" {
		t.Fatalf("right code: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Single use: another browser cannot use it again.
	other := hs.browser()
	if rec := other.post("/setup", url.Values{"code": {code}}); rec.Code != http.StatusBadRequest {
		t.Errorf("second use of the code: %d", rec.Code)
	}

	// Step 2: bad input on each field changes nothing.
	bad := []struct {
		field string
		form  url.Values
	}{
		{"username", url.Values{"username": {"bad name"}, "password": {testPassword}, "confirm": {testPassword}}},
		{"username", url.Values{"username": {""}, "password": {testPassword}, "confirm": {testPassword}}},
		{"password", url.Values{"username": {"root"}, "password": {"short"}, "confirm": {"short"}}},
		{"password", url.Values{"username": {"root"}, "password": {"Password1234"}, "confirm": {"Password1234"}}},
		{"password", url.Values{"username": {"rootadmin"}, "password": {"rootadmin-2024"}, "confirm": {"rootadmin-2024"}}},
		{"confirm", url.Values{"username": {"root"}, "password": {testPassword}, "confirm": {testPassword + "x"}}},
	}
	for _, tt := range bad {
		rec := b.post("/setup/admin", tt.form)
		if rec.Code != http.StatusBadRequest || fieldError(rec.Body.String(), tt.field) == "" {
			t.Errorf("step 2 %v: %d, no message for %s", tt.form, rec.Code, tt.field)
		}
		if strings.Contains(rec.Body.String(), tt.form.Get("password")) && len(tt.form.Get("password")) > 5 {
			t.Errorf("step 2 echoes the password back")
		}
	}
	if hs.countAdmins() != 0 {
		t.Fatal("bad input created an admin")
	}
	rec = b.post("/setup/admin", url.Values{"username": {"root"}, "password": {testPassword}, "confirm": {testPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/plex" {
		t.Fatalf("creating the first admin: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	a, err := hs.store.AdminByUsername("root")
	if err != nil || a.Role != storage.RoleAdmin || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
		t.Fatalf("first admin: %+v %v", a, err)
	}
	if b.cookies["pm_session"] == "" || b.cookies[setupFlowCookie] != "" {
		t.Errorf("after step 2: cookies %v", b.cookies)
	}

	// Re-running steps 1–2 is refused now, for everybody.
	for _, tt := range []struct{ method, path string }{{"GET", "/setup"}, {"POST", "/setup"}, {"GET", "/setup/admin"}, {"POST", "/setup/admin"}, {"POST", "/setup/new-code"}} {
		rec := other.do(tt.method, tt.path, url.Values{"code": {code}, "username": {"x2"}, "password": {testPassword}, "confirm": {testPassword}})
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Setup is complete") {
			t.Errorf("%s %s after setup: %d", tt.method, tt.path, rec.Code)
		}
	}
	if hs.countAdmins() != 1 {
		t.Fatalf("%d admins", hs.countAdmins())
	}

	// Step 3: the Plex token. Wrong token, then right.
	if rec := b.get("/setup/plex"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Connect Plex") {
		t.Fatalf("step 3: %d", rec.Code)
	}
	rec = b.post("/setup/plex/token", url.Values{"token": {"not-a-valid-token"}})
	if rec.Code != 400 || !strings.Contains(fieldError(rec.Body.String(), "token"), "rejected") {
		t.Fatalf("wrong token: %d %q", rec.Code, fieldError(rec.Body.String(), "token"))
	}
	if tok, _ := PlexOwnerToken(hs.store, hs.sealer); tok != "" {
		t.Fatal("a rejected token was stored")
	}
	rec = b.post("/setup/plex/token", url.Values{"token": {hs.fake.OwnerToken()}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/servers" {
		t.Fatalf("right token: %d %s", rec.Code, rec.Body.String())
	}
	tok, err := PlexOwnerToken(hs.store, hs.sealer)
	if err != nil || tok != hs.fake.OwnerToken() {
		t.Fatalf("stored token %q %v", tok, err)
	}
	var raw string
	_ = hs.store.GetSetting(plexTokenKey, &raw)
	if !storage.IsSealed(raw) || strings.Contains(raw, hs.fake.OwnerToken()) {
		t.Errorf("the token is not sealed at rest: %q", raw)
	}
	if strings.Contains(b.get("/setup/plex").Body.String(), hs.fake.OwnerToken()) || strings.Contains(b.get("/settings").Body.String(), hs.fake.OwnerToken()) {
		t.Error("the token is shown back")
	}

	// Servers: listed from plex.tv, each checked before it is saved.
	rec = b.get("/setup/servers")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Basement") {
		t.Fatalf("servers: %d %s", rec.Code, rec.Body.String())
	}
	if rec := b.post("/setup/servers", url.Values{}); rec.Code != 400 {
		t.Errorf("no server chosen: %d", rec.Code)
	}
	if rec := b.post("/setup/servers", url.Values{"server": {"not-a-server"}}); rec.Code != 400 {
		t.Errorf("unknown server: %d", rec.Code)
	}
	if list, _ := hs.store.ListServers(); len(list) != 0 {
		t.Fatal("a refused choice saved servers")
	}
	rec = b.post("/setup/servers", url.Values{"server": {plextest.MinimalMachineID}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/url" {
		t.Fatalf("choosing a server: %d %s", rec.Code, rec.Body.String())
	}
	srv, err := hs.store.GetServer(plextest.MinimalMachineID)
	if err != nil || srv.Name != "Basement" || srv.URL != hs.fake.URL() || !srv.Online {
		t.Errorf("saved server %+v %v", srv, err)
	}

	// Step 4: the public URL.
	for _, badURL := range []string{"", "plex.example.com", "ftp://x.example", "https://u:p@x.example", "https://x.example/?q=1"} {
		rec := b.post("/setup/url", url.Values{"public_url": {badURL}})
		if rec.Code != 400 || fieldError(rec.Body.String(), "public_url") == "" {
			t.Errorf("public URL %q: %d", badURL, rec.Code)
		}
	}
	if a, _ := LoadAppSettings(hs.store); a.SetupDone || a.PublicURL != "" {
		t.Fatal("a bad URL changed the settings")
	}
	rec = b.post("/setup/url", url.Values{"public_url": {"https://Plex.Example.com/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("finishing: %d", rec.Code)
	}
	if a, _ := LoadAppSettings(hs.store); !a.SetupDone || a.PublicURL != "https://plex.example.com" {
		t.Errorf("settings after setup: %+v", a)
	}
	if rec := b.get("/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Setup is complete.") {
		t.Errorf("dashboard after setup: %d (flash expected)", rec.Code)
	}
	// The wizard is closed, for the admin too.
	for _, p := range []string{"/setup/plex", "/setup/servers", "/setup/url"} {
		if rec := b.get(p); rec.Code != http.StatusForbidden {
			t.Errorf("GET %s after setup: %d", p, rec.Code)
		}
	}
}

func TestSetupNewCode(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	b := hs.browser()
	first := hs.setupCode()
	// A valid code exists: no new one.
	if rec := b.post("/setup/new-code", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("new code: %d", rec.Code)
	}
	if n := len(hs.logs.FilterMessage(SetupCodeLogMessage).All()); n != 1 {
		t.Fatalf("%d codes logged, want 1", n)
	}
	hs.clock.Add(61 * time.Minute)
	if rec := b.post("/setup", url.Values{"code": {first}}); rec.Code != 400 {
		t.Fatalf("expired code: %d", rec.Code)
	}
	if rec := b.post("/setup/new-code", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("new code: %d", rec.Code)
	}
	entries := hs.logs.FilterMessage(SetupCodeLogMessage).All()
	if len(entries) != 2 {
		t.Fatalf("%d codes logged, want 2", len(entries))
	}
	second := entries[1].ContextMap()["setup_code"].(string)
	if rec := b.post("/setup", url.Values{"code": {second}}); rec.Code != http.StatusSeeOther {
		t.Errorf("the new code: %d", rec.Code)
	}
}

func TestSetupCodeGuessingIsThrottled(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	code := hs.setupCode()
	b := hs.browser()
	var last int
	for range 25 {
		last = b.post("/setup", url.Values{"code": {"ZZZZ-ZZZZ-ZZZZ"}}).Code
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after 25 wrong codes: %d, want 429", last)
	}
	// Even the right code waits now.
	if rec := b.post("/setup", url.Values{"code": {code}}); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("right code while locked: %d", rec.Code)
	}
	hs.clock.Add(2 * time.Minute)
	if rec := b.post("/setup", url.Values{"code": {code}}); rec.Code != http.StatusSeeOther {
		t.Errorf("right code after the lock: %d", rec.Code)
	}
}

func TestIssueSetupCodeOnlyWithoutAdmins(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	hs.addAdmin("root", storage.RoleAdmin, true)
	issued, err := IssueSetupCode(hs.store, hs.h.logger, nil)
	if err != nil || issued {
		t.Errorf("IssueSetupCode with an admin = %v, %v", issued, err)
	}
	if n := len(hs.logs.FilterMessage(SetupCodeLogMessage).All()); n != 0 {
		t.Errorf("%d codes logged", n)
	}
}

func TestSetupWithFixedSettings(t *testing.T) {
	hs := newHarness(t, harnessOptions{fixed: FixedSettings{PublicURL: "https://fixed.example.com", PlexToken: true,
		PlexServers: []string{"http://192.0.2.10:32400"}}})
	b := hs.browser()
	code := hs.setupCode()
	b.post("/setup", url.Values{"code": {code}})
	b.post("/setup/admin", url.Values{"username": {"root"}, "password": {testPassword}, "confirm": {testPassword}})
	if rec := b.get("/setup/plex"); !strings.Contains(rec.Body.String(), "set in the Caddyfile") || strings.Contains(rec.Body.String(), `name="token"`) {
		t.Errorf("fixed token: the form is offered")
	}
	if rec := b.post("/setup/plex/token", url.Values{"token": {"x"}}); rec.Code != http.StatusConflict {
		t.Errorf("posting a token over a fixed one: %d", rec.Code)
	}
	if rec := b.get("/setup/servers"); !strings.Contains(rec.Body.String(), "192.0.2.10") {
		t.Errorf("fixed servers not shown")
	}
	if rec := b.post("/setup/servers", url.Values{"server": {"x"}}); rec.Code != http.StatusConflict {
		t.Errorf("choosing servers over fixed ones: %d", rec.Code)
	}
	rec := b.get("/setup/url")
	if !strings.Contains(rec.Body.String(), "https://fixed.example.com") || !strings.Contains(rec.Body.String(), "readonly") {
		t.Errorf("fixed URL not shown read-only")
	}
	if rec := b.post("/setup/url", url.Values{"public_url": {"https://other.example"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("finishing: %d", rec.Code)
	}
	if a, _ := LoadAppSettings(hs.store); !a.SetupDone || a.PublicURL != "" {
		t.Errorf("a fixed public URL was overridden: %+v", a)
	}
}

// TestSetupFirstAdminOnceUnderConcurrency posts step 2 from several browsers holding the same
// setup flow at once: exactly one admin is created and signed in. Every other request is refused:
// told that setup is complete (it saw the new admin before or inside the creating transaction)
// or sent back to enter a code (it found the flow already used).
func TestSetupFirstAdminOnceUnderConcurrency(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	code := hs.setupCode()
	first := hs.browser()
	if rec := first.post("/setup", url.Values{"code": {code}}); rec.Code != http.StatusSeeOther || first.cookies[setupFlowCookie] == "" {
		t.Fatalf("setup code: %d", rec.Code)
	}
	const n = 6
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		b := hs.browser()
		maps.Copy(b.cookies, first.cookies)
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("root%d", i)
			recs[i] = b.post("/setup/admin", url.Values{"username": {name}, "password": {testPassword}, "confirm": {testPassword}})
		}()
	}
	wg.Wait()
	created := 0
	for i, rec := range recs {
		switch {
		case rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == "/setup/plex":
			created++
		case rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), "Setup is complete"),
			rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == "/setup":
		default:
			t.Errorf("request %d: %d %q", i, rec.Code, rec.Header().Get("Location"))
		}
	}
	if created != 1 || hs.countAdmins() != 1 {
		t.Fatalf("%d requests created an admin, %d admins stored; want 1 and 1", created, hs.countAdmins())
	}
}
