package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The security suite drives a real Caddy (caddytest, fixed ports) against the Plex fake. Run it
// with the integration lock:
//
//	flock /tmp/plex-manager-it.lock go test -count=1 ./integration/ -run 'TestSecurity'

// secPassword is the password of every account the security tests create.
const secPassword = "Security-Suite-Pass-2026"

// secOptions shapes the instance a security test runs.
type secOptions struct {
	// base is the admin handler's base path: "/manage" (invite pages at the root of the same site)
	// or "" (the admin handler alone at the root of the site).
	base string
	// logFile and accessLog, when set, receive Caddy's logs (all loggers at DEBUG) and the site's
	// access log.
	logFile, accessLog string
	// apiKeyEnv, when set, names the environment variable of the bootstrap api_key.
	apiKeyEnv string
	// token puts the owner token and the first server in the Caddyfile (else the wizard asks).
	token bool
	// extra is added to the plex_manager block.
	extra string
}

// secConfig returns the Caddyfile of a security test instance.
func secConfig(t *testing.T, fake *plextest.Fake, o secOptions) string {
	t.Helper()
	var plexBlock strings.Builder
	fmt.Fprintf(&plexBlock, "plex {\n\t\ttv_url %s\n\t\tauth_url %s\n", fake.TVURL(), fake.AuthURL())
	if o.token {
		fmt.Fprintf(&plexBlock, "\t\ttoken %s\n\t\tserver %s\n", fake.OwnerToken(), fake.ServerURL(fake.Servers()[0].MachineID))
	}
	plexBlock.WriteString("\t}")
	block := fmt.Sprintf("plex_manager {\n\tdata_dir %s\n\tpublic_url http://localhost:9080\n\t%s\n", testDir(t, "pm"), plexBlock.String())
	if o.apiKeyEnv != "" {
		block += fmt.Sprintf("\tapi_key {env.%s}\n", o.apiKeyEnv)
	}
	if o.extra != "" {
		block += "\t" + strings.ReplaceAll(strings.TrimSpace(o.extra), "\n", "\n\t") + "\n"
	}
	block += "}"
	if o.logFile != "" {
		block = fmt.Sprintf("log {\n\toutput file %s\n\tformat json\n\tlevel DEBUG\n}\n", o.logFile) + block
	}
	site := "http://localhost:9080 {\n"
	if o.accessLog != "" {
		site += fmt.Sprintf("\tlog {\n\t\toutput file %s\n\t\tformat json\n\t}\n", o.accessLog)
	}
	if o.base == "" {
		site += "\tplex_manager admin\n}\n"
	} else {
		site += fmt.Sprintf("\thandle %s/* {\n\t\tplex_manager admin {\n\t\t\tbase_path %s\n\t\t}\n\t}\n\thandle {\n\t\tplex_manager invite\n\t}\n}\n", o.base, o.base)
	}
	return globalOptions(t, block) + site
}

// ---------------------------------------------------------------------------------------------
// Clients and recording

// exchange is one request to Caddy's HTTP port and its answer.
type exchange struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
}

// recorder is an http.RoundTripper that keeps every exchange with Caddy's HTTP port (other hosts,
// such as the Plex fake's auth page, pass through unrecorded).
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	list []exchange
}

func newRecorder() *recorder { return &recorder{next: http.DefaultTransport} }

// RoundTrip forwards the request and records the answer.
func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rec.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.String(), baseURL) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rec.mu.Lock()
	rec.list = append(rec.list, exchange{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode, Header: resp.Header.Clone(), Body: body})
	rec.mu.Unlock()
	return resp, nil
}

// exchanges returns what was recorded so far.
func (rec *recorder) exchanges() []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.list)
}

// browser returns a cookie-keeping client that does not follow redirects, recording through rec
// when rec is not nil.
func browser(t *testing.T, rec *recorder) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if rec != nil {
		c.Transport = rec
	}
	return c
}

// browserFrom is browser with connections from a given loopback address (127.0.0.0/8 all reaches
// the local host on Linux), so a test can act as another client for per-address limits.
func browserFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	c := browser(t, nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp4", strings.Replace(addr, "localhost", "127.0.0.1", 1))
	}}
	return c
}

// do sends one request to Caddy as the browser c would, without following redirects. body:
// url.Values (form), string (JSON, "" = none) or []byte (sent with the Content-Type header given
// in headers). headers are name/value pairs.
//
// It drives c's transport and cookie jar itself rather than c.Do: http.Client refuses a response
// whose Location it cannot parse (a control character in it), and such a Location is exactly
// what the open-redirect tests must see.
func do(t *testing.T, c *http.Client, method, path string, body any, headers ...string) (int, string, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	req := newRequest(t, ctx, method, path, body, headers...)
	if c.Jar != nil {
		for _, ck := range c.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if c.Jar != nil {
		c.Jar.SetCookies(req.URL, resp.Cookies())
	}
	return resp.StatusCode, string(out), resp.Header
}

// ---------------------------------------------------------------------------------------------
// Setting an instance up

// runWizard completes the setup wizard on a fresh instance with code, as the browser c: the first
// admin "root", the owner token, the first server of the fake, the public URL. c is signed in as
// root afterwards.
func runWizard(t *testing.T, c *http.Client, base, code string, fake *plextest.Fake) {
	t.Helper()
	steps := []struct {
		path string
		form url.Values
		next string
	}{
		{"/setup", url.Values{"code": {code}}, "/setup/admin"},
		{"/setup/admin", url.Values{"username": {"root"}, "password": {secPassword}, "confirm": {secPassword}}, "/setup/plex"},
		{"/setup/plex/token", url.Values{"token": {fake.OwnerToken()}}, "/setup/servers"},
		{"/setup/servers", url.Values{"server": {fake.Servers()[0].MachineID}}, "/setup/url"},
		{"/setup/url", url.Values{"public_url": {"http://localhost:9080"}}, "/"},
	}
	for _, s := range steps {
		st, body, hdr := do(t, c, "POST", base+s.path, s.form)
		if st != http.StatusSeeOther || hdr.Get("Location") != base+s.next {
			t.Fatalf("setup step %s: %d %q %.300s", s.path, st, hdr.Get("Location"), body)
		}
	}
}

// signIn signs username in with the password form and returns the browser.
func signIn(t *testing.T, rec *recorder, base, username string) *http.Client {
	t.Helper()
	c := browser(t, rec)
	st, body, hdr := do(t, c, "POST", base+"/login", url.Values{"username": {username}, "password": {secPassword}})
	if st != http.StatusSeeOther || hdr.Get("Location") != base+"/" {
		t.Fatalf("signing in %s: %d %q %.300s", username, st, hdr.Get("Location"), body)
	}
	return c
}

// roleActors are browsers signed in and API keys for every role of a set-up instance.
type roleActors struct {
	sessions map[web.Role]*http.Client
	keys     map[web.Role]string
}

// makeRoleActors creates a moderator and an auditor account (root is the admin) and one API key
// per role, and signs everybody in.
func makeRoleActors(t *testing.T, rec *recorder, root *http.Client, base string) roleActors {
	t.Helper()
	a := roleActors{sessions: map[web.Role]*http.Client{}, keys: map[web.Role]string{}}
	for _, role := range []web.Role{web.RoleModerator, web.RoleAuditor} {
		st, body, _ := do(t, root, "POST", base+"/admins", url.Values{"username": {role.String()}, "role": {role.String()},
			"password": {secPassword}, "confirm": {secPassword}})
		if st != http.StatusSeeOther {
			t.Fatalf("creating the %s account: %d %.300s", role, st, body)
		}
		a.sessions[role] = signIn(t, rec, base, role.String())
	}
	a.sessions[web.RoleAdmin] = signIn(t, rec, base, "root")
	for _, role := range web.Roles() {
		a.keys[role] = createAPIKey(t, root, base, role)
	}
	return a
}

// createAPIKey creates an API key with role through the API (root's session) and returns it.
func createAPIKey(t *testing.T, root *http.Client, base string, role web.Role) string {
	t.Helper()
	st, body, _ := do(t, root, "POST", base+"/api/v1/api-keys", fmt.Sprintf(`{"name":"sec %s %d","role":"%s"}`, role, time.Now().UnixNano(), role))
	var created struct{ Key string }
	if st != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || !strings.HasPrefix(created.Key, "pmk_") {
		t.Fatalf("creating a %s API key: %d %.300s", role, st, body)
	}
	return created.Key
}

// createInvite creates an invite for the Movies library (key "4") of the fake's first server
// through the API as c (a session) or with key, retrying while the app has not read the
// servers yet. It returns the invite's id and code.
func createInvite(t *testing.T, c *http.Client, base, key string, fake *plextest.Fake, extra string) (id, code string) {
	t.Helper()
	var hdr []string
	if key != "" {
		hdr = []string{"Authorization", "Bearer " + key}
	}
	body := fmt.Sprintf(`{"label":"sec","libraries":{"%s":["4"]}%s}`, fake.Servers()[0].MachineID, extra)
	var st int
	var out string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, out, _ = do(t, c, "POST", base+"/api/v1/invites", body, hdr...)
		if st != http.StatusBadRequest {
			break
		}
	}
	var inv struct{ ID, Code string }
	if st != http.StatusCreated || json.Unmarshal([]byte(out), &inv) != nil || inv.Code == "" {
		t.Fatalf("creating an invite: %d %.300s", st, out)
	}
	return inv.ID, inv.Code
}

