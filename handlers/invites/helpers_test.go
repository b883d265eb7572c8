package invites

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

const (
	testServerID = "93c418a691854d3be47ead674134d86a3f5e00f4"
	linkBase     = "https://join.example.com/j"
)

// newStore opens an in-memory store with one server "Basement" (Music 1, Movies 4, TV 8).
func newStore(t testing.TB) *storage.Store {
	t.Helper()
	st := storetest.Memory(t)
	err := st.PutServer(storage.Server{ID: testServerID, Name: "Basement", Online: true, Libraries: []storage.Library{
		{Key: "1", SectionID: 132920520, Title: "Music", Type: "artist"},
		{Key: "4", SectionID: 132920523, Title: "Movies", Type: "movie"},
		{Key: "8", SectionID: 132920531, Title: "TV Shows", Type: "show"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fakeAccess records grants (redemption tests of the handlers; the domain has its own against
// the real access service).
type fakeAccess struct {
	mu     sync.Mutex
	grants []access.GrantRequest
	fail   error
}

func (a *fakeAccess) Grant(_ context.Context, _ string, req access.GrantRequest) (access.GrantResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return access.GrantResult{}, a.fail
	}
	a.grants = append(a.grants, req)
	return access.GrantResult{User: storage.User{ID: req.UserID, Status: storage.StatusActive, ExpiresAt: req.ExpiresAt}}, nil
}

func (a *fakeAccess) ApplyShare(context.Context, string, int64, string, storage.Share, string) (storage.Share, error) {
	return storage.Share{}, nil
}

func (a *fakeAccess) RevokeShare(context.Context, string, int64, string, string) error { return nil }

// env is a feature on a store with a fixed clock.
type env struct {
	store  *storage.Store
	svc    *invite.Service
	clock  *testclock.Clock
	feat   *Feature
	access *fakeAccess
	slept  []time.Duration
}

// newEnv builds the service and feature; opts may adjust the feature options.
func newEnv(t testing.TB, adjust func(*Options)) *env {
	t.Helper()
	e := &env{store: newStore(t), clock: testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), access: &fakeAccess{}}
	svc, err := invite.New(invite.Options{Store: e.store, Access: e.access, Now: e.clock.Now,
		LinkBase: func() string { return linkBase }})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	opts := Options{Service: svc, Now: e.clock.Now, RateBurst: -1, Sleep: func(d time.Duration) { e.slept = append(e.slept, d) }}
	if adjust != nil {
		adjust(&opts)
	}
	if e.feat, err = New(opts); err != nil {
		t.Fatal(err)
	}
	return e
}

// admin returns the admin handler with the feature.
func (e *env) admin(t testing.TB) *webtest.Server {
	return webtest.New(t, webtest.Options{Mode: web.ModeAdmin, BasePath: "/m", Features: []web.Feature{e.feat}})
}

// public returns the invite handler with the feature.
func (e *env) public(t testing.TB) *webtest.Server {
	return webtest.New(t, webtest.Options{Mode: web.ModeInvite, BasePath: "/j", PublicURL: "https://join.example.com",
		Features: []web.Feature{e.feat}})
}

// create stores an invite through the service.
func (e *env) create(t testing.TB, spec invite.Spec) storage.Invite {
	t.Helper()
	if spec.Libraries == nil {
		spec.Libraries = map[string][]string{testServerID: {"4"}}
	}
	inv, err := e.svc.Create(context.Background(), "admin:test", spec)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}
