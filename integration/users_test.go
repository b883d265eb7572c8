package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// usersAPIKey is the bootstrap admin key of the users tests.
const usersAPIKey = "users-it-key-0123456789abcdef012"

// usersConfig runs the app against a plextest fake with an API key; the admin handler is mounted
// at /manage.
func usersConfig(t *testing.T, fake *plextest.Fake) string {
	return fakeAppConfig(t, fake, usersAPIKey, "")
}

// usersAPI calls the REST API with the bootstrap key.
func usersAPI(t *testing.T, c *http.Client, method, path, body string) (int, string) {
	t.Helper()
	return callAPI(t, c, usersAPIKey, method, path, body)
}

// usersShareOf returns the fake's share of a user on the first server.
func usersShareOf(fake *plextest.Fake, userID int64) (plextest.Share, bool) {
	for _, sh := range fake.SharesFor(plextest.MinimalMachineID) {
		if sh.UserID == userID {
			return sh, true
		}
	}
	return plextest.Share{}, false
}

// TestUsersThroughCaddy drives the users feature through a real Caddy: sync, list, edit (pushed to
// the fake), bad input, removal, servers and the purge preview; pages need a session.
func TestUsersThroughCaddy(t *testing.T) {
	const alice, bob = 22526914, 22522496
	fake := plextest.NewServer(t, plextest.Options{})
	tc := newTester(t)
	load(t, tc, usersConfig(t, fake))
	c := tc.Client

	// The servers are known once the app has read them at start.
	deadline := time.Now().Add(15 * time.Second)
	var code int
	var body string
	for time.Now().Before(deadline) {
		code, body = usersAPI(t, c, "GET", "/servers", "")
		if code == http.StatusOK && strings.Contains(body, `"online":true`) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != http.StatusOK || !strings.Contains(body, plextest.MinimalMachineID) {
		t.Fatalf("GET /servers = %d %.300s (is the users feature wired into handlers.Deps.Features?)", code, body)
	}
	code, body = usersAPI(t, c, "GET", "/servers/"+plextest.MinimalMachineID+"/libraries", "")
	if code != http.StatusOK || !strings.Contains(body, `"key":"4"`) || !strings.Contains(body, `"title":"Movies"`) {
		t.Fatalf("GET libraries = %d %.300s", code, body)
	}

	// Sync now: the three friends are adopted (or were, by the sync loop).
	code, body = usersAPI(t, c, "POST", "/sync", "")
	if code != http.StatusOK {
		t.Fatalf("POST /sync = %d %.500s", code, body)
	}
	code, body = usersAPI(t, c, "GET", "/users?status=active&sort=username", "")
	var list struct {
		Users []struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		} `json:"users"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil {
		t.Fatalf("GET /users = %d %.300s", code, body)
	}
	var names []string
	for _, u := range list.Users {
		names = append(names, u.Username)
	}
	if !slices.Equal(names, []string{"alice", "bob", "carol"}) || list.Total != 3 {
		t.Fatalf("users = %v (total %d)", names, list.Total)
	}

	// An edit is pushed to Plex at once.
	code, body = usersAPI(t, c, "PATCH", fmt.Sprintf("/users/%d", alice),
		`{"libraries":{"`+plextest.MinimalMachineID+`":["1"]},"allow_downloads":false,"notes":"integration"}`)
	if code != http.StatusOK || !strings.Contains(body, `"notes":"integration"`) {
		t.Fatalf("PATCH = %d %.300s", code, body)
	}
	if sh, ok := usersShareOf(fake, alice); !ok || !slices.Equal(sh.SectionIDs, []int64{plextest.SectionMusic}) || sh.AllowSync {
		t.Errorf("alice's share on the fake = %+v", sh)
	}
	// Bad input: 400 naming the field, nothing changed on Plex.
	code, body = usersAPI(t, c, "PATCH", fmt.Sprintf("/users/%d", alice), `{"libraries":{"`+plextest.MinimalMachineID+`":["99"]}}`)
	if code != http.StatusBadRequest || !strings.Contains(body, `"field":"libraries"`) {
		t.Errorf("bad PATCH = %d %s", code, body)
	}
	if sh, _ := usersShareOf(fake, alice); !slices.Equal(sh.SectionIDs, []int64{plextest.SectionMusic}) {
		t.Errorf("a refused edit changed the fake: %+v", sh)
	}

	// Removal revokes on Plex.
	if code, body = usersAPI(t, c, "DELETE", fmt.Sprintf("/users/%d", bob), ""); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", code, body)
	}
	if _, ok := usersShareOf(fake, bob); ok {
		t.Error("bob is still shared on the fake")
	}
	code, body = usersAPI(t, c, "GET", fmt.Sprintf("/users/%d", bob), "")
	if code != http.StatusOK || !strings.Contains(body, `"status":"removed"`) {
		t.Errorf("GET bob = %d %.300s", code, body)
	}

	// Enforcement, purge preview and schedule answer; the OpenAPI document lists the routes.
	for _, r := range []struct{ method, path string }{{"POST", "/enforce"}, {"POST", "/purge/preview"}, {"GET", "/schedule"}} {
		if code, body := usersAPI(t, c, r.method, r.path, ""); code != http.StatusOK {
			t.Errorf("%s %s = %d %.300s", r.method, r.path, code, body)
		}
	}
	code, body = usersAPI(t, c, "GET", "/openapi.json", "")
	for _, p := range []string{`"/users/{id}"`, `"/purge"`, `"/servers/{id}/libraries"`} {
		if code != http.StatusOK || !strings.Contains(body, p) {
			t.Errorf("openapi.json (%d) lacks %s", code, p)
		}
	}

	// The pages need a session: anonymous visitors are sent to the sign-in (or setup) page.
	for _, p := range []string{"/manage/users", "/manage/", fmt.Sprintf("/manage/users/%d", alice)} {
		code, _, hdr := get(t, c, baseURL+p)
		if code != http.StatusSeeOther || (!strings.Contains(hdr.Get("Location"), "/manage/login") && !strings.Contains(hdr.Get("Location"), "/manage/setup")) {
			t.Errorf("anonymous GET %s = %d %s", p, code, hdr.Get("Location"))
		}
	}

	// No token anywhere a script can see.
	for _, path := range []string{"/users", "/servers", "/schedule"} {
		if _, body := usersAPI(t, c, "GET", path, ""); strings.Contains(body, fake.OwnerToken()) {
			t.Errorf("GET %s shows the Plex token", path)
		}
	}
}
