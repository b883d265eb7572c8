package main

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestParseAccessLog(t *testing.T) {
	const good = `{"level":"info","logger":"http.log.access","msg":"handled request","request":{"uri":"/manage/users","headers":{"X-Bench":["0|first page"]}},"duration":0.0125,"size":100,"status":200}
{"level":"error","logger":"http.handlers.plex_manager","msg":"something else"}
{"level":"info","logger":"http.log.access.log0","request":{"headers":{}},"duration":"3ms","status":303}
`
	entries, err := parseAccessLog(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	want := []accessEntry{{tag: "0|first page", status: 200, duration: 12500 * time.Microsecond},
		{tag: "", status: 303, duration: 3 * time.Millisecond}}
	if !slices.Equal(entries, want) {
		t.Errorf("entries = %+v, want %+v", entries, want)
	}
	for name, bad := range map[string]string{
		"not JSON":          "handled request in 3ms\n",
		"negative seconds":  `{"logger":"http.log.access","duration":-1,"status":200}` + "\n",
		"bad duration text": `{"logger":"http.log.access","duration":"soon","status":200}` + "\n",
		"duration object":   `{"logger":"http.log.access","duration":{"s":1},"status":200}` + "\n",
	} {
		if _, err := parseAccessLog(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if entries, err := parseAccessLog(strings.NewReader("")); err != nil || len(entries) != 0 {
		t.Errorf("empty log = %v, %v", entries, err)
	}
}

func TestAttributeServerTimes(t *testing.T) {
	newRun := func() *usersPageRun {
		r := &usersPageRun{byClass: map[string][]time.Duration{}}
		r.surfaces[surfacePage].requests = 2
		r.surfaces[surfaceAPI].requests = 1
		return r
	}
	entries := []accessEntry{
		{tag: "", status: 303, duration: time.Second},       // sign-in
		{tag: "probe", status: 200, duration: time.Second},  // probe
		{tag: "warmup", status: 200, duration: time.Second}, // warm-up
		{tag: "0|first page", status: 200, duration: 2 * time.Millisecond},
		{tag: "0|page k", status: 200, duration: 3 * time.Millisecond},
		{tag: "2|first page", status: 200, duration: 1 * time.Millisecond},
	}
	r := newRun()
	if err := attributeServerTimes(entries, r); err != nil {
		t.Fatal(err)
	}
	if got := r.surfaces[surfacePage].server; !slices.Equal(got, []time.Duration{2 * time.Millisecond, 3 * time.Millisecond}) {
		t.Errorf("page times = %v", got)
	}
	if got := r.byClass["first page"]; len(got) != 2 {
		t.Errorf("first page class = %v", got)
	}
	tests := map[string][]accessEntry{
		"a request missing from the log": entries[:5],
		"a measured request not 200":     append(slices.Clone(entries[:5]), accessEntry{tag: "2|first page", status: 500}),
		"an unknown surface":             append(slices.Clone(entries), accessEntry{tag: "7|first page", status: 200}),
		"a tag that is not a surface":    append(slices.Clone(entries), accessEntry{tag: "x|first page", status: 200}),
		"more entries than requests":     append(slices.Clone(entries), accessEntry{tag: "1|first page", status: 200}),
	}
	for name, es := range tests {
		if err := attributeServerTimes(es, newRun()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestUsersQueryMix(t *testing.T) {
	servers := pageServers(seedBase)
	libraryOf := func(srv, key string) bool {
		for _, s := range servers {
			if s.ID == srv {
				return slices.ContainsFunc(s.Libraries, func(l storage.Library) bool { return l.Key == key })
			}
		}
		return false
	}
	for _, n := range []int{1, 300, 10_000} {
		rng := rand.New(rand.NewPCG(3, 4))
		again := rand.New(rand.NewPCG(3, 4))
		seen := map[string]bool{}
		for range 5_000 {
			q := usersQueryMix(rng, n)
			if q2 := usersQueryMix(again, n); q2 != q {
				t.Fatalf("the mix is not deterministic: %v then %v", q, q2)
			}
			seen[q.class] = true
			if q.query != "" && !strings.HasPrefix(q.query, "?") {
				t.Fatalf("query %q", q.query)
			}
			v, err := url.ParseQuery(strings.TrimPrefix(q.query, "?"))
			if err != nil {
				t.Fatalf("query %q: %v", q.query, err)
			}
			perPage := 50
			if s := v.Get("per_page"); s != "" {
				perPage, _ = strconv.Atoi(s)
			}
			if s := v.Get("page"); s != "" {
				p, err := strconv.Atoi(s)
				if err != nil || p < 1 || p > max(1, n/perPage) {
					t.Fatalf("%d users: page %q out of range in %q", n, s, q.query)
				}
			}
			if lib := v.Get("library"); lib != "" {
				srv, key, ok := strings.Cut(lib, "/")
				if !ok {
					srv, key = v.Get("server"), lib
				}
				if !libraryOf(srv, key) {
					t.Fatalf("query %q names a library the servers do not have", q.query)
				}
			}
		}
		for _, c := range usersQueryClasses {
			if !seen[c] {
				t.Errorf("%d users: class %q never drawn", n, c)
			}
		}
	}
}

// TestPageUserNothingDue checks the users page's users: nothing is due for enforcement (the app's
// loops must not touch them while the load runs) and every share names libraries the servers have.
func TestPageUserNothingDue(t *testing.T) {
	now := seedBase
	servers := map[string][]string{}
	for _, s := range pageServers(now) {
		for _, l := range s.Libraries {
			servers[s.ID] = append(servers[s.ID], l.Key)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := map[string]int{}
	for i := range 3_000 {
		u := pageUser(i, rng, now)
		statuses[u.Status]++
		switch u.Status {
		case storage.StatusActive, storage.StatusPending:
			if u.ExpiresAt != nil && !u.ExpiresAt.After(now) {
				t.Fatalf("user %d is %s and expired at %v", i, u.Status, u.ExpiresAt)
			}
		case storage.StatusScheduled:
			if u.StartsAt == nil || !u.StartsAt.After(now) {
				t.Fatalf("scheduled user %d starts at %v", i, u.StartsAt)
			}
		}
		for srv, sh := range u.Shares {
			for _, l := range sh.Libraries {
				if !slices.Contains(servers[srv], l) {
					t.Fatalf("user %d shares library %q of %s", i, l, srv)
				}
			}
		}
	}
	if len(statuses) != 5 {
		t.Errorf("statuses = %v, want all five", statuses)
	}
}

func TestEnforceSeedAndUsers(t *testing.T) {
	const users, due = 100, 20
	seed := enforceSeed(users, due)
	if len(seed.Accounts) != users || len(seed.Shares) != users-due/2 || len(seed.Servers) != 1 {
		t.Fatalf("seed: %d accounts, %d shares, %d servers", len(seed.Accounts), len(seed.Shares), len(seed.Servers))
	}
	shareIDs := map[int64]int64{}
	for _, sh := range seed.Shares {
		shareIDs[sh.UserID] = sh.ID
	}
	starts, expiries := 0, 0
	for i := range users {
		u := enforceUser(i, due)
		if u.ID != seed.Accounts[i].ID {
			t.Fatalf("user %d has id %d, account %d", i, u.ID, seed.Accounts[i].ID)
		}
		if u.StartsAt != nil && !u.StartsAt.After(enforceDue) {
			starts++
		}
		if u.ExpiresAt != nil && !u.ExpiresAt.After(enforceDue) {
			expiries++
		}
		sh := u.Shares[plextest.MinimalMachineID]
		if sh.ShareID != shareIDs[u.ID] {
			t.Fatalf("user %d's share id %d, the fake's %d", i, sh.ShareID, shareIDs[u.ID])
		}
	}
	if starts != due/2 || expiries != due-due/2 {
		t.Errorf("%d starts and %d expiries due, want %d and %d", starts, expiries, due/2, due-due/2)
	}
}

func TestClassifyEnforceCalls(t *testing.T) {
	calls := []plextest.Call{
		{Method: "POST", Route: "POST /api/v2/shared_servers"},
		{Method: "DELETE", Route: "DELETE /api/v2/shared_servers/{id}"},
		{Method: "POST", Route: "POST /api/v2/shared_servers/{id}"},
		{Method: "GET", Route: "GET /api/users"},
		{Method: "PUT", Route: "PUT /api/home/users/{id}"},
		{Method: "GET", Path: "/nowhere"},
	}
	got := classifyEnforceCalls(calls)
	if got.changes != 3 || got.lists != 2 || got.other != 1 {
		t.Errorf("classified %+v", got)
	}
	if got.routes["(unknown route) GET /nowhere"] != 1 || got.routes["GET /api/users"] != 1 {
		t.Errorf("routes = %v", got.routes)
	}
	if s := routeList(map[string]int{"b": 2, "a": 1}); s != "`a` ×1, `b` ×2" {
		t.Errorf("routeList = %q", s)
	}
	if s := routeList(nil); s != "none" {
		t.Errorf("routeList(nil) = %q", s)
	}
}

func TestSummarizeSpans(t *testing.T) {
	at := func(ms int) time.Time { return seedBase.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name  string
		spans []span
		want  spanStats
	}{
		{"none", nil, spanStats{}},
		{"one", []span{{at(0), at(20)}}, spanStats{inFlight: 20 * time.Millisecond, handled: 20 * time.Millisecond, maxConcurrent: 1}},
		{"three at once then one", []span{{at(30), at(50)}, {at(0), at(20)}, {at(2), at(22)}, {at(1), at(21)}},
			spanStats{inFlight: 42 * time.Millisecond, handled: 80 * time.Millisecond, maxConcurrent: 3}},
		{"touching", []span{{at(0), at(10)}, {at(10), at(20)}},
			spanStats{inFlight: 20 * time.Millisecond, handled: 20 * time.Millisecond, maxConcurrent: 1}},
		{"nested", []span{{at(0), at(50)}, {at(10), at(20)}},
			spanStats{inFlight: 50 * time.Millisecond, handled: 60 * time.Millisecond, maxConcurrent: 2}},
	}
	for _, tc := range tests {
		if got := summarizeSpans(tc.spans); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := latencyMultiple(50*time.Millisecond, 20*time.Millisecond); got != "2.5" {
		t.Errorf("latencyMultiple = %q", got)
	}
	if got := latencyMultiple(time.Second, 0); got != "n/a" {
		t.Errorf("latencyMultiple without latency = %q", got)
	}
}

func TestAdminSiteConfig(t *testing.T) {
	s := adminSite{dataDir: "/tmp/pm", storageDir: "/tmp/st", accessLog: "/tmp/access.log", port: 41234}
	b, err := s.configJSON()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Admin struct {
			Disabled bool `json:"disabled"`
		} `json:"admin"`
		Logging struct {
			Logs map[string]struct {
				Writer struct {
					Filename string `json:"filename"`
				} `json:"writer"`
				Include []string `json:"include"`
			} `json:"logs"`
		} `json:"logging"`
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string        `json:"listen"`
					Logs   json.RawMessage `json:"logs"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	srv := cfg.Apps.HTTP.Servers["admin"]
	if !cfg.Admin.Disabled || !slices.Equal(srv.Listen, []string{"127.0.0.1:41234"}) || string(srv.Logs) != "{}" {
		t.Errorf("config = %s", b)
	}
	if l := cfg.Logging.Logs["bench_access"]; l.Writer.Filename != s.accessLog || !slices.Equal(l.Include, []string{"http.log.access"}) {
		t.Errorf("access log = %+v", l)
	}
}

func TestLoopbackServer(t *testing.T) {
	srv, err := loopbackServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	if u.Hostname() != "127.0.0.1" || slices.Contains(reservedPorts, port) {
		t.Errorf("served at %s", srv.URL)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("body %q", b)
	}
	if _, err := newPageClient("http://example.com/manage", "k"); err == nil {
		t.Error("a non-loopback users-page target was accepted")
	}
}