// freshInstance loads a new instance with o and completes the wizard; it returns the signed-in
// root browser.
func freshInstance(t *testing.T, fake *plextest.Fake, rec *recorder, o secOptions) *http.Client {
	t.Helper()
	tc := newTester(t)
	load(t, tc, secConfig(t, fake, o))
	root := browser(t, rec)
	runWizard(t, root, o.base, adminSetupCode(t), fake)
	return root
}

// ---------------------------------------------------------------------------------------------
// No default credentials, setup code required

// TestSecurityFreshInstanceHasNoDefaultAccess checks that on a fresh instance nothing but the
// setup wizard answers: every page leads to the wizard, every API route wants a key, common
// default credentials and keys are refused, the wizard's later steps cannot be reached without
// the setup code, and guessing the code is throttled.
func TestSecurityFreshInstanceHasNoDefaultAccess(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	tc := newTester(t)
	const base = "/manage"
	load(t, tc, secConfig(t, fake, secOptions{base: base}))
	anon := browser(t, nil)

	for _, r := range servedRoutes(t) {
		if r.Kind != web.KindPage && r.Kind != web.KindAPI {
			continue
		}
		path := fillPattern(r.Path)
		var body any
		if r.stateChanging() {
			body = url.Values{"x": {"1"}}
		}
		st, _, hdr := do(t, anon, r.Method, path, body)
		switch r.Kind {
		case web.KindPage:
			if st != http.StatusSeeOther || hdr.Get("Location") != base+web.SetupPath {
				t.Errorf("fresh instance, anonymous %s %s: %d %q, want 303 to the setup wizard", r.Method, path, st, hdr.Get("Location"))
			}
		case web.KindAPI:
			if st != http.StatusUnauthorized {
				t.Errorf("fresh instance, anonymous %s %s: %d, want 401", r.Method, path, st)
			}
		}
	}

	// Default credentials and keys people try.
	for _, cred := range [][2]string{{"admin", "admin"}, {"admin", "password"}, {"root", "root"}, {"plex", "plex"}, {"admin", ""}} {
		c := browser(t, nil)
		st, _, hdr := do(t, c, "POST", base+"/login", url.Values{"username": {cred[0]}, "password": {cred[1]}})
		if st == http.StatusSeeOther && hdr.Get("Location") == base+"/" {
			t.Errorf("fresh instance accepted %s/%s", cred[0], cred[1])
		}
		if st, _, _ := do(t, c, "GET", base+"/api/v1/me", nil); st != http.StatusUnauthorized {
			t.Errorf("after trying %s/%s: /me = %d", cred[0], cred[1], st)
		}
	}
	for _, key := range []string{"admin", "changeme", "pmk_", "pmk_admin", "plex", "0000000000000000000000000000"} {
		if st, _, _ := do(t, anon, "GET", base+"/api/v1/status", nil, "Authorization", "Bearer "+key); st != http.StatusUnauthorized {
			t.Errorf("bearer %q on a fresh instance: %d", key, st)
		}
	}

	// The first admin cannot be created without the setup code's flow cookie.
	st, _, hdr := do(t, anon, "POST", base+"/setup/admin", url.Values{"username": {"intruder"}, "password": {secPassword}, "confirm": {secPassword}})
	if loc := hdr.Get("Location"); st == http.StatusOK || (st == http.StatusSeeOther && loc != base+web.SetupPath) {
		t.Errorf("POST /setup/admin without the setup code: %d %q, want a refusal or the code step", st, loc)
	}
	st, _, hdr = do(t, anon, "POST", base+"/setup/admin/plex", url.Values{})
	if loc := hdr.Get("Location"); st == http.StatusOK || (st == http.StatusSeeOther && loc != base+web.SetupPath) {
		t.Errorf("POST /setup/admin/plex without the setup code: %d %q, want a refusal or the code step", st, loc)
	}
	if st, _, hdr := do(t, anon, "GET", base+"/", nil); st != http.StatusSeeOther || hdr.Get("Location") != base+"/setup" {
		t.Fatalf("an admin was created without the setup code: GET / = %d %q", st, hdr.Get("Location"))
	}

	// Guessing the code is throttled per client address (another address than the tests' own).
	guesser := browserFrom(t, "127.0.0.66")
	throttled := false
	for i := 0; i < 25 && !throttled; i++ {
		st, _, hdr := do(t, guesser, "POST", base+"/setup", url.Values{"code": {fmt.Sprintf("ZZZZ-ZZZZ-%04d", i)}})
		switch st {
		case http.StatusBadRequest:
		case http.StatusTooManyRequests:
			throttled = hdr.Get("Retry-After") != ""
		default:
			t.Fatalf("wrong setup code #%d: %d", i, st)
		}
	}
	if !throttled {
		t.Error("25 wrong setup codes from one address were never throttled (429 with Retry-After)")
	}

	// The real code (from Caddy's admin endpoint, as an operator would) opens the wizard.
	root := browser(t, nil)
	runWizard(t, root, base, adminSetupCode(t), fake)
	if st, _, _ := do(t, root, "GET", base+"/api/v1/me", nil); st != http.StatusOK {
		t.Errorf("root after setup: /me = %d", st)
	}
}

// ---------------------------------------------------------------------------------------------
// Session fixation

