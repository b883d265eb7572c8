package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The engine tests run the access engine's loops at second scale through a real Caddy, against a
// plextest fake served by the test process on loopback, and drive it through the REST API.

// engineAPIKey is the bootstrap admin key of the engine and crash tests.
const engineAPIKey = "engine-it-key-0123456789abcdef"

// Loop intervals of the engine tests (the Caddyfile's enforce_every and sync_every).
const (
	engineEnforceEvery = time.Second
	engineSyncEvery    = 2 * time.Second
	// engineSlack is what a pass may take beyond its interval on a loaded 2-core machine (the sync
	// pass and the enforcement pass share one lock).
	engineSlack = 1500 * time.Millisecond
)

// Accounts of SeedMinimal.
const (
	aliceID = int64(22526914)
	bobID   = int64(22522496)
	carolID = int64(31415926)
	daveID  = int64(41234567)
)

// Accounts the engine tests add to SeedMinimal.
var (
	frank = plextest.Account{ID: 51000001, UUID: "e1f2a3b4c5d6e7f8", Username: "frank", Email: "frank@example.com", Token: "frank-token"}
	grace = plextest.Account{ID: 51000002, UUID: "f1a2b3c4d5e6f7a8", Username: "grace", Email: "grace@example.com", Token: "grace-token"}
	heidi = plextest.Account{ID: 51000003, UUID: "a1b2c3d4e5f6a7b8", Username: "heidi", Email: "heidi@example.com", Token: "heidi-token"}
	ivan  = plextest.Account{ID: 51000004, UUID: "b1c2d3e4f5a6b7c8", Username: "ivan", Email: "ivan@example.com", Token: "ivan-token"}
	judy  = plextest.Account{ID: 51000005, UUID: "c1d2e3f4a5b6c7d8", Username: "judy", Email: "judy@example.com", Token: "judy-token"}
)

// engineSeed is SeedMinimal plus frank, grace, heidi and ivan as friends with accepted shares of the
// Movies library, and judy as an account with no relation to the owner (like dave).
func engineSeed() plextest.Seed {
	seed := plextest.SeedMinimal()
	for i, acc := range []plextest.Account{frank, grace, heidi, ivan} {
		seed.Accounts = append(seed.Accounts, acc)
		seed.Shares = append(seed.Shares, plextest.Share{ID: 907759190 + int64(i), MachineID: plextest.MinimalMachineID,
			UserID: acc.ID, SectionIDs: []int64{plextest.SectionMovies}})
	}
	seed.Accounts = append(seed.Accounts, judy)
	return seed
}

// engineConfig runs the app against fake with second-scale loops and the engine API key. baseURL
// is where the fake is served (fake.URL() for plextest.NewServer).
func engineConfig(t *testing.T, fakeURL, ownerToken, dataDir string) string {
	t.Helper()
	return globalOptions(t, enginePluginBlock(fakeURL, ownerToken, dataDir)) + `
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

// enginePluginBlock is the plex_manager global option of the engine and crash tests.
func enginePluginBlock(fakeURL, ownerToken, dataDir string) string {
	return pluginBlock(dataDir, ownerToken, fakeURL, fakeURL, fakeURL+"/auth", engineAPIKey,
		fmt.Sprintf("enforce_every %s\nsync_every %s\nsession_poll 1s", engineEnforceEvery, engineSyncEvery))
}

// restAPI calls the REST API of one Caddy with the engine key.
type restAPI struct {
	// base is the API root, e.g. http://localhost:9080/manage/api/v1.
	base string
	c    *http.Client
}

func newRESTAPI(base string, timeout time.Duration) restAPI {
	return restAPI{base: base, c: &http.Client{Timeout: timeout}}
}

// try performs one call; a transport error is returned (the crash test kills Caddy under calls).
func (a restAPI) try(method, path, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, a.base+path, rd)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+engineAPIKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// do performs one call and fails the test on a transport error.
func (a restAPI) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	code, b, err := a.try(method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, b
}

// apiUser is the part of the REST API's user the tests read.
type apiUser struct {
	ID             int64               `json:"id"`
	Username       string              `json:"username"`
	Kind           string              `json:"kind"`
	Status         string              `json:"status"`
	Shares         map[string]apiShare `json:"shares"`
	StartsAt       *time.Time          `json:"starts_at"`
	ExpiresAt      *time.Time          `json:"expires_at"`
	Whitelisted    bool                `json:"whitelisted"`
	LastActivityAt *time.Time          `json:"last_activity_at"`
}

// apiShare is a user's share in the REST API.
type apiShare struct {
	Libraries    []string `json:"libraries"`
	AllLibraries bool     `json:"all_libraries"`
	Pending      bool     `json:"pending"`
}

// user reads GET /users/{id}; ok is false on 404.
func (a restAPI) user(t *testing.T, id int64) (apiUser, bool) {
	t.Helper()
	code, body := a.do(t, http.MethodGet, fmt.Sprintf("/users/%d", id), "")
	if code == http.StatusNotFound {
		return apiUser{}, false
	}
	if code != http.StatusOK {
		t.Fatalf("GET /users/%d = %d %.300s", id, code, body)
	}
	var u apiUser
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatalf("GET /users/%d: %v: %.300s", id, err, body)
	}
	return u, true
}

// userByName finds a user with GET /users?q=.
func (a restAPI) userByName(t *testing.T, name string) (apiUser, bool) {
	t.Helper()
	code, body := a.do(t, http.MethodGet, "/users?per_page=500&q="+name, "")
	if code != http.StatusOK {
		t.Fatalf("GET /users?q=%s = %d %.300s", name, code, body)
	}
	var list struct {
		Users []apiUser `json:"users"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("GET /users: %v", err)
	}
	for _, u := range list.Users {
		if strings.EqualFold(u.Username, name) {
			return u, true
		}
	}
	return apiUser{}, false
}

