package plextest

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPINFlow(t *testing.T) {
	f := newFake(t, Options{})
	r := do(t, f, req{method: "POST", path: "/api/v2/pins?strong=true", json: true,
		header: map[string]string{"X-Plex-Product": "Gate"}})
	mustStatus(t, r, 201)
	var p struct {
		ID        int64   `json:"id"`
		Code      string  `json:"code"`
		AuthToken *string `json:"authToken"`
		Product   string  `json:"product"`
		ExpiresIn int     `json:"expiresIn"`
	}
	decodeJSON(t, r, &p)
	if len(p.Code) != 25 || p.AuthToken != nil || p.Product != "Gate" || p.ExpiresIn <= 900 {
		t.Fatalf("strong PIN = %+v", p)
	}
	if !strings.Contains(r.body, `"authToken":null`) {
		t.Fatalf("authToken must be null before the claim: %s", r.body)
	}
	short := do(t, f, req{method: "POST", path: "/api/v2/pins", json: true})
	var sp struct{ Code string }
	decodeJSON(t, short, &sp)
	if len(sp.Code) != 4 {
		t.Fatalf("short code %q", sp.Code)
	}

	path := "/api/v2/pins/" + itoa(p.ID)
	mustStatus(t, do(t, f, req{method: "GET", path: path, json: true}), 200)
	// Polled again at once: too fast.
	tooFast := do(t, f, req{method: "GET", path: path, json: true})
	mustStatus(t, tooFast, 429)
	if !strings.Contains(tooFast.body, `"code":1003`) {
		t.Fatalf("429 body %s", tooFast.body)
	}
	// Another client identifier does not see the PIN.
	other := do(t, f, req{method: "GET", path: path, json: true, clientID: "someone-else"})
	mustStatus(t, other, 404)
	if !strings.Contains(other.body, `"code":1020`) {
		t.Fatalf("404 body %s", other.body)
	}

	if err := f.ClaimPIN(p.Code, 22526914); err != nil {
		t.Fatalf("ClaimPIN: %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	r = do(t, f, req{method: "GET", path: path, json: true})
	mustStatus(t, r, 200)
	decodeJSON(t, r, &p)
	if p.AuthToken == nil || *p.AuthToken != "alice-token" {
		t.Fatalf("claimed authToken = %v", p.AuthToken)
	}

	if err := f.ClaimPIN("nope", 22526914); !errors.Is(err, ErrPINNotFound) {
		t.Fatalf("ClaimPIN(unknown) = %v", err)
	}
	if err := f.ClaimPIN(p.Code, 1); !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("ClaimPIN(unknown account) = %v", err)
	}
}

func TestPINExpires(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := &now
	f := newFake(t, Options{Now: func() time.Time { return *clock }})
	r := do(t, f, req{method: "POST", path: "/api/v2/pins", json: true})
	var p struct{ ID int64 }
	decodeJSON(t, r, &p)
	later := now.Add(16 * time.Minute)
	clock = &later
	mustStatus(t, do(t, f, req{method: "GET", path: "/api/v2/pins/" + itoa(p.ID), json: true}), 404)
}

func TestAuthApp(t *testing.T) {
	f := newFake(t, Options{})
	r := do(t, f, req{method: "POST", path: "/api/v2/pins?strong=true", json: true})
	var p struct {
		ID   int64
		Code string
	}
	decodeJSON(t, r, &p)

	page := do(t, f, req{method: "GET", path: "/auth?clientID=" + testClientID + "&code=" + p.Code})
	mustStatus(t, page, 200)
	for _, want := range []string{`name="code" value="` + p.Code + `"`, `<select id="account" name="account"`,
		`<label for="account">`, "location.hash", `value="22526914"`} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("auth page lacks %q:\n%s", want, page.body)
		}
	}

	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"bad forward scheme", url.Values{"code": {p.Code}, "clientID": {testClientID}, "account": {"22526914"}, "forwardUrl": {"javascript:alert(1)"}}, 400},
		{"wrong client", url.Values{"code": {p.Code}, "clientID": {"other"}, "account": {"22526914"}}, 404},
		{"unknown code", url.Values{"code": {"zzz"}, "clientID": {testClientID}, "account": {"22526914"}}, 404},
		{"unknown account", url.Values{"code": {p.Code}, "clientID": {testClientID}, "account": {"5"}}, 400},
		{"no account", url.Values{"code": {p.Code}, "clientID": {testClientID}}, 400},
		{"forwarded", url.Values{"code": {p.Code}, "clientID": {testClientID}, "account": {"22522496"}, "forwardUrl": {"https://gate.example.com/cb?x=1"}}, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, f, req{method: "POST", path: "/auth/claim", body: tt.form.Encode(),
				header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
			mustStatus(t, r, tt.status)
			if tt.status == 303 && r.header.Get("Location") != "https://gate.example.com/cb?x=1" {
				t.Fatalf("Location = %q", r.header.Get("Location"))
			}
		})
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/pins/" + itoa(p.ID), json: true})
	if !strings.Contains(r.body, `"authToken":"bob-token"`) {
		t.Fatalf("PIN after the claim: %s", r.body)
	}
	// Without forwardUrl: a close-this-window page.
	r = do(t, f, req{method: "POST", path: "/api/v2/pins", json: true})
	decodeJSON(t, r, &p)
	done := do(t, f, req{method: "POST", path: "/auth/claim",
		body:   url.Values{"code": {p.Code}, "clientID": {testClientID}, "account": {"22526914"}}.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	mustStatus(t, done, 200)
	if !strings.Contains(done.body, "You can close this window") {
		t.Fatalf("done page: %s", done.body)
	}
}

func TestUserAndPing(t *testing.T) {
	f := newFake(t, Options{})
	r := do(t, f, req{method: "GET", path: "/api/v2/user", token: "owner-token", json: true})
	mustStatus(t, r, 200)
	var u struct {
		ID           int64
		HomeAdmin    bool
		Subscription struct{ Active bool }
	}
	decodeJSON(t, r, &u)
	if u.ID != MinimalOwnerID || !u.HomeAdmin || !u.Subscription.Active {
		t.Fatalf("user = %+v", u)
	}
	x := decodeXML(t, do(t, f, req{method: "GET", path: "/api/v2/user", token: "alice-token"}))
	if x.XMLName.Local != "user" || x.attr("username") != "alice" || x.all("subscription")[0].attr("active") != "0" {
		t.Fatalf("XML user = %+v", x)
	}
	mustStatus(t, do(t, f, req{method: "GET", path: "/api/v2/user", token: "bad", json: true}), 401)
	r = do(t, f, req{method: "GET", path: "/users/account", token: "bad"})
	mustStatus(t, r, 422)
	if !strings.Contains(r.body, "Invalid token") {
		t.Fatalf("422 body %s", r.body)
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/ping", token: "owner-token", json: true})
	mustStatus(t, r, 200)
	if strings.TrimSpace(r.body) != `{"pong":true}` {
		t.Fatalf("ping = %s", r.body)
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/ping", token: "owner-token"})
	if !strings.Contains(r.body, "<pong>true</pong>") {
		t.Fatalf("ping XML = %s", r.body)
	}
	mustStatus(t, do(t, f, req{method: "GET", path: "/api/v2/ping", token: "nope"}), 401)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