// TestSecuritySessionFixedOnSignIn checks that signing in always issues a new session value: a
// value planted in the browser before sign-in (an attacker's own, valid session) is replaced and
// keeps its own identity, a second sign-in changes the value again, and a signed-out value is dead.
func TestSecuritySessionFixedOnSignIn(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	const base = "/manage"
	root := freshInstance(t, fake, nil, secOptions{base: base})
	if st, body, _ := do(t, root, "POST", base+"/admins", url.Values{"username": {"mallory"}, "role": {"auditor"},
		"password": {secPassword}, "confirm": {secPassword}}); st != http.StatusSeeOther {
		t.Fatalf("creating mallory: %d %.300s", st, body)
	}
	siteURL, _ := url.Parse(baseURL + base + "/")
	sessionOf := func(c *http.Client) string {
		for _, ck := range c.Jar.Cookies(siteURL) {
			if ck.Name == web.SessionCookieName {
				return ck.Value
			}
		}
		return ""
	}
	whoAmI := func(value string) (int, string) {
		c := browser(t, nil)
		c.Jar.SetCookies(siteURL, []*http.Cookie{{Name: web.SessionCookieName, Value: value, Path: base}})
		st, body, _ := do(t, c, "GET", base+"/api/v1/me", nil)
		var me struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal([]byte(body), &me)
		return st, me.Name
	}

	// Mallory signs in on her own device and plants her session in the victim's browser.
	mallory := signIn(t, nil, base, "mallory")
	planted := sessionOf(mallory)
	if planted == "" {
		t.Fatal("no session cookie after sign-in")
	}
	victim := browser(t, nil)
	victim.Jar.SetCookies(siteURL, []*http.Cookie{{Name: web.SessionCookieName, Value: planted, Path: base}})
	st, _, hdr := do(t, victim, "POST", base+"/login", url.Values{"username": {"root"}, "password": {secPassword}})
	if st != http.StatusSeeOther || hdr.Get("Location") != base+"/" {
		t.Fatalf("victim sign-in: %d %q", st, hdr.Get("Location"))
	}
	first := sessionOf(victim)
	if first == "" || first == planted {
		t.Fatalf("signing in kept the planted session value (fixation)")
	}
	if st, name := whoAmI(planted); st == http.StatusOK && name != "mallory" {
		t.Errorf("the planted session now belongs to %q", name)
	}
	if st, name := whoAmI(first); st != http.StatusOK || name != "root" {
		t.Errorf("the victim's new session: %d %q", st, name)
	}

	// A second sign-in in the same browser changes the value again and retires the previous one.
	if st, _, _ := do(t, victim, "POST", base+"/login", url.Values{"username": {"root"}, "password": {secPassword}}); st != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", st)
	}
	second := sessionOf(victim)
	if second == "" || second == first {
		t.Error("a second sign-in kept the session value")
	}
	if st, _ := whoAmI(first); st == http.StatusOK {
		t.Error("the session value before the second sign-in still works")
	}

	// Signing out kills the value on the server, not only in the browser.
	if st, _, _ := do(t, victim, "POST", base+"/logout", url.Values{}); st != http.StatusSeeOther {
		t.Fatalf("sign out: %d", st)
	}
	if st, _ := whoAmI(second); st != http.StatusUnauthorized {
		t.Errorf("a signed-out session value still answers %d", st)
	}
	// Attacker-chosen values are never adopted.
	if st, _ := whoAmI("attacker-chosen-session-value-0123456789abcdef"); st != http.StatusUnauthorized {
		t.Errorf("an invented session value answers %d", st)
	}
}

// ---------------------------------------------------------------------------------------------
// Roles and CSRF on every route

// adminOnlyPrefixes are the areas only admins may enter (settings, admins, API keys, logs,
// notifications) per DESIGN.md: "moderator (users and invites, no settings or admins)".
var adminOnlyPrefixes = []string{"/admins", "/api-keys", "/settings", "/logs", "/notifications"}

// auditorWrites are the state-changing routes an auditor may use, with the reason: their own
// account, and the purge preview, which only computes candidates.
var auditorWrites = map[string]string{
	"page POST /account/password":    "own password",
	"page POST /account/plex":        "own Plex link",
	"page POST /account/plex/unlink": "own Plex link",
	"page POST /logout/everywhere":   "own sessions",
	"api POST /purge/preview":        "a preview only computes the candidates",
}

// reviewedReads are read-only routes inside the admin-only areas that lower roles may use, each
// reviewed: they show nothing secret.
var reviewedReads = map[string]string{
	"api GET /settings/access": "the access engine's purge rules and safety limits: auditors read them (handlers/users), admins change them",
}

// TestSecurityRolePolicyOfServedRoutes checks the least role of every route the running handlers
// serve against the role model: auditors change nothing (but their own account), the admin-only
// areas need admin.
func TestSecurityRolePolicyOfServedRoutes(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	load(t, newTester(t), secConfig(t, fake, secOptions{base: "/manage"}))
	for _, r := range servedRoutes(t) {
		if r.Kind != web.KindPage && r.Kind != web.KindAPI {
			continue
		}
		key := r.Kind + " " + r.Method + " " + r.Pattern
		for _, p := range adminOnlyPrefixes {
			if (r.Pattern == p || strings.HasPrefix(r.Pattern, p+"/")) && r.Min != web.RoleAdmin {
				if _, ok := reviewedReads[key]; ok && !r.stateChanging() {
					continue
				}
				t.Errorf("%s: the %s area must need admin (or, for a read that shows nothing secret, a reviewed entry in reviewedReads)", r, p)
			}
		}
		if r.stateChanging() && r.Min < web.RoleModerator {
			if _, ok := auditorWrites[key]; !ok {
				t.Errorf("%s: an auditor may change state here", r)
			}
		}
	}
}

// TestSecurityEveryRouteRolesAndCSRF enumerates every route the running handlers serve (see
// servedRoutes), checks the API ones against the OpenAPI document, then asks each through a
// real Caddy as anonymous, auditor, moderator and admin (browser session, and API key for the
// API): anonymous pages go to sign-in, anonymous API calls get 401, a role below the route's
// least role gets 403, and a role at or above it gets past the guard (no 401/403, no 5xx). Every
// state-changing route refuses a cross-origin browser request even from an admin.
func TestSecurityEveryRouteRolesAndCSRF(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	const base = "/manage"
	root := freshInstance(t, fake, nil, secOptions{base: base})
	actors := makeRoleActors(t, nil, root, base)
	routes := servedRoutes(t)

	// The OpenAPI document lists exactly the API routes.
	st, body, _ := do(t, root, "GET", base+"/api/v1/openapi.json", nil)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil {
		t.Fatalf("openapi.json: %d", st)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range routes {
		if r.Kind == web.KindAPI {
			served[r.Method+" "+strings.ReplaceAll(r.Pattern, "...}", "}")] = true
		}
	}
	if !served["GET /openapi.json"] {
		t.Error("the admin endpoint does not list GET /openapi.json")
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("API route %s is served but not in openapi.json", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which the admin handler does not serve", k)
		}
	}

	// Guards. Routes that end the caller's sessions or remove the Plex token go last, so the
	// others run on an intact instance.
	rank := func(r servedRoute) int {
		switch {
		case r.Pattern == "/logout/everywhere":
			return 2
		case strings.HasPrefix(r.Pattern, "/settings/plex-token"):
			return 1
		}
		return 0
	}
	slices.SortStableFunc(routes, func(a, b servedRoute) int { return rank(a) - rank(b) })
	checked := 0
	for _, r := range routes {
		if r.Kind != web.KindPage && r.Kind != web.KindAPI {
			continue
		}
		checked++
		path := fillPattern(r.Path)
		// A body the handler refuses before doing anything (malformed form or JSON), so admitted
		// requests prove the guard let them through without changing anything.
		var reqBody any
		var ctype []string
		if r.stateChanging() && r.Method != "DELETE" {
			if r.Kind == web.KindAPI {
				reqBody = "{"
			} else {
				reqBody, ctype = []byte("%zz=%zz"), []string{"Content-Type", "application/x-www-form-urlencoded"}
			}
		}
		st, _, hdr := do(t, browser(t, nil), r.Method, path, reqBody, ctype...)
		switch r.Kind {
		case web.KindPage:
			wantLoc := base + web.LoginPath
			if r.Method == "GET" {
				wantLoc += "?next=" + url.QueryEscape(path)
			}
			if st != http.StatusSeeOther || hdr.Get("Location") != wantLoc {
				t.Errorf("anonymous %s %s: %d %q, want 303 to %s", r.Method, path, st, hdr.Get("Location"), wantLoc)
			}
		case web.KindAPI:
			if st != http.StatusUnauthorized {
				t.Errorf("anonymous %s %s: %d, want 401", r.Method, path, st)
			}
		}
		// The setup wizard's later steps are closed for everybody once setup is done.
		closedForAll := strings.HasPrefix(r.Pattern, web.SetupPath+"/")
		for _, role := range []web.Role{web.RoleAuditor, web.RoleModerator, web.RoleAdmin} {
			type caller struct {
				name string
				c    *http.Client
				hdr  []string
			}
			callers := []caller{{"session", actors.sessions[role], nil}}
			if r.Kind == web.KindAPI {
				callers = append(callers, caller{"key", browser(t, nil), []string{"Authorization", "Bearer " + actors.keys[role]}})
			}
			for _, cl := range callers {
				st, body, hdr := do(t, cl.c, r.Method, path, reqBody, append(slices.Clone(ctype), cl.hdr...)...)
				who := fmt.Sprintf("%s (%s)", role, cl.name)
				switch {
				case st >= 500 && st != http.StatusBadGateway:
					t.Errorf("%s %s as %s: %d %.200s", r.Method, path, who, st, body)
				case closedForAll:
					if st != http.StatusForbidden {
						t.Errorf("%s %s as %s after setup: %d, want 403", r.Method, path, who, st)
					}
				case !role.Allows(r.Min):
					if st != http.StatusForbidden {
						t.Errorf("%s %s as %s (needs %s): %d, want 403", r.Method, path, who, r.Min, st)
					}
				default:
					if st == http.StatusUnauthorized || st == http.StatusForbidden ||
						(st == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), base+web.LoginPath) && r.Pattern != "/logout/everywhere") {
						t.Errorf("%s %s as %s (needs %s): refused with %d %q", r.Method, path, who, r.Min, st, hdr.Get("Location"))
					}
				}
			}
		}
	}
	t.Logf("checked the guards of %d page and API routes for 4 callers each (API: session and key)", checked)

	// CSRF: every state-changing route refuses a cross-origin browser request, even an admin's
	// (and even with an API key: the check comes first).
	admin := signIn(t, nil, base, "root")
	csrf := 0
	for _, r := range routes {
		if r.CSRF != r.stateChanging() {
			t.Errorf("%s: the router reports csrf %v", r, r.CSRF)
		}
		if !r.stateChanging() {
			continue
		}
		path := fillPattern(r.Path)
		csrf++
		var reqBody any = url.Values{"username": {"intruder"}, "role": {"admin"}, "password": {secPassword}, "confirm": {secPassword}}
		if r.Kind == web.KindAPI {
			reqBody = `{"name":"intruder","role":"admin"}`
		}
		for _, hdrs := range [][]string{
			{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "cross-site"},
			{"Origin", "https://evil.example"},
		} {
			if r.Kind == web.KindAPI {
				hdrs = append(hdrs, "Authorization", "Bearer "+actors.keys[web.RoleAdmin])
			}
			st, _, _ := do(t, admin, r.Method, path, reqBody, hdrs...)
			if st != http.StatusForbidden {
				t.Errorf("cross-origin %s %s (%v): %d, want 403", r.Method, path, hdrs[:2], st)
			}
		}
	}
	t.Logf("checked cross-origin refusal on %d state-changing routes", csrf)
	_, list, _ := do(t, admin, "GET", base+"/api/v1/admins", nil)
	_, keys, _ := do(t, admin, "GET", base+"/api/v1/api-keys", nil)
	if strings.Contains(list, "intruder") || strings.Contains(keys, "intruder") {
		t.Error("a cross-origin request created an admin or a key")
	}
}