// health reads the engine's health from GET /schedule.
func (a restAPI) health(t *testing.T) access.Health {
	t.Helper()
	code, body := a.do(t, http.MethodGet, "/schedule?limit=1", "")
	if code != http.StatusOK {
		t.Fatalf("GET /schedule = %d %.300s", code, body)
	}
	var s struct {
		Health access.Health `json:"health"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("GET /schedule: %v", err)
	}
	return s.Health
}

// events reads GET /events with a query (type=…, user_id=…).
func (a restAPI) events(t *testing.T, query string) []storage.Event {
	t.Helper()
	code, body := a.do(t, http.MethodGet, "/events?limit=1000&"+query, "")
	if code != http.StatusOK {
		t.Fatalf("GET /events?%s = %d %.300s", query, code, body)
	}
	var resp struct {
		Events []storage.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	return resp.Events
}

// waitFor polls cond every 50ms until it holds or timeout passes; it returns when it held and fails
// the test with cond's last description otherwise.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, desc := cond()
		if ok {
			return time.Now()
		}
		last = desc
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakeShare returns the share of the first server the fake has for a plex.tv account.
func fakeShare(f *plextest.Fake, userID int64) (plextest.Share, bool) {
	for _, sh := range f.SharesFor(plextest.MinimalMachineID) {
		if sh.UserID == userID {
			return sh, true
		}
	}
	return plextest.Share{}, false
}

// fakeSharesOf counts the shares the fake has for one account (every server).
func fakeSharesOf(f *plextest.Fake, userID int64) int {
	n := 0
	for _, sh := range f.Shares() {
		if sh.UserID == userID {
			n++
		}
	}
	return n
}

// sectionSet sorts section ids for comparison.
func sectionSet(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// waitAdopted waits until sync has adopted the users, each active with a share of the first server.
func waitAdopted(t *testing.T, api restAPI, ids ...int64) {
	t.Helper()
	waitFor(t, 15*time.Second, "sync to adopt the Plex users", func() (bool, string) {
		for _, id := range ids {
			u, ok := api.user(t, id)
			if !ok {
				return false, fmt.Sprintf("user %d not stored yet", id)
			}
			if _, ok := u.Shares[plextest.MinimalMachineID]; !ok || u.Status != storage.StatusActive {
				return false, fmt.Sprintf("user %d: status %s shares %v", id, u.Status, u.Shares)
			}
		}
		return true, ""
	})
}

// rfc3339 formats a time for the API.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// watchShare samples the fake every 20ms until present(share exists) equals want or deadline; it
// returns when it changed and whether it changed at all.
func watchShare(f *plextest.Fake, userID int64, want bool, deadline time.Time) (time.Time, bool) {
	for time.Now().Before(deadline) {
		if _, ok := fakeShare(f, userID); ok == want {
			return time.Now(), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, false
}

// TestEngineWindows: with enforce_every 1s and sync_every 2s, an expiry set 2s ahead takes the share
// off Plex within one pass after it (not before), a start set 2s ahead shares again on time, and a
// scheduled direct invitation shares at its start; the following sync passes do not undo or repeat
// any of it.
func TestEngineWindows(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{Seed: engineSeed()})
	tc := newTester(t)
	load(t, tc, engineConfig(t, fake.URL(), fake.OwnerToken(), testDir(t, "pm")))
	api := newRESTAPI(baseURL+"/manage/api/v1", 30*time.Second)
	waitAdopted(t, api, aliceID, bobID, carolID)
	aliceShare, ok := fakeShare(fake, aliceID)
	if !ok {
		t.Fatal("the fake has no share for alice")
	}
	carolBefore, _ := fakeShare(fake, carolID)

	// An expiry 2 s ahead.
	expiry := time.Now().Add(2 * time.Second)
	code, body := api.do(t, http.MethodPatch, fmt.Sprintf("/users/%d", aliceID),
		fmt.Sprintf(`{"expires_at":%q,"reason":"engine window test"}`, rfc3339(expiry)))
	if code != http.StatusOK {
		t.Fatalf("PATCH expires_at = %d %s", code, body)
	}
	// A start 2 s ahead for carol (access stops now, comes back at the start) and a direct invitation
	// of dave scheduled at the same time.
	start := time.Now().Add(2 * time.Second)
	code, body = api.do(t, http.MethodPatch, fmt.Sprintf("/users/%d", carolID), fmt.Sprintf(`{"starts_at":%q}`, rfc3339(start)))
	if code != http.StatusOK || !strings.Contains(body, `"status":"scheduled"`) {
		t.Fatalf("PATCH starts_at = %d %s", code, body)
	}
	if _, ok := fakeShare(fake, carolID); ok {
		t.Error("carol's share is still on Plex after her start was moved ahead")
	}
	code, body = api.do(t, http.MethodPost, "/users/invite", fmt.Sprintf(`{"invitee":"dave","libraries":{%q:["4","8"]},"starts_at":%q}`,
		plextest.MinimalMachineID, rfc3339(start)))
	if code != http.StatusOK || !strings.Contains(body, `"scheduled":true`) {
		t.Fatalf("POST /users/invite = %d %s", code, body)
	}
	if _, ok := fakeShare(fake, daveID); ok {
		t.Error("dave was shared before his start")
	}

	// Watch the three changes happen.
	deadline := time.Now().Add(2*time.Second + engineEnforceEvery + 10*time.Second)
	var mu sync.Mutex
	changedAt := map[string]time.Time{}
	var wg sync.WaitGroup
	for name, w := range map[string]struct {
		id   int64
		want bool
	}{"alice": {aliceID, false}, "carol": {carolID, true}, "dave": {daveID, true}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, ok := watchShare(fake, w.id, w.want, deadline)
			if ok {
				mu.Lock()
				changedAt[name] = at
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	check := func(name string, due time.Time) {
		at, ok := changedAt[name]
		if !ok {
			t.Errorf("%s: the change due at %s never reached Plex", name, due.Format(time.RFC3339Nano))
			return
		}
		lag := at.Sub(due)
		t.Logf("%s: reached Plex %s after it was due", name, lag.Round(time.Millisecond))
		if lag < 0 {
			t.Errorf("%s: reached Plex %s before it was due", name, -lag)
		}
		if lag > engineEnforceEvery+engineSlack {
			t.Errorf("%s: reached Plex %s after it was due, more than one pass (%s + %s slack)", name, lag, engineEnforceEvery, engineSlack)
		}
	}
	check("alice", expiry)
	check("carol", start)
	check("dave", start)

	// Let a sync pass and a few enforcement passes run over the result.
	time.Sleep(engineSyncEvery + engineEnforceEvery + 500*time.Millisecond)

	alice, _ := api.user(t, aliceID)
	// The libraries stay recorded (for a later extension); Plex has no share.
	if alice.Status != storage.StatusExpired || !slices.Equal(alice.Shares[plextest.MinimalMachineID].Libraries, []string{"4", "8"}) {
		t.Errorf("alice after her expiry: status %s shares %v", alice.Status, alice.Shares)
	}
	if _, ok := fakeShare(fake, aliceID); ok {
		t.Error("alice is shared again after the passes that followed her expiry")
	}
	carol, _ := api.user(t, carolID)
	carolNow, ok := fakeShare(fake, carolID)
	switch {
	case !ok:
		t.Error("carol's share is gone again")
	case carol.Status != storage.StatusActive && carol.Status != storage.StatusPending:
		t.Errorf("carol after her start: status %s", carol.Status)
	case !slices.Equal(sectionSet(carolNow.SectionIDs), []int64{plextest.SectionMovies}) || carolNow.FilterMovies != carolBefore.FilterMovies:
		t.Errorf("carol's share after her start = %+v, want Movies with filter %q", carolNow, carolBefore.FilterMovies)
	case !slices.Equal(carol.Shares[plextest.MinimalMachineID].Libraries, []string{"4"}):
		t.Errorf("carol's stored share = %+v", carol.Shares)
	}
	daveNow, ok := fakeShare(fake, daveID)
	if !ok || !slices.Equal(sectionSet(daveNow.SectionIDs), []int64{plextest.SectionMovies, plextest.SectionTVShows}) {
		t.Errorf("dave's share = %+v (present %v), want Movies and TV Shows", daveNow, ok)
	}
	if dave, ok := api.userByName(t, "dave"); !ok || (dave.Status != storage.StatusPending && dave.Status != storage.StatusActive) {
		t.Errorf("dave after his start: %+v (found %v)", dave, ok)
	}

	// Exactly one Plex change each: one removal of alice's share, one creation each for carol and dave.
	var deletes, creates int
	createdFor := map[string]int{}
	for _, c := range fake.Calls() {
		switch c.Route {
		case "DELETE /api/v2/shared_servers/{id}":
			if c.Path == fmt.Sprintf("/api/v2/shared_servers/%d", aliceShare.ID) {
				deletes++
			}
		case "POST /api/v2/shared_servers":
			creates++
			createdFor[createInvitee(c.Body)]++
		}
	}
	if deletes != 1 {
		t.Errorf("DELETE of alice's share %d times, want 1", deletes)
	}
	if creates != 2 || createdFor[fmt.Sprint(carolID)] != 1 || createdFor["dave"]+createdFor[fmt.Sprint(daveID)] != 1 {
		t.Errorf("share creations = %d %v, want one for carol and one for dave", creates, createdFor)
	}
	if n := len(api.events(t, fmt.Sprintf("type=user.expired&user_id=%d", aliceID))); n != 1 {
		t.Errorf("user.expired events for alice = %d, want 1", n)
	}
	if h := api.health(t); h.PendingIntents != 0 {
		t.Errorf("pending intents = %d, want 0", h.PendingIntents)
	}
}

// createInvitee names the invitee of a POST /api/v2/shared_servers body: the invitedId, else the
// invitedEmail (lower case).
func createInvitee(body []byte) string {
	var b struct {
		InvitedID    int64  `json:"invitedId"`
		InvitedEmail string `json:"invitedEmail"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return "unreadable"
	}
	if b.InvitedID > 0 {
		return fmt.Sprint(b.InvitedID)
	}
	return strings.ToLower(b.InvitedEmail)
}

