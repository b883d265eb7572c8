package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// testPassword passes the strength rules.
const testPassword = "Tr0ubadour-horse-staple"

// cheapParams keep password hashing fast in tests.
var cheapParams = auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// harness is an admin handler over an in-memory store, a sealer and (optionally) the Plex fake.
type harness struct {
	t      *testing.T
	h      *server
	store  *storage.Store
	sealer *storage.Sealer
	fake   *plextest.Fake
	clock  *testclock.Clock
	logs   *observer.ObservedLogs
	base   string
	deps   Deps
}

// harnessOptions adjust newHarness.
type harnessOptions struct {
	base      string
	plex      bool
	fixed     FixedSettings
	bootstrap string
	publicURL string
	// store, when set, replaces the in-memory store.
	store *storage.Store
}

// newHarness builds the admin handler.
func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	st := o.store
	if st == nil {
		st = storetest.Memory(t)
	}
	sealer, err := storage.NewSealer(make([]byte, storage.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	hs := &harness{t: t, store: st, sealer: sealer, clock: testclock.New(time.Now()), logs: logs, base: o.base}
	deps := Deps{Logger: zap.New(core), Store: st, Sealer: sealer, PasswordParams: &cheapParams, Now: hs.clock.Now,
		Fixed: o.fixed, BootstrapAPIKey: o.bootstrap, Version: "v-test",
		Throttle: auth.NewThrottle(auth.ThrottleOptions{Now: hs.clock.Now})}
	if o.plex {
		hs.fake = plextest.NewServer(t, plextest.Options{PINPollInterval: time.Second, Now: hs.clock.Now})
		client, err := plex.New(plex.Config{TVURL: hs.fake.TVURL(), AuthURL: hs.fake.AuthURL(), ClientID: "handlers-test", Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		deps.Plex = client
	}
	hs.deps = deps
	hs.h, err = newServer(Config{Mode: ModeAdmin, BasePath: o.base, PublicURL: o.publicURL, AuthOrigins: []string{"https://app.plex.tv"}}, deps, templates.Files())
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// browser keeps cookies between requests like a browser (one site).
type browser struct {
	hs      *harness
	cookies map[string]string
}

func (hs *harness) browser() *browser { return &browser{hs: hs, cookies: map[string]string{}} }

// do sends a request; form (if non-nil) is sent urlencoded. headers are name, value pairs.
func (b *browser) do(method, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, b.hs.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.hs.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return rec
}

// get and post are shorthands.
func (b *browser) get(path string) *httptest.ResponseRecorder { return b.do("GET", path, nil) }
func (b *browser) post(path string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", path, form)
}

// api sends a JSON request with a bearer key.
func (hs *harness) api(method, path, key, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, hs.base+"/api/v1"+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	return rec
}

// setupCode issues a setup code and returns it as logged.
func (hs *harness) setupCode() string {
	hs.t.Helper()
	if _, err := IssueSetupCode(hs.store, hs.h.logger, hs.clock.Now); err != nil {
		hs.t.Fatal(err)
	}
	entries := hs.logs.FilterMessage(SetupCodeLogMessage).All()
	if len(entries) == 0 {
		hs.t.Fatal("no setup code logged")
	}
	code, _ := entries[len(entries)-1].ContextMap()["setup_code"].(string)
	if code == "" {
		hs.t.Fatal("the setup code log entry has no setup_code")
	}
	return code
}

// addAdmin stores an admin with testPassword (or none) and returns it.
func (hs *harness) addAdmin(username, role string, withPassword bool) storage.Admin {
	hs.t.Helper()
	a := storage.Admin{ID: storage.NewID(), Username: username, Role: role, CreatedAt: hs.clock.Now()}
	if withPassword {
		hasher, _ := auth.NewHasher(cheapParams, 1)
		h, err := hasher.Hash(hs.t.Context(), testPassword)
		if err != nil {
			hs.t.Fatal(err)
		}
		a.PasswordHash = h
	}
	if err := hs.store.PutAdmin(a); err != nil {
		hs.t.Fatal(err)
	}
	return a
}

// signedIn returns a browser signed in as a new admin with role.
func (hs *harness) signedIn(username, role string) *browser {
	hs.t.Helper()
	hs.addAdmin(username, role, true)
	b := hs.browser()
	rec := b.post("/login", url.Values{"username": {username}, "password": {testPassword}})
	if rec.Code != http.StatusSeeOther || b.cookies[sessionCookie(hs)] == "" {
		hs.t.Fatalf("signing in %s: %d %s", username, rec.Code, rec.Body.String())
	}
	return b
}

// sessionCookie is the session cookie's name in the harness (no https: no prefix).
func sessionCookie(*harness) string { return "pm_session" }

// apiKey creates an API key with role and returns it.
func (hs *harness) apiKey(role string) string {
	hs.t.Helper()
	key, _, err := hs.h.core.keys.Create("test "+role, role, "test")
	if err != nil {
		hs.t.Fatal(err)
	}
	return key
}

// countAdmins returns the number of admins.
func (hs *harness) countAdmins() int {
	n, err := hs.store.CountAdmins()
	if err != nil {
		hs.t.Fatal(err)
	}
	return n
}

// fieldError extracts the text of the field-error paragraph for id.
func fieldError(body, id string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}
