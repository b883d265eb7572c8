package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClientPool(t *testing.T) {
	p, err := newClientPool(3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 7 {
		got = append(got, p.addr())
	}
	want := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1"}
	if !slices.Equal(got, want) || p.size() != 3 {
		t.Errorf("addresses = %v, want %v", got, want)
	}
	big, err := newClientPool(70_000)
	if err != nil {
		t.Fatal(err)
	}
	if a := big.addrs[255]; a != "10.0.1.0" {
		t.Errorf("address 256 = %q, want 10.0.1.0", a)
	}
	if a := big.addrs[len(big.addrs)-1]; a != "10.1.17.112" {
		t.Errorf("last address = %q, want 10.1.17.112", a)
	}
	for _, n := range []int{0, -1, 1 << 24} {
		if _, err := newClientPool(n); err == nil {
			t.Errorf("newClientPool(%d) accepted", n)
		}
	}
}

func TestInviteSitesConfig(t *testing.T) {
	s := abSites{dataDir: "/tmp/pm", storageDir: "/tmp/st", invitePort: 41000, respondPorts: []int{41001, 41002},
		respondBodies: []string{"a", "bb"}}
	b, err := s.configJSON()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen         []string `json:"listen"`
					TrustedProxies struct {
						Source string   `json:"source"`
						Ranges []string `json:"ranges"`
					} `json:"trusted_proxies"`
					ClientIPHeaders []string `json:"client_ip_headers"`
					Routes          []struct {
						Handle []map[string]any `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ listen, handler, body string }{
		"invite":   {"127.0.0.1:41000", "plex_manager", ""},
		"respond0": {"127.0.0.1:41001", "static_response", "a"},
		"respond1": {"127.0.0.1:41002", "static_response", "bb"},
	}
	if len(cfg.Apps.HTTP.Servers) != len(want) {
		t.Fatalf("servers = %s", b)
	}
	for name, w := range want {
		srv := cfg.Apps.HTTP.Servers[name]
		if !slices.Equal(srv.Listen, []string{w.listen}) || srv.TrustedProxies.Source != "static" ||
			!slices.Equal(srv.TrustedProxies.Ranges, []string{"127.0.0.0/8"}) ||
			!slices.Equal(srv.ClientIPHeaders, []string{"X-Forwarded-For"}) {
			t.Errorf("server %s = %+v", name, srv)
		}
		if len(srv.Routes) != 1 || len(srv.Routes[0].Handle) != 1 || srv.Routes[0].Handle[0]["handler"] != w.handler {
			t.Fatalf("server %s routes = %+v", name, srv.Routes)
		}
		if w.body != "" && srv.Routes[0].Handle[0]["body"] != w.body {
			t.Errorf("server %s body = %v, want %q", name, srv.Routes[0].Handle[0]["body"], w.body)
		}
	}
	s.respondBodies = s.respondBodies[:1]
	if _, err := s.configJSON(); err == nil {
		t.Error("config with more respond ports than bodies accepted")
	}
}

func TestInvitePages(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		seed      string
		wantPaths []string
	}{
		{name: "default: landing and seeded", path: "/", seed: "benchinvite", wantPaths: []string{"/", "/benchinvite"}},
		{name: "seeded page given as path", path: "/abc", seed: "abc", wantPaths: []string{"/abc"}},
		{name: "no seed", path: "/", seed: "", wantPaths: []string{"/"}},
		{name: "other path and seed", path: "/x", seed: "abc", wantPaths: []string{"/x", "/abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			c.invitePath, c.seedInvite = tt.path, tt.seed
			var paths []string
			for _, p := range invitePages(c) {
				paths = append(paths, p.path)
				if seeded := tt.seed != "" && p.path == "/"+tt.seed; seeded != (len(p.want) > 0) {
					t.Errorf("page %s wants %v", p.path, p.want)
				}
			}
			if !slices.Equal(paths, tt.wantPaths) {
				t.Errorf("paths = %v, want %v", paths, tt.wantPaths)
			}
		})
	}
}

func TestCheckPage(t *testing.T) {
	want := []string{benchServer, "TV Shows"}
	good := "<h2>Bench Media Server</h2><li>TV Shows</li>"
	tests := []struct {
		name    string
		page    invitePage
		wantErr string
	}{
		{name: "landing page", page: invitePage{path: "/", probe: pageProbe{status: 200, size: 5, body: "hello"}}},
		{name: "empty", page: invitePage{path: "/", probe: pageProbe{status: 200}}, wantErr: "empty body"},
		{name: "real invite", page: invitePage{path: "/c", want: want, probe: pageProbe{status: 200, size: int64(len(good)), body: good}}},
		{name: "unusable code", page: invitePage{path: "/c", want: want, probe: pageProbe{status: 404, size: 3, body: "nope"}}, wantErr: "answered 404"},
		{name: "rate limited", page: invitePage{path: "/c", want: want, probe: pageProbe{status: 429, size: 3, body: good}}, wantErr: "answered 429"},
		{name: "no libraries", page: invitePage{path: "/c", want: want, probe: pageProbe{status: 200, size: 4, body: "<h2>Bench Media Server</h2>"}}, wantErr: `"TV Shows"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPage(tt.page)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("checkPage = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// limitServer answers 200 to each X-Forwarded-For address burst times, then 429; perClient false
// limits every request together, as a limiter keyed by the connection would.
func limitServer(burst int, perClient bool) *httptest.Server {
	var mu sync.Mutex
	seen := map[string]int{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "all"
		if perClient {
			key = r.Header.Get("X-Forwarded-For")
		}
		mu.Lock()
		seen[key]++
		n := seen[key]
		mu.Unlock()
		if burst >= 0 && n > burst {
			w.WriteHeader(http.StatusTooManyRequests)
		}
		_, _ = w.Write([]byte("ok"))
	}))
}

func TestCheckRateLimited(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		burst     int
		perClient bool
		wantN     int
		wantErr   string
	}{
		{name: "per client", burst: 5, perClient: true, wantN: 5},
		{name: "per connection", burst: 5, perClient: false, wantErr: "not per forwarded address"},
		{name: "no limit", burst: -1, perClient: true, wantErr: "without a 429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := limitServer(tt.burst, tt.perClient)
			defer srv.Close()
			n, err := checkRateLimited(ctx, srv.URL, http.StatusOK, 10, "10.0.0.1")
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) || n != tt.wantN {
				t.Errorf("checkRateLimited = %d, %v; want %d, %q", n, err, tt.wantN, tt.wantErr)
			}
		})
	}
}

