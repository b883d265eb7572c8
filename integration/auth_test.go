package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// authPassword passes the password rules.
const authPassword = "Integration-Pass-2026"

// authConfig runs a fresh instance (no admin, no Plex token) against the Plex fake.
func authConfig(t *testing.T, fake *plextest.Fake) string {
	return globalOptions(t, fmt.Sprintf(`plex_manager {
	data_dir %s
	public_url http://localhost:9080
	plex {
		tv_url %s
		auth_url %s
	}
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

// authClient is a browser-like client: cookies kept, redirects not followed.
func authClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send performs one request; form values are sent urlencoded, a string body as JSON.
func send(t *testing.T, c *http.Client, method, path string, body any, headers ...string) (int, string, http.Header) {
	t.Helper()
	req := newRequest(t, context.Background(), method, path, body, headers...)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp.Header
}

// adminSetupCode asks Caddy's local admin endpoint for a fresh setup code (the same code the
// server logs at start; this endpoint replaces it with a new one).
func adminSetupCode(t *testing.T) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest("POST", "http://"+adminAddr+"/plex_manager/setup-code", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		SetupCode string `json:"setup_code"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.SetupCode == "" {
		t.Fatalf("setup code from the admin endpoint: %d", resp.StatusCode)
	}
	return out.SetupCode
}

func TestAuthSetupSignInRolesAndCSRF(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	tc := newTester(t)
	load(t, tc, authConfig(t, fake))

	root := authClient(t)
	if code, _, hdr := send(t, root, "GET", "/manage/", nil); code != http.StatusSeeOther || hdr.Get("Location") != "/manage/setup" {
		t.Fatalf("fresh instance: %d %q", code, hdr.Get("Location"))
	}
	code := adminSetupCode(t)

	// Step 1: a wrong code, then the right one.
	if st, body, _ := send(t, root, "POST", "/manage/setup", url.Values{"code": {"ZZZZ-ZZZZ-ZZZZ"}}); st != http.StatusBadRequest || !strings.Contains(body, "wrong or has expired") {
		t.Fatalf("wrong setup code: %d", st)
	}
	if st, _, hdr := send(t, root, "POST", "/manage/setup", url.Values{"code": {code}}); st != http.StatusSeeOther || hdr.Get("Location") != "/manage/setup/admin" {
		t.Fatalf("right setup code: %d %q", st, hdr.Get("Location"))
	}
	// Single use.
	if st, _, _ := send(t, authClient(t), "POST", "/manage/setup", url.Values{"code": {code}}); st != http.StatusBadRequest {
		t.Errorf("setup code used twice: %d", st)
	}
	// Step 2: the first admin (a weak password is refused first).
	if st, _, _ := send(t, root, "POST", "/manage/setup/admin", url.Values{"username": {"root"}, "password": {"password1234"}, "confirm": {"password1234"}}); st != http.StatusBadRequest {
		t.Errorf("weak password: %d", st)
	}
	st, _, hdr := send(t, root, "POST", "/manage/setup/admin", url.Values{"username": {"root"}, "password": {authPassword}, "confirm": {authPassword}})
	if st != http.StatusSeeOther || hdr.Get("Location") != "/manage/setup/plex" {
		t.Fatalf("first admin: %d %q", st, hdr.Get("Location"))
	}
	// Step 3: the owner token, checked with (fake) plex.tv.
	if st, _, _ := send(t, root, "POST", "/manage/setup/plex/token", url.Values{"token": {"wrong-token"}}); st != http.StatusBadRequest {
		t.Errorf("wrong Plex token: %d", st)
	}
	if st, _, hdr := send(t, root, "POST", "/manage/setup/plex/token", url.Values{"token": {fake.OwnerToken()}}); st != http.StatusSeeOther || hdr.Get("Location") != "/manage/setup/servers" {
		t.Fatalf("Plex token: %d %q", st, hdr.Get("Location"))
	}
	if st, body, _ := send(t, root, "GET", "/manage/setup/servers", nil); st != 200 || !strings.Contains(body, "Basement") {
		t.Errorf("server list: %d", st)
	}
	if st, _, hdr := send(t, root, "POST", "/manage/setup/servers", url.Values{"server": {plextest.MinimalMachineID}}); st != http.StatusSeeOther || hdr.Get("Location") != "/manage/setup/url" {
		t.Errorf("choosing the server: %d %q", st, hdr.Get("Location"))
	}
	// Step 4, done.
	if st, _, hdr := send(t, root, "POST", "/manage/setup/url", url.Values{"public_url": {"http://localhost:9080"}}); st != http.StatusSeeOther || hdr.Get("Location") != "/manage/" {
		t.Fatalf("public URL: %d %q", st, hdr.Get("Location"))
	}
	// Setup cannot run again, and the admin endpoint no longer hands out codes.
	for _, p := range []string{"/manage/setup", "/manage/setup/admin"} {
		if st, _, _ := send(t, authClient(t), "GET", p, nil); st != http.StatusForbidden {
			t.Errorf("GET %s after setup: %d, want 403", p, st)
		}
	}
	if st, _, _ := send(t, root, "GET", "/manage/setup/url", nil); st != http.StatusForbidden {
		t.Errorf("wizard step after setup: %d", st)
	}
	// The wizard saved the server only; the settings change makes the app read its libraries from Plex
	// at once, so an invite can offer them without waiting for a sync pass.
	libsDeadline := time.Now().Add(15 * time.Second)
	for {
		st, body, _ := send(t, root, "GET", "/manage/api/v1/servers/"+plextest.MinimalMachineID+"/libraries", nil)
		if st == http.StatusOK && strings.Contains(body, `"Movies"`) && strings.Contains(body, `"TV Shows"`) {
			break
		}
		if time.Now().After(libsDeadline) {
			t.Fatalf("libraries after setup: %d %.300s", st, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Accounts and keys for every role.
	for _, role := range []string{"moderator", "auditor"} {
		if st, body, _ := send(t, root, "POST", "/manage/admins", url.Values{"username": {role}, "role": {role}, "password": {authPassword}, "confirm": {authPassword}}); st != http.StatusSeeOther {
			t.Fatalf("creating %s: %d %.300s", role, st, body)
		}
	}
	keys := map[string]string{}
	for _, role := range []string{"admin", "moderator", "auditor"} {
		st, body, _ := send(t, root, "POST", "/manage/api/v1/api-keys", fmt.Sprintf(`{"name":"it %s","role":"%s"}`, role, role))
		var created struct{ Key string }
		if st != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || !strings.HasPrefix(created.Key, "pmk_") {
			t.Fatalf("API key for %s: %d %s", role, st, body)
		}
		keys[role] = created.Key
	}
	sessions := map[string]*http.Client{"admin": root}
	for _, role := range []string{"moderator", "auditor"} {
		c := authClient(t)
		if st, _, hdr := send(t, c, "POST", "/manage/login", url.Values{"username": {role}, "password": {authPassword}}); st != http.StatusSeeOther || hdr.Get("Location") != "/manage/" {
			t.Fatalf("signing in %s: %d %q", role, st, hdr.Get("Location"))
		}
		sessions[role] = c
	}
	if st, _, _ := send(t, authClient(t), "POST", "/manage/login", url.Values{"username": {"auditor"}, "password": {"wrong-password-1"}}); st != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", st)
	}

	// Roles on each kind of route, UI and API.
	routes := []struct {
		kind, path, min string
	}{
		{"page", "/manage/", "auditor"},
		{"page", "/manage/account", "auditor"},
		{"page", "/manage/admins", "admin"},
		{"page", "/manage/settings", "admin"},
		{"api", "/manage/api/v1/status", "auditor"},
		{"api", "/manage/api/v1/me", "auditor"},
		{"api", "/manage/api/v1/admins", "admin"},
		{"api", "/manage/api/v1/settings", "admin"},
	}
	rank := map[string]int{"auditor": 1, "moderator": 2, "admin": 3}
	for _, rt := range routes {
		st, _, hdr := send(t, authClient(t), "GET", rt.path, nil)
		if rt.kind == "page" && (st != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/manage/login")) {
			t.Errorf("anonymous GET %s: %d %q", rt.path, st, hdr.Get("Location"))
		}
		if rt.kind == "api" && st != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d", rt.path, st)
		}
		for role, c := range sessions {
			want := http.StatusOK
			if rank[role] < rank[rt.min] {
				want = http.StatusForbidden
			}
			if st, _, _ := send(t, c, "GET", rt.path, nil); st != want {
				t.Errorf("GET %s as %s (session): %d, want %d", rt.path, role, st, want)
			}
			if rt.kind == "api" {
				if st, _, _ := send(t, http.DefaultClient, "GET", rt.path, nil, "Authorization", "Bearer "+keys[role]); st != want {
					t.Errorf("GET %s as %s (API key): %d, want %d", rt.path, role, st, want)
				}
			}
		}
	}

	// A cross-origin POST is refused, even with the admin's cookie.
	st, _, _ = send(t, root, "POST", "/manage/admins", url.Values{"username": {"intruder"}, "role": {"admin"}, "password": {authPassword}, "confirm": {authPassword}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if st != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", st)
	}
	_, body, _ := send(t, root, "GET", "/manage/api/v1/admins", nil)
	if strings.Contains(body, "intruder") {
		t.Error("the cross-origin POST created an admin")
	}

	// Sign out.
	if st, _, hdr := send(t, sessions["moderator"], "POST", "/manage/logout", url.Values{}); st != http.StatusSeeOther || hdr.Get("Location") != "/manage/login" {
		t.Errorf("sign out: %d %q", st, hdr.Get("Location"))
	}
	if st, _, _ := send(t, sessions["moderator"], "GET", "/manage/", nil); st != http.StatusSeeOther {
		t.Errorf("page after sign-out: %d", st)
	}
	// Nothing secret in what the UI shows.
	_, settings, _ := send(t, root, "GET", "/manage/settings", nil)
	if strings.Contains(settings, fake.OwnerToken()) {
		t.Error("the settings page shows the Plex token")
	}
}
