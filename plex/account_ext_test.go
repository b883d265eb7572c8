package plex_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  plex.Config
	}{
		{"no client id", plex.Config{}},
		{"blank client id", plex.Config{ClientID: "  "}},
		{"relative tv url", plex.Config{ClientID: "x", TVURL: "/plex"}},
		{"ftp tv url", plex.Config{ClientID: "x", TVURL: "ftp://plex.tv"}},
		{"tv url with query", plex.Config{ClientID: "x", TVURL: "https://plex.tv/?X-Plex-Token=a"}},
		{"auth url with credentials", plex.Config{ClientID: "x", AuthURL: "https://u:p@app.plex.tv/auth"}},
		{"negative timeout", plex.Config{ClientID: "x", Timeout: -1}},
		{"control char in product", plex.Config{ClientID: "x", Product: "a\nb"}},
		{"max backoff below base", plex.Config{ClientID: "x", BaseBackoff: time.Second, MaxBackoff: time.Millisecond}},
		{"too many retries", plex.Config{ClientID: "x", Retries: 100}},
	}
	for _, tt := range tests {
		if _, err := plex.New(tt.cfg); err == nil {
			t.Errorf("%s: New accepted %+v", tt.name, tt.cfg)
		}
	}
	c, err := plex.New(plex.Config{ClientID: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID() != "abc" || c.Product() != plex.DefaultProduct {
		t.Errorf("defaults not applied: %q %q", c.ClientID(), c.Product())
	}
	if got := c.AuthURL(plex.PIN{Code: "k"}, ""); !strings.HasPrefix(got, plex.DefaultAuthURL+"#?") {
		t.Errorf("default auth URL: %s", got)
	}
}

func TestPINFlow(t *testing.T) {
	e := newEnv(t, plextest.Options{PINPollInterval: time.Millisecond})
	pin, err := e.client.CreatePIN(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	create := e.lastCall(t, "POST /api/v2/pins")
	if create.RawQuery != "strong=true" || create.Status != 201 || create.Header.Get("Accept") != "application/json" || create.Header.Get("X-Plex-Token") != "" {
		t.Errorf("create call: query %q status %d accept %q", create.RawQuery, create.Status, create.Header.Get("Accept"))
	}
	if pin.ID == 0 || len(pin.Code) != 25 || pin.ClientID != testClientID || pin.ExpiresAt.IsZero() || pin.Claimed() {
		t.Fatalf("pin = %+v", pin)
	}

	// Form A of the auth URL.
	fwd := "https://gate.example.com/plex/callback?state=s1"
	got := e.client.AuthURL(pin, fwd)
	want := e.fake.AuthURL() + "#?clientID=" + testClientID + "&code=" + pin.Code +
		"&forwardUrl=" + url.QueryEscape(fwd) + "&context%5Bdevice%5D%5Bproduct%5D=Plex%20Manager%20Test"
	if got != want {
		t.Errorf("AuthURL\n got %s\nwant %s", got, want)
	}

	p, err := e.client.CheckPIN(ctx(t), pin)
	if err != nil || p.Claimed() {
		t.Fatalf("unclaimed check = %+v, %v", p, err)
	}
	if err := e.fake.ClaimPIN(pin.Code, aliceID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	p, err = e.client.CheckPIN(ctx(t), pin)
	if err != nil || p.AuthToken != "alice-token" {
		t.Fatalf("claimed check = %+v, %v", p, err)
	}
	a, err := e.client.Account(ctx(t), p.AuthToken)
	if err != nil || a.ID != aliceID || a.Username != "alice" {
		t.Errorf("account = %+v, %v", a, err)
	}
}

func TestCheckPINErrors(t *testing.T) {
	e := newEnv(t, plextest.Options{PINPollInterval: time.Millisecond})
	_, err := e.client.CheckPIN(ctx(t), plex.PIN{ID: 12345, Code: "nope"})
	wantKind(t, err, plex.ErrPINExpired)

	// Checking with another client identifier is "not found" too.
	pin, err := e.client.CreatePIN(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	e.otherClient = "someone-else"
	other, err := plex.New(plex.Config{TVURL: e.fake.TVURL(), ClientID: "someone-else", Product: "Plex Manager Test",
		Version: "9.9", Platform: "Linux", DeviceName: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.CheckPIN(ctx(t), pin)
	wantKind(t, err, plex.ErrPINExpired)

	_, err = e.client.CheckPIN(ctx(t), plex.PIN{})
	wantKind(t, err, plex.ErrInvalidArgument)
}

func TestWaitPIN(t *testing.T) {
	e := newEnv(t, plextest.Options{PINPollInterval: 20 * time.Millisecond})
	pin, err := e.client.CreatePIN(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(150 * time.Millisecond)
		_ = e.fake.ClaimPIN(pin.Code, bobID)
	}()
	// Polling every 5ms is faster than the fake allows (20ms): the 429s
	// must slow WaitPIN down instead of failing it.
	p, err := e.client.WaitPIN(ctx(t), pin, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if p.AuthToken != "bob-token" {
		t.Errorf("token = %q", p.AuthToken)
	}
	polls := e.calls("GET /api/v2/pins/{id}")
	limited := 0
	for _, c := range polls {
		if c.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("expected some 429 answers, got statuses %v", routes(polls))
	}
	if len(polls) > 40 {
		t.Errorf("%d polls in ~150ms: WaitPIN did not slow down", len(polls))
	}
}

func TestWaitPINEnds(t *testing.T) {
	e := newEnv(t, plextest.Options{PINPollInterval: time.Millisecond})
	pin, err := e.client.CreatePIN(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	_, err = e.client.WaitPIN(c, pin, 10*time.Millisecond)
	wantKind(t, err, plex.ErrPINPending)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the context's error is not wrapped: %v", err)
	}

	// A PIN whose lifetime is over on the local clock ends the wait.
	short := pin
	short.CreatedAt = time.Now()
	short.ExpiresAt = short.CreatedAt.Add(40 * time.Millisecond)
	_, err = e.client.WaitPIN(ctx(t), short, 10*time.Millisecond)
	wantKind(t, err, plex.ErrPINExpired)

	// An unknown PIN ends it at once.
	_, err = e.client.WaitPIN(ctx(t), plex.PIN{ID: 1, Code: "x"}, 10*time.Millisecond)
	wantKind(t, err, plex.ErrPINExpired)
}

func TestAccountAndPing(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	a, err := e.client.Account(ctx(t), e.token)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != plextest.MinimalOwnerID || !a.HomeAdmin || !a.PlexPass || len(a.Features) == 0 {
		t.Errorf("owner = %+v", a)
	}
	call := e.lastCall(t, "GET /api/v2/user")
	if call.Header.Get("X-Plex-Token") != e.token || call.Header.Get("Accept") != "application/json" {
		t.Errorf("headers: %v", call.Header)
	}
	if err := e.client.Ping(ctx(t), e.token); err != nil {
		t.Errorf("ping: %v", err)
	}

	_, err = e.client.Account(ctx(t), "wrong-token")
	pe := wantKind(t, err, plex.ErrUnauthorized)
	if pe.Status != 401 || pe.Code != 1001 || pe.Endpoint != "GET /api/v2/user" {
		t.Errorf("error = %+v", pe)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("token in the error: %v", err)
	}
	wantKind(t, e.client.Ping(ctx(t), "wrong-token"), plex.ErrUnauthorized)
	_, err = e.client.Account(ctx(t), "")
	wantKind(t, err, plex.ErrInvalidArgument)

	e2 := newEnv(t, plextest.Options{NoPlexPass: true})
	a, err = e2.client.Account(ctx(t), e2.token)
	if err != nil || a.PlexPass {
		t.Errorf("NoPlexPass owner = %+v, %v", a, err)
	}
}

func TestResourcesAndSections(t *testing.T) {
	e := newEnv(t, plextest.Options{Seed: plextest.SeedDemo(plextest.DemoOptions{Servers: 2, Friends: 3, HistoryDays: 1, Seed: 7})})
	res, err := e.client.Resources(ctx(t), e.token)
	if err != nil {
		t.Fatal(err)
	}
	servers := e.fake.Servers()
	if len(res) != len(servers) {
		t.Fatalf("got %d resources for %d servers (the Plex Web client must be left out)", len(res), len(servers))
	}
	for i, r := range res {
		if r.MachineID != servers[i].MachineID || r.AccessToken != servers[i].Token || len(r.Connections) == 0 || r.Connections[0].URI != servers[i].URL {
			t.Errorf("resource %d = %+v, server %+v", i, r, servers[i])
		}
	}
	if q := e.lastCall(t, "GET /api/v2/resources").RawQuery; q != "includeHttps=1&includeRelay=1&includeIPv6=1" {
		t.Errorf("query = %q", q)
	}

	for _, s := range servers {
		l, err := e.client.Sections(ctx(t), e.token, s.MachineID)
		if err != nil {
			t.Fatal(err)
		}
		if len(l) != len(s.Libraries) {
			t.Fatalf("%s: %d sections, want %d", s.Name, len(l), len(s.Libraries))
		}
		for i, lib := range s.Libraries {
			if l[i].ID != lib.SectionID || l[i].Key != lib.Key || l[i].Title != lib.Title {
				t.Errorf("section %d = %+v, want %+v", i, l[i], lib)
			}
		}
	}
	if h := e.lastCall(t, "GET /api/servers/{machineId}").Header.Get("Accept"); h != "application/xml" {
		t.Errorf("v1 route asked for %q", h)
	}
	_, err = e.client.Sections(ctx(t), e.token, "0000")
	wantKind(t, err, plex.ErrNotFound)
	_, err = e.client.Sections(ctx(t), e.token, "")
	wantKind(t, err, plex.ErrInvalidArgument)
}
