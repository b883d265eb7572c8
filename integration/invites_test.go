package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// invitesAPIKey is the bootstrap admin key of the invite tests.
const invitesAPIKey = "invites-it-key-0123456789abcdef"

// invitesConfig runs the app against a plextest fake: admin UI under /manage, invite pages at the
// root of the same site.
func invitesConfig(t *testing.T, fake *plextest.Fake) string {
	return fakeAppConfig(t, fake, invitesAPIKey, "")
}

// inviteAPI calls the REST API with the invite tests' key.
func inviteAPI(t *testing.T, c *http.Client, method, path, body string) (int, string) {
	t.Helper()
	return callAPI(t, c, invitesAPIKey, method, path, body)
}

// browserDo sends a request as a browser on the invite site would (same-origin fetch metadata on
// form posts) with the jar's cookies, without following redirects.
func browserDo(t *testing.T, c *http.Client, method, target string, form url.Values) *http.Response {
	t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", baseURL)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp
}

// readBody reads and closes a response body.
func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInvitesThroughCaddy creates an invite with the REST API and redeems it as a browser would:
// the invite page, the join form (303 to the Plex auth app), the sign-in at the fake's auth page
// (POST /auth/claim, 303 back to the forward URL), the onboarding page; then checks the share in
// the fake, the usage history and that an unusable code looks like an unknown one.
func TestInvitesThroughCaddy(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{PINPollInterval: 10 * time.Millisecond})
	tc := newTester(t)
	load(t, tc, invitesConfig(t, fake))
	api := tc.Client

	// The servers reach the store when the app starts: retry until the invite's library is known.
	var code int
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		code, body = inviteAPI(t, api, "POST", "/invites", `{"label":"IT","max_uses":1,"allow_downloads":true,
			"libraries":{"`+plextest.MinimalMachineID+`":["4"]},"onboarding":"## Getting started\n\nOpen **Plex**."}`)
		if code != http.StatusBadRequest {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code != http.StatusCreated {
		t.Fatalf("POST /invites = %d %s (needs the root to wire the invites feature)", code, body)
	}
	var inv struct {
		ID, Code, URL string
	}
	if err := json.Unmarshal([]byte(body), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.URL != baseURL+"/"+inv.Code {
		t.Fatalf("invite url %q, want %s/%s", inv.URL, baseURL, inv.Code)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// The invite page.
	resp := browserDo(t, browser, "GET", inv.URL, nil)
	if page := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Movies") || !strings.Contains(page, "Join with Plex") {
		t.Fatalf("invite page = %d %.500s", resp.StatusCode, page)
	}
	// Join: 303 to the auth app with the PIN and the forward URL.
	resp = browserDo(t, browser, "POST", inv.URL+"/join", url.Values{})
	readBody(t, resp)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, fake.AuthURL()+"#?") {
		t.Fatalf("join = %d, Location %q", resp.StatusCode, loc)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+strings.TrimSuffix(fake.URL(), "/")) {
		t.Errorf("the join response's CSP does not allow the auth app as a form target: %q", csp)
	}
	_, frag, _ := strings.Cut(loc, "#?")
	params, err := url.ParseQuery(frag)
	if err != nil {
		t.Fatal(err)
	}
	// The person signs in on the fake's auth page, which sends the browser back.
	claim := url.Values{"code": {params.Get("code")}, "clientID": {params.Get("clientID")},
		"forwardUrl": {params.Get("forwardUrl")}, "account": {"41234567"}}
	resp, err = browser.PostForm(fake.URL()+"/auth/claim", claim)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, baseURL+"/"+inv.Code+"/callback?state=") {
		t.Fatalf("claim = %d, Location %q", resp.StatusCode, back)
	}
	// Back on the invite site: the onboarding page (or the waiting page for a moment).
	var page string
	for i := 0; i < 20; i++ {
		resp = browserDo(t, browser, "GET", back, nil)
		page = readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Finishing your sign-in") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Welcome") || !strings.Contains(page, "<h2>Getting started</h2>") {
		t.Fatalf("callback = %d %.800s", resp.StatusCode, page)
	}
	var shared *plextest.Share
	for _, sh := range fake.SharesFor(plextest.MinimalMachineID) {
		if sh.UserID == 41234567 {
			shared = &sh
		}
	}
	if shared == nil || len(shared.SectionIDs) != 1 || shared.SectionIDs[0] != plextest.SectionMovies || !shared.AllowSync || shared.Pending {
		t.Fatalf("share in the fake = %+v", shared)
	}

	// Usage history and the used-up invite.
	code, body = inviteAPI(t, api, "GET", "/invites/"+inv.ID+"/redemptions", "")
	if code != http.StatusOK || !strings.Contains(body, `"outcome":"joined"`) || !strings.Contains(body, `"user_id":41234567`) {
		t.Fatalf("redemptions = %d %s", code, body)
	}
	used := browserDo(t, browser, "GET", inv.URL, nil)
	usedPage := readBody(t, used)
	unknown := browserDo(t, browser, "GET", baseURL+"/no-such-invite", nil)
	unknownPage := readBody(t, unknown)
	if used.StatusCode != http.StatusNotFound || unknown.StatusCode != http.StatusNotFound || usedPage != unknownPage {
		t.Fatalf("used-up (%d) and unknown (%d) codes answer differently", used.StatusCode, unknown.StatusCode)
	}

	// QR codes through the API.
	for path, ctype := range map[string]string{"/qr.png": "image/png", "/qr.svg": "image/svg+xml"} {
		req, _ := http.NewRequest("GET", baseURL+"/manage/api/v1/invites/"+inv.ID+path, nil)
		req.Header.Set("Authorization", "Bearer "+invitesAPIKey)
		resp, err := api.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype {
			t.Errorf("GET %s = %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// Never a token in what the browser or a script sees.
	for _, p := range []string{"/invites", "/invites/" + inv.ID + "/redemptions", "/events?limit=1000"} {
		_, b := inviteAPI(t, api, "GET", p, "")
		if strings.Contains(b, fake.OwnerToken()) || strings.Contains(b, "dave-token") {
			t.Errorf("GET %s shows a Plex token", p)
		}
	}
}
