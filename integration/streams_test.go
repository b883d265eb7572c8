package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// streamsAPIKey is the bootstrap admin key of the streams tests.
const streamsAPIKey = "streams-it-key-0123456789abcdef"

// streamsConfig runs the app against a plextest fake with a fast session poll and an API key.
func streamsConfig(t *testing.T, fake *plextest.Fake) string {
	return fakeAppConfig(t, fake, streamsAPIKey, "session_poll 1s")
}

// apiDo calls the REST API with the bootstrap key.
func apiDo(t *testing.T, c *http.Client, method, path, body string) (int, string) {
	t.Helper()
	return callAPI(t, c, streamsAPIKey, method, path, body)
}

// apiStream is the part of a stream the tests read.
type apiStream struct {
	Server  string `json:"server"`
	Session string `json:"session"`
	UserID  int64  `json:"user_id"`
	Title   string `json:"title"`
}

// waitStreams polls GET /streams until ok accepts the list or the deadline passes.
func waitStreams(t *testing.T, c *http.Client, what string, ok func([]apiStream) bool) []apiStream {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		code, body := apiDo(t, c, "GET", "/streams", "")
		last = fmt.Sprintf("%d %.300s", code, body)
		if code == http.StatusOK {
			var resp struct {
				Streams []apiStream `json:"streams"`
			}
			if err := json.Unmarshal([]byte(body), &resp); err == nil && ok(resp.Streams) {
				return resp.Streams
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: last answer %s", what, last)
	return nil
}

func TestStreamsThroughCaddy(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	tc := newTester(t)
	load(t, tc, streamsConfig(t, fake))
	c := tc.Client

	// A stream appears.
	s := fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: 22526914, Title: "Harbor Lights"})
	got := waitStreams(t, c, "the stream to appear", func(l []apiStream) bool { return len(l) == 1 })
	if got[0].Session != s.ID || got[0].UserID != 22526914 || got[0].Server != plextest.MinimalMachineID || !strings.Contains(got[0].Title, "Harbor Lights") {
		t.Errorf("stream = %+v", got[0])
	}

	// Terminate it with a reason.
	code, body := apiDo(t, c, "DELETE", "/streams/"+plextest.MinimalMachineID+"/"+s.ID, `{"reason":"Integration says goodbye"}`)
	if code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", code, body)
	}
	if terms := fake.Terminations(); len(terms) != 1 || terms[0].Reason != "Integration says goodbye" {
		t.Fatalf("terminations = %+v", terms)
	}
	waitStreams(t, c, "the stream to disappear", func(l []apiStream) bool { return len(l) == 0 })

	// A stream rule stops exactly the newest excess stream.
	if code, body := apiDo(t, c, "PUT", "/streams/rules", `{"max_streams":1}`); code != http.StatusOK {
		t.Fatalf("PUT rules = %d %s", code, body)
	}
	first := fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: 22522496, Title: "First"})
	waitStreams(t, c, "bob's first stream", func(l []apiStream) bool { return len(l) == 1 })
	second := fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: 22522496, Title: "Second"})
	deadline := time.Now().Add(15 * time.Second)
	for len(fake.Terminations()) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	terms := fake.Terminations()
	if len(terms) != 2 || terms[1].SessionID != second.ID || !strings.Contains(terms[1].Reason, "limit of 1") {
		t.Fatalf("terminations = %+v (first %s, second %s)", terms, first.ID, second.ID)
	}

	// The audit log has the admin's stop and the rule's kill.
	code, body = apiDo(t, c, "GET", "/events?type=stream.", "")
	if code != http.StatusOK || !strings.Contains(body, `"stream.terminated"`) || !strings.Contains(body, `"stream.killed"`) {
		t.Errorf("GET /events = %d %.500s", code, body)
	}

	// Metrics on Caddy's admin endpoint.
	mc := &http.Client{Timeout: 5 * time.Second}
	code, metrics, _ := get(t, mc, "http://"+adminAddr+"/metrics")
	for _, want := range []string{"plex_manager_live_streams", `plex_manager_plex_requests_total{endpoint="GET {pms}/status/sessions",outcome="ok"}`, `plex_manager_enforcement_actions_total{kind="stream_kill",result="ok"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics (%d) lack %q", code, want)
		}
	}

	// No token anywhere the browser or a script can see.
	for _, path := range []string{"/streams", "/events?limit=1000"} {
		_, body := apiDo(t, c, "GET", path, "")
		if strings.Contains(body, fake.OwnerToken()) {
			t.Errorf("GET %s shows the Plex token", path)
		}
	}
	for _, call := range fake.Calls() {
		if call.TokenInQuery {
			t.Errorf("Plex got the token in the query of %s", call.Route)
		}
	}
}
