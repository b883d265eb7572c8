package plex_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/markbates/goth"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// The provider must satisfy goth's interfaces.
var (
	_ goth.Provider = (*plex.Provider)(nil)
	_ goth.Session  = (*plex.AuthSession)(nil)
)

// fragmentParams parses the query inside the auth URL's "#?" fragment.
func fragmentParams(t *testing.T, authURL string) url.Values {
	t.Helper()
	_, frag, ok := strings.Cut(authURL, "#?")
	if !ok {
		t.Fatalf("no #? in %s", authURL)
	}
	v, err := url.ParseQuery(frag)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGothProvider(t *testing.T) {
	e := newEnv(t, plextest.Options{PINPollInterval: time.Millisecond})
	p := plex.NewProvider(e.client, "https://gate.example.com/plex/callback?next=%2Fadmin")
	if p.Name() != "plex" {
		t.Errorf("name = %q", p.Name())
	}
	p.SetName("plex-owner")
	if p.Name() != "plex-owner" || p.RefreshTokenAvailable() {
		t.Error("name or refresh flag wrong")
	}
	if _, err := p.RefreshToken("x"); err == nil {
		t.Error("RefreshToken did not fail")
	}

	sess, err := p.BeginAuth("state-123")
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := sess.GetAuthURL()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(authURL, e.fake.AuthURL()+"#?") {
		t.Errorf("auth URL = %s", authURL)
	}
	params := fragmentParams(t, authURL)
	fwd, err := url.Parse(params.Get("forwardUrl"))
	if err != nil {
		t.Fatal(err)
	}
	if fwd.Host != "gate.example.com" || fwd.Query().Get("state") != "state-123" || fwd.Query().Get("next") != "/admin" {
		t.Errorf("forwardUrl = %s", fwd)
	}
	if params.Get("clientID") != testClientID || params.Get("context[device][product]") != "Plex Manager Test" || len(params.Get("code")) != 25 {
		t.Errorf("params = %v", params)
	}
	if q := e.lastCall(t, "POST /api/v2/pins").RawQuery; q != "strong=true" {
		t.Errorf("PIN not strong: %q", q)
	}

	// Stored server side and restored, as the caller does.
	stored := sess.Marshal()
	if strings.Contains(stored, "token\"") {
		t.Errorf("unauthorised session holds a token field: %s", stored)
	}
	restored, err := p.UnmarshalSession(stored)
	if err != nil {
		t.Fatal(err)
	}

	_, err = restored.Authorize(p, url.Values{"state": {"state-123"}})
	wantKind(t, err, plex.ErrPINPending)
	_, err = p.FetchUser(restored)
	wantKind(t, err, plex.ErrPINPending)

	if err := e.fake.ClaimPIN(params.Get("code"), carolID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	_, err = restored.Authorize(p, url.Values{"state": {"other-state"}})
	wantKind(t, err, plex.ErrInvalidArgument)
	token, err := restored.Authorize(p, url.Values{"state": {"state-123"}})
	if err != nil || token != "carol-token" {
		t.Fatalf("token = %q, %v", token, err)
	}
	calls := e.fake.CallCount("GET /api/v2/pins/{id}")
	if again, err := restored.Authorize(p, nil); err != nil || again != token || e.fake.CallCount("GET /api/v2/pins/{id}") != calls {
		t.Errorf("a second Authorize = %q, %v (and must not call plex.tv)", again, err)
	}

	// The token survives the round trip.
	round, err := p.UnmarshalSession(restored.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	user, err := p.FetchUser(round)
	if err != nil {
		t.Fatal(err)
	}
	if user.UserID != "31415926" || user.NickName != "carol" || user.Email != "carol@example.com" || user.AccessToken != "carol-token" || user.Provider != "plex-owner" {
		t.Errorf("user = %+v", user)
	}
	if user.RawData["uuid"] != "5a6b7c8d9e0f1a2b" {
		t.Errorf("raw data = %v", user.RawData)
	}
	if s, ok := round.(*plex.AuthSession); !ok || strings.Contains(s.String(), "carol-token") || strings.Contains(s.String(), s.Code) {
		t.Errorf("String() leaks: %v", round)
	}
}

func TestGothProviderErrors(t *testing.T) {
	e := newEnv(t, plextest.Options{PINPollInterval: time.Millisecond})
	p := plex.NewProvider(e.client, "https://gate.example.com/cb")
	if _, err := p.BeginAuth(""); err == nil {
		t.Error("an empty state was accepted")
	}
	if _, err := plex.NewProvider(e.client, "/relative").BeginAuth("s"); err == nil {
		t.Error("a relative forward URL was accepted")
	}
	if n := e.fake.CallCount("POST /api/v2/pins"); n != 0 {
		t.Errorf("refused BeginAuth created %d PINs", n)
	}
	for _, bad := range []string{"", "{", `{"pin_id":0}`, `{"pin_id":5}`} {
		if _, err := p.UnmarshalSession(bad); err == nil {
			t.Errorf("UnmarshalSession(%q) succeeded", bad)
		}
	}
	// An expired PIN.
	s, err := p.UnmarshalSession(`{"pin_id":99,"code":"gone","state":"s"}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Authorize(p, nil)
	wantKind(t, err, plex.ErrPINExpired)
	// Authorize needs the Plex provider.
	if _, err := s.Authorize(nil, nil); err == nil {
		t.Error("Authorize without a provider succeeded")
	}
	// plex.tv down while starting.
	e.fake.Inject(plextest.Fault{Route: "POST /api/v2/pins", Status: 503})
	_, err = p.BeginAuth("s")
	wantKind(t, err, plex.ErrOffline)
	if n := e.fake.CallCount("POST /api/v2/pins"); n != 1 {
		t.Errorf("PIN creation tried %d times", n)
	}
}