// ---------------------------------------------------------------------------------------------
// Security headers

// checkSecurityHeaders reports a response that lacks the headers every answer must carry.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	ctype := h.Get("Content-Type")
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q", what, h.Get("X-Content-Type-Options"))
	}
	if rp := h.Get("Referrer-Policy"); rp != "no-referrer" && rp != "same-origin" && rp != "strict-origin" {
		t.Errorf("%s: Referrer-Policy = %q", what, rp)
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline or eval: %q", what, csp)
	}
	framing := strings.Contains(csp, "frame-ancestors 'none'") || h.Get("X-Frame-Options") == "DENY"
	if !framing {
		t.Errorf("%s: may be framed (CSP %q, X-Frame-Options %q)", what, csp, h.Get("X-Frame-Options"))
	}
	if strings.HasPrefix(ctype, "text/html") || strings.HasPrefix(ctype, "image/svg") {
		if !regexp.MustCompile(`(^|;\s*)script-src 'self'(;|$)`).MatchString(csp) && !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s (%s): CSP does not restrict scripts to 'self': %q", what, ctype, csp)
		}
		if !strings.Contains(csp, "frame-ancestors 'none'") && !strings.Contains(csp, "sandbox") {
			t.Errorf("%s (%s): CSP lacks frame-ancestors 'none': %q", what, ctype, csp)
		}
	}
}

// TestSecurityHeadersOnEveryPageType asks for one answer of each kind (pages, sign-in, the
// wizard, error pages of every status, redirects, JSON, static files, QR codes, exports, the
// public invite pages, health) and checks the headers every answer must carry.
func TestSecurityHeadersOnEveryPageType(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	const base = "/manage"
	tc := newTester(t)
	load(t, tc, secConfig(t, fake, secOptions{base: base}))
	anon := browser(t, nil)
	// Before setup: the wizard.
	for _, p := range []string{base + "/setup", base + "/", base + "/login"} {
		_, _, h := do(t, anon, "GET", p, nil)
		checkSecurityHeaders(t, "fresh GET "+p, h)
	}
	root := browser(t, nil)
	runWizard(t, root, base, adminSetupCode(t), fake)
	key := createAPIKey(t, root, base, web.RoleAdmin)
	var inv struct{ ID, Code string }
	inv.ID, inv.Code = createInvite(t, root, base, "", fake, "")
	_, dash, _ := do(t, root, "GET", base+"/", nil)
	static := regexp.MustCompile(`/manage/static/[0-9a-f]+/[^"]+`).FindAllString(dash, -1)
	if len(static) == 0 {
		t.Fatal("the dashboard links no static file")
	}
	type ask struct {
		what         string
		c            *http.Client
		method, path string
		body         any
		hdr          []string
		status       int
	}
	asks := []ask{
		{"dashboard", root, "GET", base + "/", nil, nil, 200},
		{"htmx fragment", root, "GET", base + "/events", nil, []string{"HX-Request", "true"}, 200},
		{"sign-in page", anon, "GET", base + "/login", nil, nil, 200},
		{"setup closed", anon, "GET", base + "/setup", nil, nil, 403},
		{"redirect to sign-in", anon, "GET", base + "/invites", nil, nil, 303},
		{"404 page", root, "GET", base + "/no/such/page", nil, nil, 404},
		{"405 page", root, "DELETE", base + "/login", nil, nil, 405},
		{"403 page (CSRF)", root, "POST", base + "/invites", url.Values{}, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"413 page", root, "POST", base + "/invites", []byte(strings.Repeat("a=b&", 300<<10)), []string{"Content-Type", "application/x-www-form-urlencoded"}, 413},
		{"400 page", root, "POST", base + "/invites", []byte("%zz"), []string{"Content-Type", "application/x-www-form-urlencoded"}, 400},
		{"static file", anon, "GET", static[0], nil, nil, 200},
		{"healthz", anon, "GET", base + "/healthz", nil, nil, 200},
		{"API JSON", anon, "GET", base + "/api/v1/status", nil, []string{"Authorization", "Bearer " + key}, 200},
		{"API 401", anon, "GET", base + "/api/v1/status", nil, nil, 401},
		{"API 404", anon, "GET", base + "/api/v1/nothing", nil, []string{"Authorization", "Bearer " + key}, 404},
		{"openapi.json", anon, "GET", base + "/api/v1/openapi.json", nil, []string{"Authorization", "Bearer " + key}, 200},
		{"QR PNG", root, "GET", base + "/invites/" + inv.ID + "/qr.png", nil, nil, 200},
		{"QR SVG", root, "GET", base + "/invites/" + inv.ID + "/qr.svg", nil, nil, 200},
		{"events export CSV", root, "GET", base + "/events/export?format=csv", nil, nil, 200},
		{"events export JSON", root, "GET", base + "/events/export?format=json", nil, nil, 200},
		{"events export error", root, "GET", base + "/events/export?format=xml", nil, nil, 400},
		{"logs page", root, "GET", base + "/logs", nil, nil, 200},
		{"logs download", root, "GET", base + "/logs/download", nil, nil, 200},
		{"thumbnail refused", root, "GET", base + "/streams/thumb/" + fake.Servers()[0].MachineID + "?path=/etc/passwd", nil, nil, 400},
		{"invite landing", anon, "GET", "/", nil, nil, 200},
		{"invite page", anon, "GET", "/" + inv.Code, nil, nil, 200},
		{"unusable invite", anon, "GET", "/no-such-code", nil, nil, 404},
		{"invite static", anon, "GET", strings.TrimPrefix(static[0], base), nil, nil, 200},
		{"invite 403 (CSRF)", anon, "POST", "/" + inv.Code + "/join", url.Values{}, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"account status page", anon, "GET", "/access/no-such-token", nil, nil, 404},
	}
	for _, a := range asks {
		st, _, h := do(t, a.c, a.method, a.path, a.body, a.hdr...)
		if st != a.status {
			t.Errorf("%s: %s %s = %d, want %d", a.what, a.method, a.path, st, a.status)
		}
		checkSecurityHeaders(t, a.what, h)
	}
}

