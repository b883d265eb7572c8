package plex_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// testClientID is the client identifier every test client sends.
const testClientID = "test-client-4f0c2a9e"

// Seed identities of plextest.SeedMinimal.
const (
	machineID = plextest.MinimalMachineID
	aliceID   = plextest.MinimalAliceID
	bobID     = plextest.MinimalBobID
	carolID   = plextest.MinimalCarolID
	daveID    = plextest.MinimalDaveID
	erinID    = plextest.MinimalErinID
)

// observer records the Observe hook's calls.
type observer struct {
	mu    sync.Mutex
	calls []plex.CallInfo
}

func (o *observer) observe(c plex.CallInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, c)
}

func (o *observer) list() []plex.CallInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]plex.CallInfo(nil), o.calls...)
}

// env is a fake with a client pointed at it.
type env struct {
	fake   *plextest.Fake
	client *plex.Client
	obs    *observer
	token  string
	// otherClient is a second client identifier a test uses on purpose.
	otherClient string
}

// newEnv starts a fake and a client with short timeouts and backoffs. cfg,
// when given, adjusts the client's config.
func newEnv(t testing.TB, opts plextest.Options, cfg ...func(*plex.Config)) *env {
	t.Helper()
	f := plextest.NewServer(t, opts)
	obs := &observer{}
	c := plex.Config{
		TVURL:       f.TVURL(),
		AuthURL:     f.AuthURL(),
		ClientID:    testClientID,
		Product:     "Plex Manager Test",
		Version:     "9.9",
		Platform:    "Linux",
		DeviceName:  "ci",
		Timeout:     2 * time.Second,
		Retries:     2,
		BaseBackoff: time.Millisecond,
		MaxBackoff:  5 * time.Millisecond,
		Observe:     obs.observe,
	}
	for _, fn := range cfg {
		fn(&c)
	}
	client, err := plex.New(c)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{fake: f, client: client, obs: obs, token: f.OwnerToken()}
	t.Cleanup(func() { e.checkCalls(t) })
	return e
}

// checkCalls asserts the rules that hold for every request the client made:
// identification headers present, no token in a query string.
func (e *env) checkCalls(t testing.TB) {
	t.Helper()
	tokens := []string{e.token, "alice-token", "bob-token", "carol-token", "dave-token", "erin-token", plextest.MinimalServerToken}
	for _, c := range e.fake.Calls() {
		if c.Path == "/auth" || strings.HasPrefix(c.Path, "/auth/") {
			continue // the test itself acting as the browser
		}
		for h, want := range map[string]string{
			"X-Plex-Client-Identifier": testClientID, "X-Plex-Product": "Plex Manager Test", "X-Plex-Version": "9.9",
			"X-Plex-Platform": "Linux", "X-Plex-Device-Name": "ci",
		} {
			got := c.Header.Get(h)
			if h == "X-Plex-Client-Identifier" && got != "" && got == e.otherClient {
				continue
			}
			if got != want {
				t.Errorf("%s %s: %s = %q, want %q", c.Method, c.Path, h, got, want)
			}
		}
		if c.TokenInQuery {
			t.Errorf("%s %s: token in the query string", c.Method, c.Path)
		}
		for _, tok := range tokens {
			if tok != "" && (strings.Contains(c.RawQuery, tok) || strings.Contains(c.Path, tok)) {
				t.Errorf("%s %s?%s: a token appears in the URL", c.Method, c.Path, c.RawQuery)
			}
		}
	}
}

// calls returns the fake's calls for a route name.
func (e *env) calls(route string) []plextest.Call {
	var out []plextest.Call
	for _, c := range e.fake.Calls() {
		if c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

// lastCall returns the most recent call for a route, failing when none.
func (e *env) lastCall(t testing.TB, route string) plextest.Call {
	t.Helper()
	list := e.calls(route)
	if len(list) == 0 {
		t.Fatalf("no call to %s; calls: %v", route, routes(e.fake.Calls()))
	}
	return list[len(list)-1]
}

func routes(calls []plextest.Call) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.Method+" "+c.Path+" → "+strconv.Itoa(c.Status))
	}
	return out
}

// wantKind fails unless err matches kind.
func wantKind(t testing.TB, err error, kind plex.Kind) *plex.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %q", err, kind)
	}
	var pe *plex.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *plex.Error", err)
	}
	return pe
}

// ctx returns a context bounded by the test.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
