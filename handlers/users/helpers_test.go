package users

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Seed users of plextest.SeedMinimal and its server.
const (
	aliceID int64 = plextest.MinimalAliceID
	bobID   int64 = plextest.MinimalBobID
	carolID int64 = plextest.MinimalCarolID
	daveID  int64 = plextest.MinimalDaveID
	srvID         = plextest.MinimalMachineID
)

// t0 is the tests' reference time.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// env is the feature in the real handler over the real access.Service, which talks to plextest
// through the real plex client; the store is in memory.
type env struct {
	t       testing.TB
	fake    *plextest.Fake
	store   *storage.Store
	svc     *access.Service
	gw      access.Gateway
	feature *Feature
	srv     *webtest.Server
	clock   *testclock.Clock
	streams map[string]int
}

// envOptions adjust newEnv.
type envOptions struct {
	seed plextest.Seed
	// noSync skips the first sync (the store then has servers but no users).
	noSync bool
}

// newEnv starts a fake (SeedMinimal unless given), stores its servers, syncs the users and mounts
// the feature under /m.
func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: testclock.New(t0), streams: map[string]int{srvID: 2}}
	e.fake = plextest.NewServer(t, plextest.Options{Seed: o.seed, Now: e.clock.Now})
	st := storetest.Memory(t)
	e.store = st
	c, err := plex.New(plex.Config{TVURL: e.fake.URL(), ClientID: "users-test", Retries: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("plex client: %v", err)
	}
	token := e.fake.OwnerToken()
	for _, fs := range e.fake.Servers() {
		srv := storage.Server{ID: fs.MachineID, Name: fs.Name, URL: fs.URL, Version: fs.Version, Online: true, LatencyMS: 3, CheckedAt: t0}
		for _, l := range fs.Libraries {
			srv.Libraries = append(srv.Libraries, storage.Library{Key: l.Key, SectionID: l.SectionID, Title: l.Title, Type: l.Type})
		}
		if err := st.PutServer(srv); err != nil {
			t.Fatalf("storing server: %v", err)
		}
	}
	e.gw = access.NewPlexGateway(c, func() string { return token })
	e.svc, err = access.New(access.Options{Store: st, Plex: e.gw, Now: e.clock.Now})
	if err != nil {
		t.Fatalf("access.New: %v", err)
	}
	e.feature, err = New(Options{Engine: e.svc, Store: st, Now: e.clock.Now,
		StreamCounts: func() map[string]int { return e.streams }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv = webtest.New(t, webtest.Options{BasePath: "/m", Features: []web.Feature{e.feature}})
	if !o.noSync {
		if _, err := e.svc.Sync(context.Background(), "system"); err != nil {
			t.Fatalf("first sync: %v", err)
		}
	}
	return e
}

// user reads a stored user.
func (e *env) user(id int64) storage.User {
	e.t.Helper()
	u, err := e.store.GetUser(id)
	if err != nil {
		e.t.Fatalf("reading user %d: %v", id, err)
	}
	return u
}

// shareOf returns the fake's share of a user on the first server.
func (e *env) shareOf(userID int64) (plextest.Share, bool) {
	return e.fake.ShareOf(srvID, userID)
}

// snapshot captures what must not change after refused input: the stored users and the fake's
// shares.
type snapshot struct {
	users  string
	shares string
}

// snap takes a snapshot.
func (e *env) snap() snapshot {
	e.t.Helper()
	page, err := e.store.ListUsers(storage.UserQuery{PerPage: storage.MaxPerPage})
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := json.Marshal(page.Users)
	s, _ := json.Marshal(e.fake.Shares())
	return snapshot{users: string(u), shares: string(s)}
}

// unchanged fails when the store or the fake changed since s.
func (e *env) unchanged(s snapshot, what string) {
	e.t.Helper()
	now := e.snap()
	if now.users != s.users {
		e.t.Errorf("%s: the stored users changed", what)
	}
	if now.shares != s.shares {
		e.t.Errorf("%s: the fake's shares changed", what)
	}
}

// form encodes pairs as a form body.
func form(pairs ...string) *strings.Reader {
	return strings.NewReader(formBody(pairs...))
}

// formBody encodes pairs as a form body.
func formBody(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

// sections maps library keys of the first server to plex.tv ids, sorted.
func sections(keys ...string) []int64 { return plextest.MinimalSectionIDs(keys...) }

// sortedIDs returns a sorted copy.
func sortedIDs(ids []int64) []int64 {
	c := slices.Clone(ids)
	slices.Sort(c)
	return c
}

// wantStatus fails unless rec has status.
func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, status int, what string) {
	t.Helper()
	if rec.Code != status {
		body := rec.Body.String()
		if len(body) > 600 {
			body = body[:600] + "…"
		}
		t.Fatalf("%s: status %d, want %d; body: %s", what, rec.Code, status, body)
	}
}

// location is a redirect's target.
func location(rec *httptest.ResponseRecorder) string { return rec.Header().Get("Location") }

// statusOK is 200.
const statusOK = http.StatusOK

// plextestFault is a fault of the fake on route ("" for every route).
func plextestFault(route string, status int) plextest.Fault {
	return plextest.Fault{Route: route, Status: status}
}

// changeFakeShare changes a share on the fake behind the store's back (as an admin using Plex
// itself would): its libraries become keys of the first server.
func changeFakeShare(t testing.TB, e *env, shareID int64, keys []string) {
	t.Helper()
	if err := e.gw.UpdateShare(context.Background(), srvID, shareID, sections(keys...), plex.ShareSettings{}); err != nil {
		t.Fatalf("changing the fake's share: %v", err)
	}
}