// seedStore writes into a data directory's store before Caddy opens it (Badger locks the directory,
// so this must happen while no Caddy uses it).
func seedStore(t *testing.T, dataDir string, fn func(st *storage.Store) error) {
	t.Helper()
	st, err := storage.Open(storage.DefaultOptions(filepath.Join(dataDir, "db"), nil))
	if err != nil {
		t.Fatalf("opening the store to seed it: %v", err)
	}
	if err := fn(st); err != nil {
		st.Close()
		t.Fatalf("seeding the store: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEnginePurge: with history and live activity feeding last activity, the purge preview names
// exactly the inactive users (old inactivity, never watched since joining long ago, never watched
// with the never-watched option) and keeps the others with why; a purge of an id outside the
// preview is refused whole; the purge of the previewed ids removes exactly those users from Plex.
//
// The store is seeded before Caddy starts with what months of operation would have left: users who
// joined 90 days ago (sync records a user's join as the time it first saw them, so a fresh store has
// nobody old enough to purge), their last activity, a whitelist flag and the purge settings.
func TestEnginePurge(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{Seed: engineSeed()})
	now := time.Now().UTC()
	daysAgo := func(d int) *time.Time { t := now.AddDate(0, 0, -d); return &t }
	// frank watched yesterday according to the server's history; grace is streaming right now.
	fake.AddHistory(plextest.MinimalMachineID, plextest.HistoryItem{AccountID: frank.ID, ViewedAt: now.Add(-24 * time.Hour),
		Title: "Harbor Lights", Type: "movie", RatingKey: "2001", LibraryKey: "4"})

	dataDir := testDir(t, "pm")
	srv := fake.Servers()[0]
	seedStore(t, dataDir, func(st *storage.Store) error {
		if err := st.PutSetting(access.SettingsKey, access.Settings{InactiveDays: 30, PurgeNeverWatched: true}); err != nil {
			return err
		}
		libs := make([]storage.Library, 0, len(srv.Libraries))
		for _, l := range srv.Libraries {
			libs = append(libs, storage.Library{Key: l.Key, SectionID: l.SectionID, Title: l.Title, Type: l.Type})
		}
		if err := st.PutServer(storage.Server{ID: srv.MachineID, Name: srv.Name, URL: fake.URL(), Libraries: libs,
			Online: true, CreatedAt: now.AddDate(0, 0, -200)}); err != nil {
			return err
		}
		users := []storage.User{
			{ID: aliceID, Username: "alice", Email: "alice@example.com", CreatedAt: *daysAgo(90)},                                                 // never watched, joined long ago
			{ID: bobID, Username: "bob", Email: "bob@example.com", CreatedAt: *daysAgo(90), LastActivityAt: daysAgo(60)},                          // inactive
			{ID: carolID, Username: "carol", Email: "carol@example.com", CreatedAt: *daysAgo(90), LastActivityAt: daysAgo(60), Whitelisted: true}, // kept: whitelisted
			{ID: frank.ID, Username: "frank", Email: frank.Email, CreatedAt: *daysAgo(90), LastActivityAt: daysAgo(60)},                           // history: watched yesterday
			{ID: grace.ID, Username: "grace", Email: grace.Email, CreatedAt: *daysAgo(90), LastActivityAt: daysAgo(60)},                           // streaming now
			{ID: heidi.ID, Username: "heidi", Email: heidi.Email, CreatedAt: *daysAgo(5), LastActivityAt: daysAgo(2)},                             // active
			{ID: ivan.ID, Username: "ivan", Email: ivan.Email, CreatedAt: *daysAgo(5)},                                                            // never watched (option on)
		}
		for _, u := range users {
			u.Kind, u.Status, u.UpdatedAt = storage.KindFriend, storage.StatusActive, now
			if err := st.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})

	tc := newTester(t)
	load(t, tc, engineConfig(t, fake.URL(), fake.OwnerToken(), dataDir))
	api := newRESTAPI(baseURL+"/manage/api/v1", 30*time.Second)
	waitAdopted(t, api, aliceID, bobID, carolID, frank.ID, grace.ID, heidi.ID, ivan.ID)
	fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: grace.ID, Title: "Harbor Lights"})

	// The history pass and the session poller move frank's and grace's last activity forward.
	waitFor(t, 15*time.Second, "history and live activity", func() (bool, string) {
		var desc []string
		ok := true
		for _, id := range []int64{frank.ID, grace.ID} {
			u, _ := api.user(t, id)
			if u.LastActivityAt == nil || now.Sub(*u.LastActivityAt) > 48*time.Hour {
				ok = false
				desc = append(desc, fmt.Sprintf("%s last activity %v", u.Username, u.LastActivityAt))
			}
		}
		return ok, strings.Join(desc, "; ")
	})

	code, body := api.do(t, http.MethodPost, "/purge/preview", "")
	if code != http.StatusOK {
		t.Fatalf("POST /purge/preview = %d %s", code, body)
	}
	var plan access.PurgePlan
	if err := json.Unmarshal([]byte(body), &plan); err != nil {
		t.Fatal(err)
	}
	var candidates []int64
	for _, c := range plan.Candidates {
		candidates = append(candidates, c.UserID)
	}
	slices.Sort(candidates)
	want := []int64{bobID, aliceID, ivan.ID}
	slices.Sort(want)
	if !slices.Equal(candidates, want) {
		t.Fatalf("purge candidates = %v, want %v (alice never watched, bob inactive, ivan never watched); plan %s", candidates, want, body)
	}
	excluded := map[int64]string{}
	for _, e := range plan.Excluded {
		excluded[e.UserID] = e.Reason
	}
	if !strings.Contains(excluded[carolID], "whitelisted") || len(excluded) != 1 {
		t.Errorf("excluded = %v, want only carol (whitelisted)", excluded)
	}

	// An id that is not a candidate refuses the whole purge.
	sharesBefore := fake.Shares()
	callsBefore := len(fake.Calls())
	code, body = api.do(t, http.MethodPost, "/purge", fmt.Sprintf(`{"user_ids":[%d,%d]}`, bobID, frank.ID))
	if code != http.StatusBadRequest || !strings.Contains(body, "user_ids") {
		t.Errorf("POST /purge with a non-candidate = %d %s, want 400 naming user_ids", code, body)
	}
	for _, c := range fake.Calls()[callsBefore:] {
		if strings.HasPrefix(c.Method, "DELETE") {
			t.Errorf("a refused purge called %s %s", c.Method, c.Path)
		}
	}
	if got := fake.Shares(); len(got) != len(sharesBefore) {
		t.Errorf("a refused purge changed the shares: %d → %d", len(sharesBefore), len(got))
	}

	code, body = api.do(t, http.MethodPost, "/purge", fmt.Sprintf(`{"user_ids":[%d,%d,%d]}`, aliceID, bobID, ivan.ID))
	if code != http.StatusOK {
		t.Fatalf("POST /purge = %d %s", code, body)
	}
	var rep access.PurgeReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	removed := slices.Clone(rep.Removed)
	slices.Sort(removed)
	if !slices.Equal(removed, want) || len(rep.Skipped) != 0 {
		t.Errorf("purge report: removed %v skipped %v, want removed %v", removed, rep.Skipped, want)
	}
	for _, id := range want {
		if n := fakeSharesOf(fake, id); n != 0 {
			t.Errorf("user %d still has %d shares on Plex after the purge", id, n)
		}
		if u, _ := api.user(t, id); u.Status != storage.StatusRemoved {
			t.Errorf("user %d after the purge: status %s", id, u.Status)
		}
	}
	for _, id := range []int64{carolID, frank.ID, grace.ID, heidi.ID} {
		if n := fakeSharesOf(fake, id); n != 1 {
			t.Errorf("user %d (not purged) has %d shares on Plex, want 1", id, n)
		}
	}
	friendRemovals := map[string]int{}
	for _, c := range fake.Calls() {
		if c.Route == "DELETE /api/v2/sharings/{userId}" {
			friendRemovals[strings.TrimPrefix(c.Path, "/api/v2/sharings/")]++
		}
	}
	if len(friendRemovals) != len(want) {
		t.Errorf("friend removals = %v, want one each for %v", friendRemovals, want)
	}
	for id, n := range friendRemovals {
		if n != 1 {
			t.Errorf("friend %s removed %d times", id, n)
		}
	}
	// Sync passes after the purge leave it alone.
	time.Sleep(engineSyncEvery + 500*time.Millisecond)
	for _, id := range want {
		if u, _ := api.user(t, id); u.Status != storage.StatusRemoved {
			t.Errorf("user %d after the next sync: status %s", id, u.Status)
		}
	}
	if n := len(api.events(t, "type=user.purged")); n != len(want) {
		t.Errorf("user.purged events = %d, want %d", n, len(want))
	}
}

// plexFront serves a plextest fake on loopback through a hook that can, on top of the fake's own
// faults, let the fake carry a request out and then act before the answer leaves: withhold it until
// the client gives up (a lost answer), or kill the Caddy that sent it (the crash test).
type plexFront struct {
	fake *plextest.Fake
	srv  *httptest.Server
	done chan struct{}

	mu sync.Mutex
	// after, when set, runs once the fake has answered r with status; it returns true to withhold
	// the answer.
	after func(r *http.Request, status int) bool
	// withheld counts the answers withheld, by route.
	withheld map[string]int
}

// newPlexFront starts a fake behind a plexFront on 127.0.0.1.
func newPlexFront(t *testing.T, opts plextest.Options) *plexFront {
	t.Helper()
	p := &plexFront{fake: plextest.New(opts), done: make(chan struct{}), withheld: map[string]int{}}
	p.srv = httptest.NewServer(p)
	p.fake.SetBaseURL(p.srv.URL)
	t.Cleanup(func() {
		close(p.done)
		p.fake.Close()
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	return p
}

// setAfter installs (or, with nil, removes) the hook.
func (p *plexFront) setAfter(fn func(r *http.Request, status int) bool) {
	p.mu.Lock()
	p.after = fn
	p.mu.Unlock()
}

// ServeHTTP passes the request to the fake and the answer to the client unless the hook withholds it.
func (p *plexFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	after := p.after
	p.mu.Unlock()
	if after == nil {
		p.fake.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.fake.ServeHTTP(rec, r)
	if after(r, rec.Code) {
		p.mu.Lock()
		p.withheld[r.Method+" "+r.URL.Path]++
		p.mu.Unlock()
		select {
		case <-r.Context().Done():
		case <-p.done:
		}
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// withheldCount is the number of answers withheld.
func (p *plexFront) withheldCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.withheld {
		n += c
	}
	return n
}

// shareChange reports whether r is a call that changes sharing, and which: "create", "update",
// "remove" (a share) or "unfriend".
func shareChange(r *http.Request) string {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/api/v2/shared_servers":
		return "create"
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/api/v2/shared_servers/") && !strings.HasSuffix(p, "/accept"):
		return "update"
	case r.Method == http.MethodDelete && strings.HasPrefix(p, "/api/v2/shared_servers/"):
		return "remove"
	case r.Method == http.MethodDelete && strings.HasPrefix(p, "/api/v2/sharings/"):
		return "unfriend"
	}
	return ""
}

// Share-changing routes of the fake, as its Call.Route and Fault.Route name them.
const (
	routeCreate   = "POST /api/v2/shared_servers"
	routeUpdate   = "POST /api/v2/shared_servers/{id}"
	routeRemove   = "DELETE /api/v2/shared_servers/{id}"
	routeUnfriend = "DELETE /api/v2/sharings/{userId}"
)

// routeStats counts the fake's answers on one route.
type routeStats struct {
	Total, Applied, Failed5xx, Hung, Dup422, NotFound, Other int
}

func (s routeStats) String() string {
	return fmt.Sprintf("%d calls: %d applied, %d 5xx, %d hung, %d 422, %d 404, %d other",
		s.Total, s.Applied, s.Failed5xx, s.Hung, s.Dup422, s.NotFound, s.Other)
}

// shareCallStats counts the calls of the share-changing routes.
func shareCallStats(calls []plextest.Call) map[string]routeStats {
	out := map[string]routeStats{}
	for _, c := range calls {
		switch c.Route {
		case routeCreate, routeUpdate, routeRemove, routeUnfriend:
		default:
			continue
		}
		s := out[c.Route]
		s.Total++
		switch {
		case c.Status >= 200 && c.Status < 300:
			s.Applied++
		case c.Status >= 500:
			s.Failed5xx++
		case c.Status == 0:
			s.Hung++
		case c.Status == http.StatusUnprocessableEntity:
			s.Dup422++
		case c.Status == http.StatusNotFound:
			s.NotFound++
		default:
			s.Other++
		}
		out[c.Route] = s
	}
	return out
}

// logRouteStats prints the counts, routes sorted.
func logRouteStats(t *testing.T, stats map[string]routeStats) {
	t.Helper()
	routes := make([]string, 0, len(stats))
	for r := range stats {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		t.Logf("  %-36s %s", r, stats[r])
	}
}

// duplicateChanges lists what the call log shows done twice on Plex: a share created (applied) for
// an invitee who already had one created and not removed since, a share removed (applied) twice, a
// friend removed twice. shareOwner maps share ids to invitees for the removals.
func duplicateChanges(calls []plextest.Call, shareOwner map[int64]string) []string {
	var dups []string
	live := map[string]bool{}
	removedShare := map[string]bool{}
	unfriended := map[string]bool{}
	for _, c := range calls {
		if c.Status < 200 || c.Status >= 300 {
			continue
		}
		switch c.Route {
		case routeCreate:
			who := createInvitee(c.Body)
			if live[who] {
				dups = append(dups, fmt.Sprintf("share created twice for %s (second at %s)", who, c.At.Format(time.RFC3339Nano)))
			}
			live[who] = true
		case routeRemove:
			if removedShare[c.Path] {
				dups = append(dups, "share removed twice: "+c.Path)
			}
			removedShare[c.Path] = true
			var id int64
			fmt.Sscan(strings.TrimPrefix(c.Path, "/api/v2/shared_servers/"), &id)
			if who, ok := shareOwner[id]; ok {
				live[who] = false
			}
		case routeUnfriend:
			if unfriended[c.Path] {
				dups = append(dups, "friend removed twice: "+c.Path)
			}
			unfriended[c.Path] = true
		}
	}
	return dups
}

// unresolved422 lists the creations Plex refused as duplicates (422) that no later successful update
// of that invitee's share followed: the engine must look the existing share up and update it
// instead of giving up or creating another.
func unresolved422(f *plextest.Fake, calls []plextest.Call) []string {
	ids := map[string]int64{}
	for _, acc := range f.Accounts() {
		ids[fmt.Sprint(acc.ID)] = acc.ID
		ids[strings.ToLower(acc.Username)] = acc.ID
		ids[strings.ToLower(acc.Email)] = acc.ID
	}
	var out []string
	for i, c := range calls {
		if c.Route != routeCreate || c.Status != http.StatusUnprocessableEntity {
			continue
		}
		who := createInvitee(c.Body)
		sh, ok := fakeShare(f, ids[who])
		if !ok {
			out = append(out, fmt.Sprintf("422 for %s at %s, and Plex has no share for them now", who, c.At.Format(time.RFC3339Nano)))
			continue
		}
		path := fmt.Sprintf("/api/v2/shared_servers/%d", sh.ID)
		resolved := false
		for _, later := range calls[i+1:] {
			if later.Route == routeUpdate && later.Path == path && later.Status >= 200 && later.Status < 300 {
				resolved = true
				break
			}
		}
		if !resolved {
			out = append(out, fmt.Sprintf("422 for %s at %s not followed by an update of share %d", who, c.At.Format(time.RFC3339Nano), sh.ID))
		}
	}
	return out
}

// engineOutage is how long Plex's sharing routes fail in TestEngineOutage. The issue asks for about a
// minute; it is kept below the engine's retry base (access.DefaultRetryBase, one minute) so that no
// retry falls inside the outage: every change fails once and is retried once, a minute after its
// failure, and the test takes about engineOutage plus a minute.
const engineOutage = 40 * time.Second

// TestEngineOutage: plex.tv's sharing routes fail for engineOutage — 5xx, a hang until the client's
// timeout, and a change Plex carries out but whose answer is lost — while admin edits are made and
// scheduled starts and expiries fall due. After the faults are cleared the engine catches up by
// itself: nothing is lost (every change is on Plex and in the store) and nothing is done twice (one
// creation per invitee, one removal per share, the lost creation's 422 resolved by an update).
func TestEngineOutage(t *testing.T) {
	front := newPlexFront(t, plextest.Options{Seed: engineSeed()})
	fake := front.fake
	tc := newTester(t)
	load(t, tc, engineConfig(t, fake.URL(), fake.OwnerToken(), testDir(t, "pm")))
	api := newRESTAPI(baseURL+"/manage/api/v1", 2*time.Minute)
	waitAdopted(t, api, aliceID, bobID, carolID, frank.ID, grace.ID)
	shareOwner := map[int64]string{}
	for _, sh := range fake.Shares() {
		shareOwner[sh.ID] = fmt.Sprint(sh.UserID)
	}
	carolBefore, _ := fakeShare(fake, carolID)

	// Changes that fall due during the outage: alice's expiry, dave's start (direct invitation),
	// bob's expiry and judy's start, in that order.
	t0 := time.Now().Add(2 * time.Second) // the outage starts
	due := map[string]time.Time{
		"alice": t0.Add(3 * time.Second), "dave": t0.Add(5 * time.Second),
		"bob": t0.Add(engineOutage / 2), "judy": t0.Add(engineOutage/2 + 5*time.Second),
	}
	for _, p := range []struct {
		id   int64
		name string
	}{{aliceID, "alice"}, {bobID, "bob"}} {
		if code, body := api.do(t, http.MethodPatch, fmt.Sprintf("/users/%d", p.id), fmt.Sprintf(`{"expires_at":%q}`, rfc3339(due[p.name]))); code != http.StatusOK {
			t.Fatalf("PATCH %s = %d %s", p.name, code, body)
		}
	}
	for _, name := range []string{"dave", "judy"} {
		code, body := api.do(t, http.MethodPost, "/users/invite", fmt.Sprintf(`{"invitee":%q,"libraries":{%q:["4"]},"starts_at":%q}`,
			name, plextest.MinimalMachineID, rfc3339(due[name])))
		if code != http.StatusOK || !strings.Contains(body, `"scheduled":true`) {
			t.Fatalf("invite %s = %d %s", name, code, body)
		}
	}

	time.Sleep(time.Until(t0))
	fake.ResetCalls()
	outageStart := time.Now()
	// Removals: the first attempt hangs until the client gives up, then 503. Creations: the first
	// one Plex carries out but its answer is lost, then 503. Updates 502, friend removals 503.
	fake.Inject(plextest.Fault{Route: routeRemove, Hang: true, Count: 1})
	fake.Inject(plextest.Fault{Route: routeRemove, Status: http.StatusServiceUnavailable})
	fake.Inject(plextest.Fault{Route: routeUpdate, Status: http.StatusBadGateway})
	fake.Inject(plextest.Fault{Route: routeUnfriend, Status: http.StatusServiceUnavailable})
	var lostMu sync.Mutex
	lostOne := false
	front.setAfter(func(r *http.Request, status int) bool {
		if shareChange(r) != "create" || status != http.StatusCreated {
			return false
		}
		lostMu.Lock()
		defer lostMu.Unlock()
		if lostOne {
			return false
		}
		lostOne = true
		fake.Inject(plextest.Fault{Route: routeCreate, Status: http.StatusServiceUnavailable})
		return true
	})

	// Admin edits during the outage: frank's libraries change, grace is removed. Plex cannot take
	// them: 202, kept for a retry.
	var wg sync.WaitGroup
	adminCodes := map[string]int{}
	var codesMu sync.Mutex
	for name, req := range map[string][2]string{
		"frank": {http.MethodPatch, fmt.Sprintf(`/users/%d|{"libraries":{%q:["1"]}}`, frank.ID, plextest.MinimalMachineID)},
		"grace": {http.MethodDelete, fmt.Sprintf("/users/%d?reason=outage+test|", grace.ID)},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, body, _ := strings.Cut(req[1], "|")
			began := time.Now()
			code, resp, err := api.try(req[0], path, body)
			took := time.Since(began)
			if err != nil {
				t.Errorf("%s %s during the outage: %v", req[0], path, err)
			}
			codesMu.Lock()
			adminCodes[name] = code
			codesMu.Unlock()
			t.Logf("%s %s during the outage: %d after %s: %.200s", req[0], path, code, took.Round(100*time.Millisecond), resp)
		}()
	}
	wg.Wait()
	for name, code := range adminCodes {
		if code != http.StatusAccepted {
			t.Errorf("admin edit of %s during the outage = %d, want 202 (kept for a retry)", name, code)
		}
	}

	time.Sleep(time.Until(outageStart.Add(engineOutage)))
	fake.ClearFaults()
	front.setAfter(nil)
	outageEnd := time.Now()
	during := shareCallStats(fake.Calls())
	t.Logf("share calls during the %s outage:", engineOutage)
	logRouteStats(t, during)
	if s := during[routeRemove]; s.Hung == 0 || s.Failed5xx == 0 {
		t.Errorf("removals during the outage: %s; want at least one hang and one 5xx", s)
	}
	if front.withheldCount() == 0 {
		t.Error("no creation had its answer lost during the outage")
	}
	if s := during[routeUpdate]; s.Failed5xx == 0 {
		t.Errorf("updates during the outage: %s; want 5xx", s)
	}

	// Catch-up: the retries wait for their backoff (one minute after the first failure).
	settle := access.DefaultRetryBase + 30*time.Second
	waitFor(t, settle, "the engine to catch up after the outage", func() (bool, string) {
		var missing []string
		if _, ok := fakeShare(fake, aliceID); ok {
			missing = append(missing, "alice still shared")
		}
		if _, ok := fakeShare(fake, bobID); ok {
			missing = append(missing, "bob still shared")
		}
		if fakeSharesOf(fake, grace.ID) != 0 {
			missing = append(missing, "grace still shared")
		}
		if sh, ok := fakeShare(fake, frank.ID); !ok || !slices.Equal(sh.SectionIDs, []int64{plextest.SectionMusic}) {
			missing = append(missing, fmt.Sprintf("frank's share %v", sh.SectionIDs))
		}
		for _, id := range []int64{daveID, judy.ID} {
			if _, ok := fakeShare(fake, id); !ok {
				missing = append(missing, fmt.Sprintf("user %d not shared", id))
			}
		}
		if h := api.health(t); h.PendingIntents != 0 {
			missing = append(missing, fmt.Sprintf("%d pending intents", h.PendingIntents))
		}
		return len(missing) == 0, strings.Join(missing, ", ")
	})
	t.Logf("caught up %s after the outage ended", time.Since(outageEnd).Round(100*time.Millisecond))
	// One more sync and enforcement round over the final state.
	time.Sleep(engineSyncEvery + engineEnforceEvery + 500*time.Millisecond)

	calls := fake.Calls()
	all := shareCallStats(calls)
	t.Log("share calls from the outage's start to the end:")
	logRouteStats(t, all)
	for _, d := range duplicateChanges(calls, shareOwner) {
		t.Errorf("done twice: %s", d)
	}
	for _, u := range unresolved422(fake, calls) {
		t.Errorf("duplicate creation not resolved: %s", u)
	}
	created := map[string]int{}
	for _, c := range calls {
		if c.Route == routeCreate && c.Status == http.StatusCreated {
			created[createInvitee(c.Body)]++
		}
	}
	if created["dave"]+created[fmt.Sprint(daveID)] != 1 || created["judy"]+created[fmt.Sprint(judy.ID)] != 1 || len(created) != 2 {
		t.Errorf("share creations carried out = %v, want one for dave and one for judy", created)
	}
	if s := all[routeCreate]; s.Dup422 == 0 {
		t.Errorf("creations: %s; want the lost creation's retry to meet 422 (already shared)", s)
	}
	if s := all[routeUnfriend]; s.Applied != 1 {
		t.Errorf("friend removals: %s; want grace removed once", s)
	}

	// The store agrees with Plex.
	for _, c := range []struct {
		id     int64
		status string
	}{{aliceID, storage.StatusExpired}, {bobID, storage.StatusExpired}, {grace.ID, storage.StatusRemoved}} {
		if u, _ := api.user(t, c.id); u.Status != c.status {
			t.Errorf("user %d: status %s, want %s", c.id, u.Status, c.status)
		}
	}
	if u, _ := api.user(t, grace.ID); len(u.Shares) != 0 {
		t.Errorf("grace (removed) still has shares recorded: %v", u.Shares)
	}
	if u, _ := api.user(t, frank.ID); !slices.Equal(u.Shares[plextest.MinimalMachineID].Libraries, []string{"1"}) {
		t.Errorf("frank's stored share = %+v, want library 1", u.Shares)
	}
	for _, name := range []string{"dave", "judy"} {
		u, ok := api.userByName(t, name)
		if !ok || (u.Status != storage.StatusPending && u.Status != storage.StatusActive) || !slices.Equal(u.Shares[plextest.MinimalMachineID].Libraries, []string{"4"}) {
			t.Errorf("%s in the store: %+v (found %v)", name, u, ok)
		}
		if fakeSharesOf(fake, u.ID) != 1 {
			t.Errorf("%s has %d shares on Plex, want 1", name, fakeSharesOf(fake, u.ID))
		}
	}
	if sh, _ := fakeShare(fake, carolID); sh.ID != carolBefore.ID || !slices.Equal(sh.SectionIDs, carolBefore.SectionIDs) {
		t.Errorf("carol (untouched) changed: %+v → %+v", carolBefore, sh)
	}
	if evs := api.events(t, "type=intent.failed"); len(evs) != 0 {
		t.Errorf("intent.failed events: %+v", evs)
	}
	if n := len(api.events(t, "type=user.expired")); n != 2 {
		t.Errorf("user.expired events = %d, want 2 (alice, bob)", n)
	}
}
