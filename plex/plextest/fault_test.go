package plextest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestFaultStatusAndCount(t *testing.T) {
	f := newFake(t, Options{})
	f.Inject(Fault{Route: "GET /api/v2/user", Status: 503, Body: `{"errors":[]}`, Count: 2})
	user := req{method: "GET", path: "/api/v2/user", token: owner, json: true}
	for i := 0; i < 2; i++ {
		r := do(t, f, user)
		mustStatus(t, r, 503)
		if r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("injected Content-Type %q", r.header.Get("Content-Type"))
		}
	}
	mustStatus(t, do(t, f, user), 200)
	if n := f.CallCount("GET /api/v2/user"); n != 3 {
		t.Fatalf("CallCount = %d", n)
	}
	if c := f.Calls(); c[0].Status != 503 || c[2].Status != 200 {
		t.Fatalf("logged statuses %d, %d", c[0].Status, c[2].Status)
	}
}

func TestFaultSelectors(t *testing.T) {
	tests := []struct {
		sel  string
		q    req
		hits bool
	}{
		{"", req{method: "GET", path: "/identity"}, true},
		{"GET /api/v2/*", req{method: "GET", path: "/api/v2/user", token: owner}, true},
		{"GET /api/v2/*", req{method: "POST", path: "/api/v2/pins"}, false},
		{"/api/v2/pins", req{method: "POST", path: "/api/v2/pins"}, true},
		{"GET /api/v2/pins/{id}", req{method: "GET", path: "/api/v2/pins/5"}, true},
		{"GET /api/v2/pins/5", req{method: "GET", path: "/api/v2/pins/5"}, true},
		{"GET /identity", req{method: "GET", path: "/pms/" + MinimalMachineID + "/identity"}, true},
		{"GET /identity", req{method: "GET", path: "/"}, false},
		{"* /identity", req{method: "HEAD", path: "/identity"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.sel+" "+tt.q.method+" "+tt.q.path, func(t *testing.T) {
			f := newFake(t, Options{})
			f.Inject(Fault{Route: tt.sel, Status: 418})
			r := do(t, f, tt.q)
			if (r.status == 418) != tt.hits {
				t.Fatalf("status %d, hit want %v", r.status, tt.hits)
			}
			f.ClearFaults()
			if r := do(t, f, tt.q); r.status == 418 {
				t.Fatal("ClearFaults left the fault")
			}
		})
	}
}

func TestFaultLatency(t *testing.T) {
	f := newFake(t, Options{})
	f.Inject(Fault{Route: "GET /identity", Latency: 150 * time.Millisecond, Count: 1})
	start := time.Now()
	mustStatus(t, do(t, f, req{method: "GET", path: "/identity"}), 200)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered after %v, want ≥150ms", d)
	}
	start = time.Now()
	mustStatus(t, do(t, f, req{method: "GET", path: "/identity"}), 200)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("second call took %v; the fault should be used up", d)
	}
}

func TestFaultHang(t *testing.T) {
	f := newFake(t, Options{})
	f.Inject(Fault{Route: "GET /status/sessions", Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, "GET", f.URL()+"/status/sessions", nil)
	r.Header.Set("X-Plex-Token", owner)
	start := time.Now()
	res, err := http.DefaultClient.Do(r)
	if err == nil {
		res.Body.Close()
		t.Fatalf("a hung request answered %d", res.StatusCode)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	// The call is logged without a status, and other routes still answer.
	deadline := time.Now().Add(2 * time.Second)
	for f.CallCount("GET /status/sessions") != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mustStatus(t, do(t, f, req{method: "GET", path: "/identity"}), 200)
	for _, c := range f.Calls() {
		if c.Route == "GET /status/sessions" && c.Status != 0 {
			t.Fatalf("hung call logged with status %d", c.Status)
		}
	}
}

// TestConcurrentSharing fires 200 invites at once: every distinct user gets
// exactly one share, every repeat gets 422.
func TestConcurrentSharing(t *testing.T) {
	f := newFake(t, Options{})
	for i := 0; i < 100; i++ {
		f.AddAccount(Account{Username: fmt.Sprintf("user%03d", i), Email: fmt.Sprintf("user%03d@example.com", i)})
	}
	var wg sync.WaitGroup
	statuses := make([]int, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"machineIdentifier":%q,"invitedEmail":"user%03d","librarySectionIds":[%d],"settings":{}}`,
				MinimalMachineID, i%100, SectionMovies)
			r, err := http.NewRequest("POST", f.URL()+"/api/v2/shared_servers", stringsReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			r.Header.Set("X-Plex-Token", owner)
			r.Header.Set("X-Plex-Client-Identifier", testClientID)
			r.Header.Set("Accept", "application/json")
			r.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
			// Readers run at the same time.
			_ = f.Shares()
			_ = f.Calls()
		}()
	}
	wg.Wait()
	created, dup := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 422:
			dup++
		default:
			t.Fatalf("unexpected status %d", s)
		}
	}
	if created != 100 || dup != 100 || len(f.Shares()) != 103 {
		t.Fatalf("created=%d dup=%d shares=%d", created, dup, len(f.Shares()))
	}
	if n := f.CallCount("POST /api/v2/shared_servers"); n != 200 {
		t.Fatalf("CallCount = %d", n)
	}
}

// TestConcurrentMixed runs PIN polls, session changes and history reads in
// parallel (meaningful under -race).
func TestConcurrentMixed(t *testing.T) {
	f := newFake(t, Options{Seed: SeedDemo(DemoOptions{Friends: 10, HistoryDays: 10, Seed: 3}), PINPollInterval: time.Millisecond})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := f.StartSession(MinimalMachineID, Session{AccountID: 1})
			r := do(t, f, req{method: "GET", path: "/status/sessions/terminate?sessionId=" + s.ID + "&reason=x", token: owner})
			if r.status != 200 {
				t.Errorf("terminate %d", r.status)
			}
			do(t, f, req{method: "GET", path: "/status/sessions/history/all?sort=viewedAt:desc", token: owner})
			do(t, f, req{method: "POST", path: "/api/v2/pins", json: true})
			f.AddHistory(MinimalMachineID, HistoryItem{AccountID: 1, ViewedAt: time.Now()})
		}()
	}
	wg.Wait()
	if n := len(f.Terminations()); n != 20 {
		t.Fatalf("terminations = %d", n)
	}
}

func TestRouteMatches(t *testing.T) {
	cases := []struct {
		sel, method, path, route string
		want                     bool
	}{
		{"GET /{$}", "GET", "/", "GET /{$}", true},
		{"GET /{$}", "GET", "/identity", "GET /identity", false},
		{"GET /", "GET", "/", "GET /{$}", true},
		{"GET /library/sections/{id}/all", "GET", "/library/sections/4/all", "GET /library/sections/{id}/all", true},
		{"GET /library/sections/{id}/all", "GET", "/library/sections//all", "", false},
		{"POST /api/v2/shared_servers/{id}", "DELETE", "/api/v2/shared_servers/9", "DELETE /api/v2/shared_servers/{id}", false},
		{"* /api/v2/shared_servers/{id}", "DELETE", "/api/v2/shared_servers/9", "DELETE /api/v2/shared_servers/{id}", true},
		{"GET /api/v2/*", "GET", "/api/v2/resources", "GET /api/v2/resources", true},
		{"", "GET", "/anything", "", true},
	}
	for _, tc := range cases {
		if got := routeMatches(tc.sel, tc.method, tc.path, tc.route); got != tc.want {
			t.Errorf("routeMatches(%q, %s %s) = %v, want %v", tc.sel, tc.method, tc.path, got, tc.want)
		}
	}
}