// TestAlternatePairsOrder checks the round order (A1 B1 A2 B2, then backwards) and that every
// request carries a pool address.
func TestAlternatePairsOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	noXFF := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if n := len(order); n == 0 || order[n-1] != r.URL.Path {
			order = append(order, r.URL.Path)
		}
		if !strings.HasPrefix(r.Header.Get("X-Forwarded-For"), "10.") {
			noXFF++
		}
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	pool, err := newClientPool(100)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []abPair
	for _, n := range []string{"a1", "b1", "a2", "b2"} {
		tg, err := newTarget(n, srv.URL+"/"+n, http.StatusOK, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer tg.close()
		tg.clients = pool
		if n[0] == 'a' {
			pairs = append(pairs, abPair{a: tg})
		} else {
			pairs[len(pairs)-1].b = tg
		}
	}
	res, err := alternatePairs(context.Background(), pairs, 1, 2, 20*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Round 2 runs backwards: its first target is round 1's last, so the server sees one run of it.
	want := []string{"/a1", "/b1", "/a2", "/b2", "/a2", "/b1", "/a1"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	if noXFF != 0 {
		t.Errorf("%d requests without a pool address", noXFF)
	}
	if len(res) != 2 || len(res[0].pairRatios) != 2 || len(res[1].pairRatios) != 2 || res[1].b.requests == 0 {
		t.Errorf("results = %+v", res)
	}
	if _, err := alternatePairs(context.Background(), nil, 1, 1, time.Millisecond, 0); err == nil {
		t.Error("no pairs accepted")
	}
}