// ---------------------------------------------------------------------------------------------
// API keys at rest

// TestSecurityAPIKeysStoredHashed takes an online backup through Caddy's admin endpoint,
// restores it into a new directory and reads every value of the database: the raw API keys,
// the admin password, the session values and the owner token must appear nowhere.
func TestSecurityAPIKeysStoredHashed(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	const base = "/manage"
	t.Setenv("PM_SEC_BOOT_KEY", "sec-bootstrap-key-0123456789abcdef")
	root := freshInstance(t, fake, nil, secOptions{base: base, apiKeyEnv: "PM_SEC_BOOT_KEY"})
	secrets := map[string]string{
		"admin key":     createAPIKey(t, root, base, web.RoleAdmin),
		"auditor key":   createAPIKey(t, root, base, web.RoleAuditor),
		"bootstrap key": "sec-bootstrap-key-0123456789abcdef",
		"password":      secPassword,
		"owner token":   fake.OwnerToken(),
	}
	// Use the keys once (so last-used bookkeeping has written too).
	for name, k := range secrets {
		if strings.HasSuffix(name, "key") {
			if st, _, _ := do(t, browser(t, nil), "GET", base+"/api/v1/me", nil, "Authorization", "Bearer "+k); st != http.StatusOK {
				t.Fatalf("%s: /me = %d", name, st)
			}
		}
	}
	siteURL, _ := url.Parse(baseURL + base + "/")
	for _, ck := range root.Jar.Cookies(siteURL) {
		if ck.Name == web.SessionCookieName {
			secrets["session"] = ck.Value
		}
	}
	if secrets["session"] == "" {
		t.Fatal("no session cookie")
	}

	resp, err := http.Get("http://" + adminAddr + "/plex_manager/backup")
	if err != nil {
		t.Fatal(err)
	}
	backup, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(backup) == 0 {
		t.Fatalf("backup: %d %v (%d bytes)", resp.StatusCode, err, len(backup))
	}
	dir := filepath.Join(testDir(t, "restored"), "db")
	if err := storage.Restore(dir, bytes.NewReader(backup)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	db, err := badger.Open(badger.DefaultOptions(dir).WithReadOnly(true).WithLogger(nil))
	if err != nil {
		t.Fatalf("opening the restored database: %v", err)
	}
	defer db.Close()
	values, keysWithAPIKey := 0, 0
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.KeyCopy(nil)
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			values++
			if bytes.Contains(k, []byte("apikey")) {
				keysWithAPIKey++
			}
			for name, s := range secrets {
				if bytes.Contains(v, []byte(s)) || bytes.Contains(k, []byte(s)) {
					t.Errorf("the store holds the raw %s under key %q", name, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if values < 10 || keysWithAPIKey < 2 {
		t.Fatalf("read %d values, %d API key records: the scan did not see the data", values, keysWithAPIKey)
	}
	t.Logf("scanned %d values (%d API key records) of the restored backup", values, keysWithAPIKey)
	for name, s := range secrets {
		if bytes.Contains(backup, []byte(s)) {
			t.Errorf("the backup file holds the raw %s", name)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Path traversal

// TestSecurityPathTraversalRefused asks the static file route, the thumbnail proxy and the
// invite pages for paths that climb out or reach other Plex routes: none is served.
func TestSecurityPathTraversalRefused(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	const base = "/manage"
	root := freshInstance(t, fake, nil, secOptions{base: base})
	_, dash, _ := do(t, root, "GET", base+"/", nil)
	m := regexp.MustCompile(`/manage/static/([0-9a-f]+)/([^"]+)`).FindStringSubmatch(dash)
	if m == nil {
		t.Fatal("no static link on the dashboard")
	}
	hash := m[1]
	if st, _, _ := do(t, root, "GET", m[0], nil); st != http.StatusOK {
		t.Fatalf("the static file itself: %d", st)
	}
	markers := []string{"root:x:0:0", "package ", "module github.com", "[core]", "BEGIN", "secret"}
	for _, p := range []string{
		"/static/" + hash + "/../../../../etc/passwd",
		"/static/" + hash + "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/static/" + hash + "/..%2f..%2f..%2fetc%2fpasswd",
		"/static/" + hash + "/..%5c..%5cetc%5cpasswd",
		"/static/" + hash + "/%252e%252e/go.mod",
		"/static/" + hash + "/../templates.go",
		"/static/" + hash + "/templates.go",
		"/static/" + hash + "/.",
		"/static/" + hash + "/",
		"/static/" + hash + "//etc/passwd",
		"/static/../../go.mod",
		"/static/" + hash + "/app.css%00.go",
		"/static/" + hash + "/vendor/../../templates.go",
	} {
		for _, prefix := range []string{base, ""} { // admin and invite handlers
			st, body, _ := do(t, root, "GET", prefix+p, nil)
			if st == http.StatusOK && !strings.HasSuffix(p, ".css") {
				t.Errorf("GET %s%s served %d bytes", prefix, p, len(body))
			}
			for _, mk := range markers {
				if strings.Contains(body, mk) && st == http.StatusOK {
					t.Errorf("GET %s%s leaked %q", prefix, p, mk)
				}
			}
			if st >= 500 {
				t.Errorf("GET %s%s: %d", prefix, p, st)
			}
		}
	}

	// The thumbnail proxy only fetches artwork: other server routes (with the server token),
	// dot segments, queries and other hosts are refused before any call to Plex.
	server := fake.Servers()[0].MachineID
	fake.ResetCalls()
	for _, p := range []string{
		"/library/metadata/1/thumb/../../../accounts",
		"/library/metadata/1/thumb/..%2f..%2f..%2fstatus/sessions",
		"/library/metadata/../../status/sessions",
		"/status/sessions",
		"/accounts",
		"/library/sections",
		"/library/metadata/1/thumb?X-Plex-Token=x",
		"/library/metadata/1/thumb/1/../../../../identity",
		"//evil.example/library/metadata/1/thumb",
		"http://evil.example/library/metadata/1/thumb",
		"/library/metadata/1/thumb%00",
		"/library/metadata/1%2f../thumb",
		"/library/metadata/-1/thumb",
		"/library/metadata/1/notartwork",
		"/library/metadata/1/thumb/1/2",
	} {
		st, body, _ := do(t, root, "GET", base+"/streams/thumb/"+server+"?path="+url.QueryEscape(p), nil)
		if st != http.StatusBadRequest {
			t.Errorf("thumbnail path %q: %d %.100s, want 400", p, st, body)
		}
	}
	for _, call := range fake.Calls() {
		t.Errorf("a refused thumbnail reached Plex: %s %s", call.Method, call.Path)
	}
	// An unknown server is not a way to reach another host either.
	for _, s := range []string{"evil.example", "..", "%2e%2e", "127.0.0.1:2999", "%2f%2fevil.example"} {
		st, _, hdr := do(t, root, "GET", base+"/streams/thumb/"+s+"?path="+url.QueryEscape("/library/metadata/1/thumb"), nil)
		if (st == http.StatusOK && strings.HasPrefix(hdr.Get("Content-Type"), "image/")) || st >= 500 || redirectsOffSite(hdr.Get("Location")) {
			t.Errorf("thumbnail of server %q: %d %q", s, st, hdr.Get("Location"))
		}
	}
	for _, call := range fake.Calls() {
		t.Errorf("a thumbnail of an unknown server reached Plex: %s %s", call.Method, call.Path)
	}

	// Invite codes with traversal are unusable codes, not files.
	for _, p := range []string{"/..%2f..%2fgo.mod", "/%2e%2e", "/static%2f..%2fgo.mod", "/x/..%2f..%2fetc%2fpasswd"} {
		st, body, _ := do(t, browser(t, nil), "GET", p, nil)
		if st == http.StatusOK || strings.Contains(body, "module github.com") {
			t.Errorf("GET %s: %d", p, st)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Open redirects

// redirectsOffSite reports whether a Location would send a browser to another host. Browsers
// strip tabs and newlines from URLs and read backslashes as slashes before resolving, so the
// target is normalised the same way first.
func redirectsOffSite(loc string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, loc)
	n = strings.TrimLeft(n, " \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f")
	u, err := url.Parse(n)
	if err != nil {
		return true
	}
	return u.Host != "" || u.Scheme != "" || strings.HasPrefix(n, "//")
}

// openRedirectTargets are next= values that try to leave the site.
var openRedirectTargets = []string{
	"https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example",
	"/\t/evil.example/", "/\n/evil.example", "/%09/evil.example", " //evil.example",
	"http:evil.example", "javascript:alert(1)", "/%2f%2fevil.example", "///evil.example",
	"/manage//evil.example", "/manage/\t/evil.example", "/manage/\\evil.example",
}

// TestSecurityOpenRedirectsRefused tries next= targets that leave the site on the sign-in page
// (GET with a live session, which redirects at once, and the POST form), with the admin handler
// mounted under /manage and at the site root; and returns from Plex sign-in with another
// browser's state.
func TestSecurityOpenRedirectsRefused(t *testing.T) {
	for _, base := range []string{"/manage", ""} {
		t.Run("base="+base, func(t *testing.T) {
			fake := plextest.NewServer(t, plextest.Options{})
			root := freshInstance(t, fake, nil, secOptions{base: base})
			for _, target := range openRedirectTargets {
				// Already signed in: GET /login?next= redirects at once.
				st, _, hdr := do(t, root, "GET", base+"/login?next="+url.QueryEscape(target), nil)
				if loc := hdr.Get("Location"); redirectsOffSite(loc) {
					t.Errorf("GET %s/login?next=%q: %d Location %q leaves the site", base, target, st, loc)
				}
				// Signing in with the form.
				c := browser(t, nil)
				st, body, hdr := do(t, c, "POST", base+"/login", url.Values{"username": {"root"}, "password": {secPassword}, "next": {target}})
				if loc := hdr.Get("Location"); redirectsOffSite(loc) {
					t.Errorf("POST %s/login next=%q: %d Location %q leaves the site", base, target, st, loc)
				}
				if st != http.StatusSeeOther {
					t.Errorf("POST %s/login next=%q: %d %.200s", base, target, st, body)
				}
				// The sign-in form must not carry it on either.
				_, page, _ := do(t, browser(t, nil), "GET", base+"/login?next="+url.QueryEscape(target), nil)
				for _, m := range regexp.MustCompile(`name="next" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
					if v := html.UnescapeString(m[1]); redirectsOffSite(v) {
						t.Errorf("GET %s/login?next=%q puts %q in the sign-in form", base, target, v)
					}
				}
			}
			// Plex sign-in: the return needs this browser's state; another's is refused.
			c := browser(t, nil)
			st, _, hdr := do(t, c, "POST", base+"/login/plex", url.Values{"next": {"//evil.example/"}})
			loc := hdr.Get("Location")
			if st != http.StatusSeeOther || !strings.HasPrefix(loc, fake.AuthURL()) {
				t.Fatalf("POST /login/plex: %d %q", st, loc)
			}
			if strings.Contains(loc, "evil.example") {
				t.Errorf("the Plex auth URL carries the next target: %q", loc)
			}
			_, frag, _ := strings.Cut(loc, "#?")
			params, _ := url.ParseQuery(frag)
			fwd, err := url.Parse(params.Get("forwardUrl"))
			if err != nil || fwd.Host != "localhost:9080" {
				t.Errorf("forwardUrl %q is not this site", params.Get("forwardUrl"))
			}
			state := fwd.Query().Get("state")
			if state == "" {
				t.Fatalf("forwardUrl %q has no state", params.Get("forwardUrl"))
			}
			other := browser(t, nil)
			st, _, hdr = do(t, other, "GET", base+"/plex/callback?state="+url.QueryEscape(state), nil)
			if st != http.StatusBadRequest || redirectsOffSite(hdr.Get("Location")) {
				t.Errorf("Plex callback in another browser: %d %q, want 400", st, hdr.Get("Location"))
			}
			st, _, _ = do(t, c, "GET", base+"/plex/callback?state=forged-"+state, nil)
			if st != http.StatusBadRequest {
				t.Errorf("Plex callback with a forged state: %d, want 400", st)
			}
		})
	}
}

// TestSecurityInviteForwardURLAndState checks the public side: the forward URL Plex sends the
// invitee back to is this site's own callback, and a callback with another browser's state or a
// made-up state is refused.
func TestSecurityInviteForwardURLAndState(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{PINPollInterval: 10 * time.Millisecond})
	const base = "/manage"
	root := freshInstance(t, fake, nil, secOptions{base: base})
	var inv struct{ Code string }
	_, inv.Code = createInvite(t, root, base, "", fake, "")
	invitee := browser(t, nil)
	st, _, hdr := do(t, invitee, "POST", "/"+inv.Code+"/join", url.Values{}, "Sec-Fetch-Site", "same-origin", "Origin", baseURL)
	loc := hdr.Get("Location")
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, fake.AuthURL()+"#?") {
		t.Fatalf("join: %d %q", st, loc)
	}
	_, frag, _ := strings.Cut(loc, "#?")
	params, _ := url.ParseQuery(frag)
	fwd, err := url.Parse(params.Get("forwardUrl"))
	if err != nil || fwd.Scheme+"://"+fwd.Host != baseURL || !strings.HasPrefix(fwd.Path, "/"+inv.Code+"/callback") {
		t.Fatalf("forwardUrl %q is not this site's callback", params.Get("forwardUrl"))
	}
	// The invitee signs in at Plex.
	if err := fake.ClaimPIN(params.Get("code"), 41234567); err != nil {
		t.Fatal(err)
	}
	// Somebody else (who saw the link) cannot finish it in their browser, nor with a made-up state.
	for _, c := range []*http.Client{browser(t, nil)} {
		st, page, _ := do(t, c, "GET", fwd.RequestURI(), nil)
		if st == http.StatusOK && strings.Contains(page, "Welcome") {
			t.Errorf("another browser finished the invitee's sign-in")
		}
	}
	q := fwd.Query()
	q.Set("state", "made-up-state")
	st, page, _ := do(t, invitee, "GET", fwd.Path+"?"+q.Encode(), nil)
	if st == http.StatusOK && strings.Contains(page, "Welcome") {
		t.Error("a made-up state finished a sign-in")
	}
	for _, sh := range fake.SharesFor(fake.Servers()[0].MachineID) {
		if sh.UserID == 41234567 {
			t.Error("the invitee was shared although no valid callback happened")
		}
	}
	// The invitee's own browser still finishes.
	var final string
	for i := 0; i < 30; i++ {
		st, final, _ = do(t, invitee, "GET", fwd.RequestURI(), nil)
		if !strings.Contains(final, "Finishing your sign-in") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st != http.StatusOK || !strings.Contains(final, "Welcome") {
		t.Errorf("the invitee's own callback: %d %.300s", st, final)
	}
}

// ---------------------------------------------------------------------------------------------
// Oversized bodies

// TestSecurityOversizedBodiesRefused sends bodies above the 1 MiB limit to form pages, JSON API
// routes, the sign-in and setup forms and the public join: each is refused with 413 (announced by
// Content-Length, and streamed without one).
func TestSecurityOversizedBodiesRefused(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	const base = "/manage"
	root := freshInstance(t, fake, nil, secOptions{base: base})
	key := createAPIKey(t, root, base, web.RoleAdmin)
	big := func(form bool) []byte {
		if form {
			return []byte("label=" + strings.Repeat("a", 2<<20))
		}
		return []byte(`{"label":"` + strings.Repeat("a", 2<<20) + `"}`)
	}
	// chunked: the handler reads the body, so a body without Content-Length is cut at the limit
	// too (the join and the closed setup form answer without reading it, which is as safe).
	cases := []struct {
		what, method, path string
		form, chunked      bool
		c                  *http.Client
		hdr                []string
	}{
		{"admin form", "POST", base + "/invites", true, true, root, nil},
		{"sign-in form", "POST", base + "/login", true, true, browser(t, nil), nil},
		{"setup form", "POST", base + "/setup", true, false, browser(t, nil), nil},
		{"API JSON (key)", "POST", base + "/api/v1/invites", false, true, browser(t, nil), []string{"Authorization", "Bearer " + key}},
		{"API JSON (session)", "PATCH", base + "/api/v1/settings", false, true, root, nil},
		{"public join", "POST", "/no-such-code/join", true, false, browser(t, nil), nil},
	}
	for _, c := range cases {
		ctype := "application/json"
		if c.form {
			ctype = "application/x-www-form-urlencoded"
		}
		st, _, _ := do(t, c.c, c.method, c.path, big(c.form), append([]string{"Content-Type", ctype}, c.hdr...)...)
		if st != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with Content-Length: %d, want 413", c.what, st)
		}
		if !c.chunked {
			continue
		}
		// Chunked: no Content-Length, the limit is found while reading.
		req, _ := http.NewRequest(c.method, baseURL+c.path, io.MultiReader(bytes.NewReader(big(c.form))))
		req.ContentLength = -1
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Set(c.hdr[i], c.hdr[i+1])
		}
		resp, err := c.c.Do(req)
		if err != nil {
			t.Errorf("%s chunked: %v", c.what, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s chunked: %d, want 413", c.what, resp.StatusCode)
		}
	}
	// The server is still fine.
	if st, _, _ := do(t, root, "GET", base+"/", nil); st != http.StatusOK {
		t.Errorf("dashboard after the big bodies: %d", st)
	}
}

// ---------------------------------------------------------------------------------------------
// Tokens never in logs, pages or URLs

// readLines returns a file's lines ("" when it does not exist yet).
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// setupCodeFromLog waits for the setup code the app logs at start and returns the newest.
func setupCodeFromLog(t *testing.T, logFile string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		code := ""
		for _, l := range readLines(t, logFile) {
			var e struct {
				Msg  string `json:"msg"`
				Code string `json:"setup_code"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.Msg == handlers.SetupCodeLogMessage && e.Code != "" {
				code = e.Code
			}
		}
		if code != "" {
			return code
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no setup code in %s", logFile)
	return ""
}

// TestSecurityNoTokenLeaks runs a whole scenario — setup through the wizard with the setup code
// read from Caddy's log, API keys, an invite redeemed through the fake's auth page, a user edit,
// a stream with its thumbnail, the events export, the logs page and its download, and Plex
// failures injected so error messages and pages render — while Caddy logs everything at DEBUG to
// a file and every answer is recorded. Then every Plex token of the fake (owner, each server,
// each account) and every API key is looked for in the logs, the answers (bodies, headers,
// Location) and the URLs Plex was called with.
func TestSecurityNoTokenLeaks(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{PINPollInterval: 10 * time.Millisecond})
	const base = "/manage"
	logDir := testDir(t, "logs")
	logFile, accessLog := filepath.Join(logDir, "caddy.log"), filepath.Join(logDir, "access.log")
	const bootKey = "leak-bootstrap-key-0123456789abcdef"
	t.Setenv("PM_LEAK_BOOT_KEY", bootKey)
	tc := newTester(t)
	load(t, tc, secConfig(t, fake, secOptions{base: base, logFile: logFile, accessLog: accessLog, apiKeyEnv: "PM_LEAK_BOOT_KEY",
		extra: "session_poll 1s\nenforce_every 2s"}))
	rec := newRecorder()
	machine := fake.Servers()[0].MachineID

	// Setup with the code from the log, as an operator would.
	root := browser(t, rec)
	runWizard(t, root, base, setupCodeFromLog(t, logFile), fake)
	actors := makeRoleActors(t, rec, root, base)
	keyResponses := len(rec.exchanges()) // the answers up to here include the created keys once
	api := func(method, path, body string, key string) (int, string) {
		st, b, _ := do(t, browser(t, rec), method, base+"/api/v1"+path, body, "Authorization", "Bearer "+key)
		return st, b
	}

	// Invite and redemption through the fake's auth page (dave: 41234567).
	var inv struct{ ID, Code string }
	inv.ID, inv.Code = createInvite(t, browser(t, rec), base, bootKey, fake, `,"max_uses":2`)
	var st int
	var body string
	invitee := browser(t, rec)
	do(t, invitee, "GET", "/"+inv.Code, nil)
	st, _, hdr := do(t, invitee, "POST", "/"+inv.Code+"/join", url.Values{}, "Sec-Fetch-Site", "same-origin", "Origin", baseURL)
	loc := hdr.Get("Location")
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, fake.AuthURL()+"#?") {
		t.Fatalf("join: %d %q", st, loc)
	}
	_, frag, _ := strings.Cut(loc, "#?")
	params, _ := url.ParseQuery(frag)
	claim := url.Values{"code": {params.Get("code")}, "clientID": {params.Get("clientID")}, "forwardUrl": {params.Get("forwardUrl")}, "account": {"41234567"}}
	resp, err := invitee.PostForm(fake.URL()+"/auth/claim", claim)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	for i := 0; i < 30; i++ {
		st, body, _ = do(t, invitee, "GET", strings.TrimPrefix(back, baseURL), nil)
		if !strings.Contains(body, "Finishing your sign-in") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st != http.StatusOK || !strings.Contains(body, "Welcome") {
		t.Errorf("redemption: %d %.300s", st, body)
	}

	// Users: sync, list, edit through the API and the page (needs the users feature).
	usersWired := false
	if st, _ := api("POST", "/sync", "", actors.keys[web.RoleModerator]); st == http.StatusOK {
		usersWired = true
		api("GET", "/users", "", actors.keys[web.RoleAuditor])
		if st, b := api("PATCH", "/users/41234567", fmt.Sprintf(`{"notes":"leak test","libraries":{"%s":["4","1"]}}`, machine), actors.keys[web.RoleModerator]); st != http.StatusOK {
			t.Errorf("PATCH dave: %d %.300s", st, b)
		}
		do(t, actors.sessions[web.RoleModerator], "GET", base+"/users/41234567", nil)
		do(t, actors.sessions[web.RoleModerator], "POST", base+"/users/41234567/notes", url.Values{"notes": {"from the page"}})
		do(t, actors.sessions[web.RoleAuditor], "GET", base+"/users?q=dav", nil)
		do(t, actors.sessions[web.RoleAuditor], "GET", base+"/servers", nil)
		do(t, actors.sessions[web.RoleAuditor], "GET", base+"/dashboard", nil)
	} else {
		t.Errorf("POST /sync = %d: the users feature is not wired; user edits are not part of this run", st)
	}

	// A stream, its pages and its thumbnail.
	s := fake.StartSession(machine, plextest.Session{AccountID: 22526914, Title: "Leaky Pipes"})
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, b := api("GET", "/streams", "", actors.keys[web.RoleAuditor]); strings.Contains(b, s.ID) {
			break
		}
	}
	_, streamsPage, _ := do(t, actors.sessions[web.RoleAuditor], "GET", base+"/streams", nil)
	do(t, actors.sessions[web.RoleAuditor], "GET", base+"/streams/live", nil, "HX-Request", "true")
	for _, th := range regexp.MustCompile(`/manage/streams/thumb/[^"]+`).FindAllString(streamsPage, 3) {
		do(t, actors.sessions[web.RoleAuditor], "GET", strings.ReplaceAll(th, "&amp;", "&"), nil)
	}
	do(t, actors.sessions[web.RoleModerator], "POST", base+"/streams/"+machine+"/"+s.ID+"/terminate", url.Values{"reason": {"leak test"}})

	// Plex failures, so the error messages and pages render.
	faults := []struct {
		fault plextest.Fault
		ask   func()
	}{
		{plextest.Fault{Route: "GET /status/sessions", Status: 500, Body: "<html>PMS error for token " + fake.OwnerToken() + "</html>"}, func() {
			api("POST", "/streams/poll", "", actors.keys[web.RoleModerator])
			do(t, actors.sessions[web.RoleAuditor], "GET", base+"/streams", nil)
		}},
		{plextest.Fault{Route: "POST /api/v2/pins", Status: 503}, func() {
			do(t, browser(t, rec), "POST", "/"+inv.Code+"/join", url.Values{}, "Sec-Fetch-Site", "same-origin", "Origin", baseURL)
			c := browser(t, rec)
			do(t, c, "POST", base+"/login/plex", url.Values{})
			do(t, c, "GET", base+"/login", nil)
		}},
		{plextest.Fault{Route: "GET /api/users", Status: 401, Body: `{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`}, func() {
			st, b := api("POST", "/sync", "", actors.keys[web.RoleModerator])
			t.Logf("sync with the token refused: %d %.200s", st, b)
			do(t, actors.sessions[web.RoleModerator], "POST", base+"/sync", url.Values{})
			do(t, actors.sessions[web.RoleAdmin], "GET", base+"/settings", nil)
			do(t, actors.sessions[web.RoleAdmin], "GET", base+"/", nil)
		}},
		{plextest.Fault{Route: "GET /api/users", Status: 500, Body: "upstream said X-Plex-Token=" + fake.OwnerToken()}, func() {
			st, b := api("POST", "/sync", "", actors.keys[web.RoleModerator])
			t.Logf("sync with Plex answering 500: %d %.300s", st, b)
			do(t, actors.sessions[web.RoleModerator], "POST", base+"/sync", url.Values{})
		}},
		{plextest.Fault{Route: "POST /api/v2/shared_servers/{id}", Status: 400, Body: `{"errors":[{"code":1000,"message":"bad token ` + fake.OwnerToken() + `","status":400}]}`}, func() {
			if usersWired {
				st, b := api("PATCH", "/users/41234567", fmt.Sprintf(`{"libraries":{"%s":["4"]}}`, machine), actors.keys[web.RoleModerator])
				t.Logf("PATCH with Plex answering 400: %d %.300s", st, b)
				do(t, actors.sessions[web.RoleModerator], "POST", base+"/users/41234567/libraries", url.Values{"server": {machine}, "lib": {machine + "/1"}})
			}
		}},
		{plextest.Fault{Route: "GET /identity", Status: 500}, func() {
			api("GET", "/servers", "", actors.keys[web.RoleAuditor])
			api("POST", "/servers/refresh", "", actors.keys[web.RoleModerator])
		}},
	}
	var plexCalls []plextest.Call
	for _, f := range faults {
		plexCalls = append(plexCalls, fake.Calls()...)
		fake.ResetCalls()
		fake.Inject(f.fault)
		f.ask()
		fake.ClearFaults()
		hit := false
		for _, c := range fake.Calls() {
			hit = hit || (c.Route == f.fault.Route && c.Status == f.fault.Status)
		}
		if !hit {
			t.Errorf("the injected failure of %s never happened: the scenario did not render its error", f.fault.Route)
		}
	}

	// Events, exports, logs, settings, status.
	for _, p := range []string{"/events", "/events/export?format=csv", "/events/export?format=json", "/logs", "/logs/rows", "/logs/download", "/logs/download?format=json",
		"/settings", "/api-keys", "/admins", "/account", "/notifications", "/invites", "/invites/" + inv.ID} {
		do(t, actors.sessions[web.RoleAdmin], "GET", base+p, nil)
	}
	for _, p := range []string{"/events?limit=1000", "/status", "/me", "/settings", "/invites", "/invites/" + inv.ID + "/redemptions", "/streams/history"} {
		api("GET", p, "", bootKey)
	}
	do(t, actors.sessions[web.RoleAdmin], "POST", base+"/logout", url.Values{})
	time.Sleep(500 * time.Millisecond) // let the last log lines reach the file

	// The needles.
	secrets := map[string]string{"owner token": fake.OwnerToken(), "bootstrap API key": bootKey}
	for _, sv := range fake.Servers() {
		secrets["server token of "+sv.Name] = sv.Token
	}
	for _, a := range fake.Accounts() {
		if a.Token != "" {
			secrets["token of account "+a.Username] = a.Token
		}
	}
	for role, k := range actors.keys {
		secrets[role.String()+" API key"] = k
	}
	// Session values must not be logged either (they are in Set-Cookie headers by design).
	logOnly := map[string]string{"password": secPassword}
	siteURL, _ := url.Parse(baseURL + base + "/")
	for role, c := range actors.sessions {
		for _, ck := range c.Jar.Cookies(siteURL) {
			if ck.Name == web.SessionCookieName {
				logOnly[role.String()+" session"] = ck.Value
			}
		}
	}

	exchanges := rec.exchanges()
	if len(exchanges) < 60 {
		t.Fatalf("recorded only %d answers", len(exchanges))
	}
	for i, ex := range exchanges {
		var hb strings.Builder
		for k, vs := range ex.Header {
			if k == "Set-Cookie" {
				continue
			}
			fmt.Fprintf(&hb, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		for name, s := range secrets {
			if i < keyResponses && strings.HasSuffix(name, "API key") && name != "bootstrap API key" {
				continue // the answer that created a key shows it once, by design
			}
			if strings.Contains(ex.URL, s) {
				t.Errorf("the URL %s %s holds the %s", ex.Method, ex.URL, name)
			}
			if strings.Contains(hb.String(), s) {
				t.Errorf("the headers of %s %s (%d) hold the %s", ex.Method, ex.URL, ex.Status, name)
			}
			if bytes.Contains(ex.Body, []byte(s)) {
				t.Errorf("the answer to %s %s (%d) holds the %s", ex.Method, ex.URL, ex.Status, name)
			}
		}
	}
	logs := append(readLines(t, logFile), readLines(t, accessLog)...)
	if len(readLines(t, accessLog)) < 50 || len(readLines(t, logFile)) < 20 {
		t.Fatalf("the logs are too short to mean anything: %d app lines, %d access lines", len(readLines(t, logFile)), len(readLines(t, accessLog)))
	}
	for _, l := range logs {
		for name, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("a log line holds the %s: %.300s", name, l)
			}
		}
		for name, s := range logOnly {
			if strings.Contains(l, s) {
				t.Errorf("a log line holds the %s: %.300s", name, l)
			}
		}
	}
	plexCalls = append(plexCalls, fake.Calls()...)
	for _, call := range plexCalls {
		if call.TokenInQuery {
			t.Errorf("Plex was called with a token in the URL: %s %s", call.Method, call.Path)
		}
		for name, s := range secrets {
			if strings.Contains(call.Path+"?"+call.RawQuery, s) {
				t.Errorf("Plex was called with the %s in the URL: %s", name, call.Route)
			}
		}
	}
	// Security headers on every answer of the scenario.
	for _, ex := range exchanges {
		checkSecurityHeaders(t, fmt.Sprintf("%s %s (%d)", ex.Method, ex.URL, ex.Status), ex.Header)
	}
	t.Logf("scanned %d answers, %d log lines, %d Plex calls for %d secrets", len(exchanges), len(logs), len(plexCalls), len(secrets)+len(logOnly))
}
