package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The reliability suite: a bounded load test with enforcement running, Plex failures, and a full
// disk. Run it with the integration lock:
//
//	flock /tmp/plex-manager-it.lock go test -count=1 ./integration/ -run 'TestReliability'
//
// PLEX_MANAGER_LOAD_DURATION (a Go duration, default 60s; 5s with -short) bounds the load test.

// loadDurationEnv names the environment variable that bounds the load test.
const loadDurationEnv = "PLEX_MANAGER_LOAD_DURATION"

// loadDuration is how long the load test generates traffic.
func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	if v := os.Getenv(loadDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive Go duration such as 10s", loadDurationEnv, v)
		}
		return d
	}
	if testing.Short() {
		return 5 * time.Second
	}
	return 60 * time.Second
}

// relUser is the part of a user the reliability tests read.
type relUser struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Notes  string `json:"notes"`
	Shares map[string]struct {
		Libraries    []string `json:"libraries"`
		AllLibraries bool     `json:"all_libraries"`
	} `json:"shares"`
}

// keyAPI calls the REST API with a bearer key through c.
func keyAPI(t *testing.T, c *http.Client, key, method, path, body string) (int, string) {
	t.Helper()
	st, b, _ := do(t, c, method, "/manage/api/v1"+path, body, "Authorization", "Bearer "+key)
	return st, b
}

// libraryKeys waits until the app knows the server's libraries and returns their keys.
func libraryKeys(t *testing.T, key, machine string) []string {
	t.Helper()
	c := browser(t, nil)
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, body := keyAPI(t, c, key, "GET", "/servers/"+machine+"/libraries", "")
		last = fmt.Sprintf("%d %.200s", st, body)
		var libs []struct {
			Key  string `json:"key"`
			Type string `json:"type"`
		}
		if st == http.StatusOK && json.Unmarshal([]byte(body), &libs) == nil && len(libs) > 1 {
			var keys []string
			for _, l := range libs {
				keys = append(keys, l.Key)
			}
			return keys
		}
	}
	t.Fatalf("the server's libraries never showed: %s", last)
	return nil
}

// syncedFriends runs a sync and returns the friends with a share on machine.
func syncedFriends(t *testing.T, key, machine string) []relUser {
	t.Helper()
	c := browser(t, nil)
	if st, body := keyAPI(t, c, key, "POST", "/sync", ""); st != http.StatusOK {
		t.Fatalf("POST /sync: %d %.300s", st, body)
	}
	st, body := keyAPI(t, c, key, "GET", "/users?kind=friend&status=active&per_page=200&sort=username", "")
	var list struct {
		Users []relUser `json:"users"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil {
		t.Fatalf("GET /users: %d %.300s", st, body)
	}
	var out []relUser
	for _, u := range list.Users {
		if _, ok := u.Shares[machine]; ok {
			out = append(out, u)
		}
	}
	return out
}

// fakeLibraries returns the library keys the fake shares with user on machine (nil: no share; all
// keys for an all-libraries share).
func fakeLibraries(fake *plextest.Fake, machine string, user int64) ([]string, bool) {
	for _, sh := range fake.SharesFor(machine) {
		if sh.UserID != user {
			continue
		}
		keys := slices.Clone(sh.LibraryKeys)
		if sh.AllLibraries {
			for _, s := range fake.Servers() {
				if s.MachineID == machine {
					for _, l := range s.Libraries {
						keys = append(keys, l.Key)
					}
				}
			}
		}
		slices.Sort(keys)
		return slices.Compact(keys), true
	}
	return nil, false
}

// ---------------------------------------------------------------------------------------------
// Load

// classStats are the results of one kind of request.
type classStats struct {
	n        int
	statuses map[int]int
	errs     []string
	lat      []time.Duration
}

// loadStats collects results from the load workers.
type loadStats struct {
	mu      sync.Mutex
	classes map[string]*classStats
}

func (s *loadStats) add(class string, status int, err error, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.classes == nil {
		s.classes = map[string]*classStats{}
	}
	c := s.classes[class]
	if c == nil {
		c = &classStats{statuses: map[int]int{}}
		s.classes[class] = c
	}
	c.n++
	if err != nil {
		if len(c.errs) < 5 {
			c.errs = append(c.errs, err.Error())
		}
		c.statuses[0]++
		return
	}
	c.statuses[status]++
	c.lat = append(c.lat, d)
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// sourceIPKey carries the loopback address a public request is sent from.
type sourceIPKey struct{}

// publicTransport opens one connection per request from the address in the request's context,
// so the invite handler sees many different visitors (its rate limit is per address).
func publicTransport() *http.Transport {
	return &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ip, _ := ctx.Value(sourceIPKey{}).(net.IP)
			d := &net.Dialer{Timeout: 5 * time.Second}
			if ip != nil {
				d.LocalAddr = &net.TCPAddr{IP: ip}
			}
			return d.DialContext(ctx, "tcp4", strings.Replace(addr, "localhost", "127.0.0.1", 1))
		},
	}
}

// timedGet sends one GET and returns status and duration; the body is read and discarded.
func timedGet(ctx context.Context, c *http.Client, target string, headers ...string) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		return 0, 0, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), err
}

// ackedWrite is the last PATCH of a user the server acknowledged.
type ackedWrite struct {
	notes string
	libs  []string
	n     int
}

// TestReliabilityLoad drives mixed traffic through a real Caddy for loadDuration: public invite
// pages (valid and unknown codes) from many client addresses, admin pages and REST reads, and
// PATCHes of users (each pushed to the Plex fake), while the enforcement loop runs every second
// with expiries falling due during the run. It requires no 5xx, no transport error, no lost write
// (the last acknowledged PATCH of every user is what the API and the fake show afterwards) and
// every due expiry carried out on the fake, and reports the request rate and latencies.
func TestReliabilityLoad(t *testing.T) {
	duration := loadDuration(t)
	fake := plextest.NewServer(t, plextest.Options{Seed: plextest.SeedDemo(plextest.DemoOptions{Servers: 1, Friends: 40, HistoryDays: 30, Seed: 11})})
	const base = "/manage"
	machine := fake.Servers()[0].MachineID
	root := freshInstance(t, fake, nil, secOptions{base: base, extra: "enforce_every 1s\nsession_poll 2s"})
	key := createAPIKey(t, root, base, web.RoleAdmin)
	libs := libraryKeys(t, key, machine)
	friends := syncedFriends(t, key, machine)
	if len(friends) < 24 {
		t.Fatalf("only %d friends synced", len(friends))
	}
	writers, expiring := friends[:12], friends[12:20]
	_, code := createInvite(t, root, base, key, fake, "")
	libSets := [][]string{{libs[0]}, {libs[0], libs[1]}}

	// Expiries spread over the run: the enforcement loop revokes them while the load goes on.
	api := browser(t, nil)
	start := time.Now()
	lastExpiry := start
	for i, u := range expiring {
		at := start.Add(time.Duration(i+1) * duration / time.Duration(len(expiring)+1)).UTC().Truncate(time.Second).Add(time.Second)
		if at.After(lastExpiry) {
			lastExpiry = at
		}
		st, body := keyAPI(t, api, key, "PATCH", fmt.Sprintf("/users/%d", u.ID), fmt.Sprintf(`{"expires_at":%q}`, at.Format(time.RFC3339)))
		if st != http.StatusOK {
			t.Fatalf("setting the expiry of %d: %d %.300s", u.ID, st, body)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var stats loadStats
	var wg sync.WaitGroup
	var ipCounter atomic.Int64

	// Public visitors, one address each request (127.0.x.y, 5000 addresses in turn).
	public := &http.Client{Transport: publicTransport(), Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				n := ipCounter.Add(1)
				ip := net.IPv4(127, 0, byte(1+(n/250)%20), byte(1+n%250))
				rctx := context.WithValue(ctx, sourceIPKey{}, ip)
				class, target := "public invite page", baseURL+"/"+code
				if rng.IntN(100) < 15 {
					class, target = "public unknown code", fmt.Sprintf("%s/no-such-code-%d", baseURL, n)
				}
				st, d, err := timedGet(rctx, public, target)
				if ctx.Err() != nil {
					return
				}
				stats.add(class, st, err, d)
			}
		}(w)
	}

	// Admins reading: pages with a session, the API with a key.
	adminReads := []struct {
		class, path string
		session     bool
	}{
		{"admin users page", "/users", true},
		{"admin users page search", "/users?q=a&sort=username", true},
		{"admin dashboard", "/", true},
		{"API users list", "/api/v1/users?per_page=50", false},
		{"API user", fmt.Sprintf("/api/v1/users/%d", writers[0].ID), false},
		{"API status", "/api/v1/status", false},
		{"API events", "/api/v1/events?limit=50", false},
	}
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			keyClient := &http.Client{Timeout: 30 * time.Second}
			for i := w; ctx.Err() == nil; i++ {
				r := adminReads[i%len(adminReads)]
				var st int
				var d time.Duration
				var err error
				if r.session {
					st, d, err = timedGet(ctx, root, baseURL+base+r.path)
				} else {
					st, d, err = timedGet(ctx, keyClient, baseURL+base+r.path, "Authorization", "Bearer "+key)
				}
				if ctx.Err() != nil {
					return
				}
				stats.add(r.class, st, err, d)
			}
		}(w)
	}

	// Writers: one per user, so the order of a user's writes is known.
	acked := make([]ackedWrite, len(writers))
	for i, u := range writers {
		wg.Add(1)
		go func(i int, u relUser) {
			defer wg.Done()
			c := &http.Client{Timeout: 60 * time.Second}
			for n := 1; ctx.Err() == nil; n++ {
				set := libSets[n%2]
				notes := fmt.Sprintf("load-%d-%d", u.ID, n)
				libsJSON, _ := json.Marshal(set)
				body := fmt.Sprintf(`{"notes":%q,"libraries":{%q:%s}}`, notes, machine, libsJSON)
				req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s%s/api/v1/users/%d", baseURL, base, u.ID), strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				begin := time.Now()
				resp, err := c.Do(req)
				st := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					st = resp.StatusCode
				}
				stats.add("API PATCH user", st, err, time.Since(begin))
				if err == nil && st == http.StatusOK {
					acked[i] = ackedWrite{notes: notes, libs: set, n: n}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}(i, u)
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Figures.
	total, fiveXX, transport, tooMany := 0, 0, 0, 0
	classes := make([]string, 0, len(stats.classes))
	for name := range stats.classes {
		classes = append(classes, name)
	}
	sort.Strings(classes)
	var report strings.Builder
	fmt.Fprintf(&report, "load: %s of traffic, enforcement every 1s, %d expiries due during the run\n", duration, len(expiring))
	for _, name := range classes {
		c := stats.classes[name]
		slices.Sort(c.lat)
		total += c.n
		for st, n := range c.statuses {
			switch {
			case st == 0:
				transport += n
			case st >= 500:
				fiveXX += n
			case st == http.StatusTooManyRequests:
				tooMany += n
			}
		}
		fmt.Fprintf(&report, "  %-26s %6d req %7.1f req/s  p50 %-9s p95 %-9s p99 %-9s statuses %v\n", name, c.n,
			float64(c.n)/elapsed.Seconds(), percentile(c.lat, .5).Round(100*time.Microsecond),
			percentile(c.lat, .95).Round(100*time.Microsecond), percentile(c.lat, .99).Round(100*time.Microsecond), c.statuses)
		for _, e := range c.errs {
			fmt.Fprintf(&report, "    error: %s\n", e)
		}
	}
	fmt.Fprintf(&report, "  total %d requests in %s: %.1f req/s; 5xx %d, transport errors %d, 429 %d", total, elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), fiveXX, transport, tooMany)
	t.Log(report.String())

	if fiveXX > 0 || transport > 0 {
		t.Errorf("%d answers were 5xx and %d requests failed", fiveXX, transport)
	}
	if tooMany > 0 {
		t.Errorf("%d public requests were rate limited although each address made few", tooMany)
	}
	for name, c := range stats.classes {
		want := http.StatusOK
		if name == "public unknown code" {
			want = http.StatusNotFound
		}
		for st, n := range c.statuses {
			if st != want && st < 500 && st != 0 && st != http.StatusTooManyRequests {
				t.Errorf("%s: %d answers %d, want %d", name, n, st, want)
			}
		}
		if c.n == 0 {
			t.Errorf("%s: no request completed", name)
		}
	}

	// No lost write: the API and the fake show every user's last acknowledged PATCH.
	for i, u := range writers {
		a := acked[i]
		if a.n == 0 {
			t.Errorf("user %d: no PATCH was acknowledged", u.ID)
			continue
		}
		st, body := keyAPI(t, api, key, "GET", fmt.Sprintf("/users/%d", u.ID), "")
		var got relUser
		if st != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
			t.Errorf("GET user %d: %d", u.ID, st)
			continue
		}
		gotLibs := slices.Sorted(slices.Values(got.Shares[machine].Libraries))
		if got.Notes != a.notes || !slices.Equal(gotLibs, a.libs) {
			t.Errorf("user %d: the API shows notes %q libraries %v, the last acknowledged write (#%d) was %q %v", u.ID, got.Notes, gotLibs, a.n, a.notes, a.libs)
		}
		if fl, ok := fakeLibraries(fake, machine, u.ID); !ok || !slices.Equal(fl, a.libs) {
			t.Errorf("user %d: Plex shares %v (%v), the last acknowledged write was %v", u.ID, fl, ok, a.libs)
		}
	}
	// Every expiry was carried out (allow a few passes after the last one).
	for deadline := lastExpiry.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		left := 0
		for _, u := range expiring {
			if _, ok := fakeLibraries(fake, machine, u.ID); ok {
				left++
			}
		}
		if left == 0 {
			break
		}
	}
	for _, u := range expiring {
		if _, ok := fakeLibraries(fake, machine, u.ID); ok {
			t.Errorf("user %d expired during the run but is still shared on Plex", u.ID)
		}
		st, body := keyAPI(t, api, key, "GET", fmt.Sprintf("/users/%d", u.ID), "")
		var got relUser
		if st != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.Status != "expired" {
			t.Errorf("user %d after the expiry: %d status %q", u.ID, st, got.Status)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Plex failures

// TestReliabilityPlexFaults makes the Plex fake fail in the ways Plex does — 5xx, 429, no answer,
// 410 for a retired route — while users are edited, and checks that the API and the pages say
// what happened in plain words (no bare 500), that nothing is lost (a change Plex could not take
// is kept and carried out by the enforcement loop once Plex answers, after its backoff of a
// minute), that a failing or empty sync deletes nobody, and that edits work again afterwards.
func TestReliabilityPlexFaults(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{Seed: plextest.SeedDemo(plextest.DemoOptions{Servers: 1, Friends: 10, HistoryDays: 30, Seed: 5})})
	const base = "/manage"
	machine := fake.Servers()[0].MachineID
	root := freshInstance(t, fake, nil, secOptions{base: base, extra: "enforce_every 1s"})
	key := createAPIKey(t, root, base, web.RoleAdmin)
	libs := libraryKeys(t, key, machine)
	friends := syncedFriends(t, key, machine)
	api := browser(t, nil)
	const shareRoute = "POST /api/v2/shared_servers/{id}"
	faults := []struct {
		name    string
		inject  func()
		wantAPI []int
		words   []string // the message names one of them
		slow    bool
	}{
		{"Plex 500", func() { fake.Inject(plextest.Fault{Route: shareRoute, Status: 500, Body: "boom"}) },
			[]int{http.StatusAccepted}, []string{"retried"}, false},
		{"Plex 503 on every share route", func() {
			fake.Inject(plextest.Fault{Route: shareRoute, Status: 503})
			fake.Inject(plextest.Fault{Route: "PUT /api/servers/{machineId}/shared_servers/{id}", Status: 503})
		}, []int{http.StatusAccepted}, []string{"retried"}, false},
		{"plex.tv 429", func() {
			fake.Inject(plextest.Fault{Route: shareRoute, Status: 429, Body: `{"errors":[{"code":1003,"message":"Too many requests"}]}`})
		}, []int{http.StatusAccepted}, []string{"limiting", "retried"}, false},
		{"no answer", func() { fake.Inject(plextest.Fault{Route: shareRoute, Hang: true}) },
			[]int{http.StatusAccepted}, []string{"reached", "retried"}, true},
		{"410 retired route", func() { fake.Retire(shareRoute) },
			[]int{http.StatusOK, http.StatusUnprocessableEntity}, []string{"retired"}, false},
	}
	if len(friends) < len(faults) {
		t.Fatalf("only %d friends synced", len(friends))
	}
	type waiting struct {
		name string
		user int64
		want []string
	}
	var retried []waiting
	var lastClear time.Time
	for i, f := range faults {
		user := friends[i].ID
		cur, _ := fakeLibraries(fake, machine, user)
		want := []string{libs[0]}
		if slices.Equal(cur, want) {
			want = []string{libs[1]}
		}
		body := fmt.Sprintf(`{"libraries":{%q:[%q]}}`, machine, want[0])
		fake.ResetCalls()
		f.inject()
		begin := time.Now()
		st, answer := keyAPI(t, api, key, "PATCH", fmt.Sprintf("/users/%d", user), body)
		took := time.Since(begin)
		var calls []string
		for _, c := range fake.Calls() {
			calls = append(calls, fmt.Sprintf("%s→%d@%s", c.Route, c.Status, c.At.Sub(begin).Round(time.Millisecond)))
		}
		t.Logf("%s: PATCH answered %d after %s: %.200s\n\tPlex calls: %s", f.name, st, took.Round(time.Millisecond), answer, strings.Join(calls, ", "))
		if !slices.Contains(f.wantAPI, st) {
			t.Errorf("%s: PATCH = %d %.300s, want one of %v", f.name, st, answer, f.wantAPI)
		}
		if st != http.StatusOK {
			var msg struct{ Error, Message string }
			_ = json.Unmarshal([]byte(answer), &msg)
			text := strings.ToLower(msg.Error + msg.Message)
			if text == "" || strings.Contains(text, "internal server error") || !slices.ContainsFunc(f.words, func(w string) bool { return strings.Contains(text, w) }) {
				t.Errorf("%s: the message %q does not say what happened", f.name, text)
			}
		}
		// Reverse proxies in front of Caddy commonly give up after 60 s (nginx's proxy_read_timeout),
		// so an answer must come well before; the change is kept and retried anyway.
		if limit := map[bool]time.Duration{false: 10 * time.Second, true: 45 * time.Second}[f.slow]; took > limit {
			t.Errorf("%s: PATCH took %s (limit %s) before answering", f.name, took.Round(time.Millisecond), limit)
		}
		// The user page says it too (the API's change is still waiting, or Plex is still failing).
		if st != http.StatusOK {
			pst, page, _ := do(t, root, "POST", fmt.Sprintf("%s/users/%d/libraries", base, user), url.Values{"server": {machine}, "lib": {machine + "/" + libs[len(libs)-1]}})
			if (pst >= 500 && pst != http.StatusBadGateway) || strings.Contains(page, "Something went wrong") || !strings.Contains(page, "flash") {
				t.Errorf("%s: the user page answered %d without a message", f.name, pst)
			}
		}
		fake.ClearFaults()
		fake.Unretire(shareRoute)
		lastClear = time.Now()
		switch st {
		case http.StatusAccepted:
			retried = append(retried, waiting{f.name, user, want})
		case http.StatusOK:
			if got, _ := fakeLibraries(fake, machine, user); !slices.Equal(got, want) {
				t.Errorf("%s: answered 200 but Plex shares %v, want %v", f.name, got, want)
			}
		}
	}

	// Plex answers again: the enforcement loop carries out every kept change by itself, after
	// the first retry's backoff (a minute).
	deadline := time.Now().Add(150 * time.Second)
	for _, w := range retried {
		var got []string
		for time.Now().Before(deadline) {
			if got, _ = fakeLibraries(fake, machine, w.user); slices.Equal(got, w.want) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if !slices.Equal(got, w.want) {
			t.Errorf("%s: the kept change never reached Plex: it shares %v, want %v", w.name, got, w.want)
		}
	}
	t.Logf("the %d kept changes reached Plex within %s of the last fault's end", len(retried), time.Since(lastClear).Round(time.Second))
	// And edits work at once again.
	for i := range faults {
		user := friends[i].ID
		st, answer := keyAPI(t, api, key, "PATCH", fmt.Sprintf("/users/%d", user), fmt.Sprintf(`{"libraries":{%q:[%q,%q]}}`, machine, libs[0], libs[1]))
		want := slices.Sorted(slices.Values([]string{libs[0], libs[1]}))
		if got, _ := fakeLibraries(fake, machine, user); st != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("%s: PATCH after recovery = %d %.200s; Plex shares %v", faults[i].name, st, answer, got)
		}
	}

	// A failing or empty sync removes nobody and says why.
	before := len(syncedFriends(t, key, machine))
	for _, fl := range []plextest.Fault{
		{Route: "GET /api/users", Status: 500},
		{Route: "GET /api/users", Status: 429},
		{Route: "GET /api/users", Status: 200, Body: `<MediaContainer size="0"></MediaContainer>`},
	} {
		fake.Inject(fl)
		st, body := keyAPI(t, api, key, "POST", "/sync", "")
		fake.ClearFaults()
		t.Logf("sync with GET /api/users answering %d %q: %d %.200s", fl.Status, fl.Body, st, body)
		if st >= 500 && st != http.StatusBadGateway {
			t.Errorf("sync during a Plex %d: %d", fl.Status, st)
		}
		if after := len(syncedFriends(t, key, machine)); after != before {
			t.Errorf("a sync with Plex answering %d %q changed the friends from %d to %d", fl.Status, fl.Body, before, after)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Full disk

// TestReliabilityDiskFull runs the release binary with its data directory on a 128 MiB tmpfs and
// fills the file system from outside. Writes must then fail with 507 and a clear message (the store's
// free-space guard refuses them before Badger's memory-mapped files could take SIGBUS, which used to
// kill Caddy), reads and the status keep working, Caddy stops cleanly and starts again on the full
// disk, and once space is freed nothing acknowledged is missing and writes work. Mounting needs root
// (CAP_SYS_ADMIN); elsewhere the test is skipped and says so.
func TestReliabilityDiskFull(t *testing.T) {
	mnt := testDir(t, "tmpfs")
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=128m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the full-disk test needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	bin := buildCaddy(t)
	fake := plextest.NewServer(t, plextest.Options{})
	adminPort, httpPort := freePort(t), freePort(t)
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	site := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	const apiKey = "diskfull-key-0123456789abcdef0123"
	dataDir := filepath.Join(mnt, "pm")
	config := fmt.Sprintf(`{
	admin %s
	http_port %d
	persist_config off
	plex_manager {
		data_dir %s
		public_url %s
		api_key %s
		plex {
			token %s
			server %s
			tv_url %s
			auth_url %s
		}
	}
}

%s {
	plex_manager admin
}
`, admin, httpPort, dataDir, site, apiKey, fake.OwnerToken(), fake.ServerURL(plextest.MinimalMachineID), fake.TVURL(), fake.AuthURL(), site)
	call := func(method, path, body string) (int, string, error) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, site+"/api/v1"+path, rd)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	createInv := func(label string) (int, string, error) {
		return call("POST", "/invites", fmt.Sprintf(`{"label":%q,"libraries":{%q:["4"]}}`, label, plextest.MinimalMachineID))
	}
	// crashed reports the fatal part of a Caddy log, or "" when the process did not die of a fault.
	crashed := func(logFile string) string {
		out, _ := os.ReadFile(logFile)
		text := string(out)
		for _, marker := range []string{"\nunexpected fault address", "\nfatal error", "\npanic:", "SIGBUS"} {
			if i := strings.Index(text, marker); i >= 0 {
				return text[i:min(len(text), i+3000)]
			}
		}
		return ""
	}
	// refusedWrites makes n invite writes on the full disk and checks each is refused with 507 and
	// a message that says the disk is full.
	refusedWrites := func(phase string, n int) {
		t.Helper()
		for i := range n {
			st, body, err := createInv(fmt.Sprintf("%s-%d", phase, i))
			if err != nil {
				t.Fatalf("%s: Caddy stopped answering on a full disk: %v", phase, err)
			}
			if st != http.StatusInsufficientStorage || !strings.Contains(body, "disk is full") {
				t.Fatalf("%s: a write on a full disk answered %d %.300s; want 507 saying the disk is full", phase, st, body)
			}
		}
		for _, path := range []string{"/invites", "/status"} {
			if st, body, err := call("GET", path, ""); err != nil || st != http.StatusOK {
				t.Errorf("%s: GET %s on a full disk: %d %v %.200s", phase, path, st, err, body)
			}
		}
	}

	log1 := filepath.Join(testDir(t, "stderr"), "caddy.log")
	stop := startCaddyLogged(t, bin, config, admin, log1)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	// Acknowledged writes before the disk fills.
	var acked []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && len(acked) < 5; time.Sleep(100 * time.Millisecond) {
		label := fmt.Sprintf("before-%d", len(acked))
		if st, _, err := createInv(label); err == nil && st == http.StatusCreated {
			acked = append(acked, label)
		}
	}
	if len(acked) < 5 {
		t.Fatalf("could not create invites before filling the disk: %d", len(acked))
	}
	if _, err := os.Stat(filepath.Join(dataDir, "db", "plex-manager.reserve")); err != nil {
		t.Errorf("no reserve file in the data directory: %v", err)
	}

	// Another program fills the file system.
	filler := filepath.Join(mnt, "filler")
	fillUp := func() {
		f, err := os.OpenFile(filler, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		chunk := make([]byte, 64<<10)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the tmpfs: %v", err)
				}
				return
			}
		}
	}
	fillUp()
	refusedWrites("full", 20)
	// The first refusal released the reserve file (the disk was exhausted); the filler takes that
	// too, so the disk is at zero while Caddy runs and when it stops.
	fillUp()
	var sfs syscall.Statfs_t
	_ = syscall.Statfs(mnt, &sfs)
	t.Logf("tmpfs full: %d bytes free", sfs.Bavail*uint64(sfs.Bsize))
	refusedWrites("exhausted", 20)
	// The admin endpoint's status and metrics say so.
	if resp, err := http.Get("http://" + admin + "/plex_manager/status"); err != nil {
		t.Errorf("status on a full disk: %v", err)
	} else {
		var st struct {
			Disk      storage.DiskSpace `json:"disk"`
			DiskAlert string            `json:"disk_alert"`
		}
		err := json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || !st.Disk.RefusingWrites() || !strings.Contains(st.DiskAlert, "The data disk is full") {
			t.Errorf("status on a full disk: %+v %v", st, err)
		}
	}
	if resp, err := http.Get("http://" + admin + "/metrics"); err != nil {
		t.Errorf("metrics on a full disk: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "plex_manager_data_disk_free_bytes 0") || !strings.Contains(string(b), "plex_manager_data_disk_min_free_bytes 6.7108864e+07") {
			t.Errorf("metrics on a full disk lack the disk gauges:\n%.500s", grepLines(string(b), "data_disk"))
		}
	}
	if fatal := crashed(log1); fatal != "" {
		t.Fatalf("Caddy faulted on the full disk:\n%s", fatal)
	}

	// Stopping on the full disk is clean (Badger flushes its memtable on close).
	stop()
	stopped = true
	if fatal := crashed(log1); fatal != "" {
		t.Fatalf("Caddy faulted while stopping on a full disk:\n%s", fatal)
	}
	if _, err := storage.Verify(filepath.Join(dataDir, "db")); err == nil {
		t.Log("the store verifies on the full disk")
	} else if !errors.Is(err, storage.ErrDiskFull) {
		t.Errorf("verify on the full disk: %v, want ErrDiskFull or success", err)
	}

	// Closing released the reserve file: with that space Caddy starts on the full disk, serves reads
	// and refuses writes.
	log2 := filepath.Join(testDir(t, "stderr2"), "caddy.log")
	stop = startCaddyLogged(t, bin, config, admin, log2)
	refusedWrites("restarted", 5)
	stop()
	if fatal := crashed(log2); fatal != "" {
		t.Fatalf("Caddy faulted after a restart on a full disk:\n%s", fatal)
	}

	// Another program takes that space too: starting now fails with a message that says the disk
	// is full, not with a fault.
	fillUp()
	runDir := testDir(t, "run-full")
	cfg := filepath.Join(runDir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	run.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(runDir, "config"), "XDG_DATA_HOME="+filepath.Join(runDir, "data"))
	out, err := run.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Errorf("caddy run on a full disk did not exit within a minute:\n%.2000s", out)
	case err == nil:
		t.Errorf("caddy run on a full disk exited 0:\n%.2000s", out)
	case strings.Contains(string(out), "SIGBUS") || strings.Contains(string(out), "fatal error"):
		t.Errorf("caddy run on a full disk faulted:\n%.3000s", out)
	case !strings.Contains(string(out), "data disk is full"):
		t.Errorf("caddy run on a full disk failed without saying the disk is full: %v\n%.2000s", err, out)
	default:
		msg := string(out)
		msg = msg[strings.Index(msg, "data disk is full"):]
		t.Logf("caddy run on the full disk refused to start (%v): ...%.300s", err, msg)
	}

	// Free the space and restart: the store opens, nothing acknowledged is missing, writes work.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Verify(filepath.Join(dataDir, "db")); err != nil {
		t.Errorf("the store does not verify after the full disk: %v", err)
	}
	log3 := filepath.Join(testDir(t, "stderr3"), "caddy.log")
	stop = startCaddyLogged(t, bin, config, admin, log3)
	stopped = false
	st, body, err := call("GET", "/invites", "")
	if err != nil || st != http.StatusOK {
		t.Fatalf("GET /invites after the restart: %d %v", st, err)
	}
	for _, label := range acked {
		if !strings.Contains(body, `"label":"`+label+`"`) {
			t.Errorf("the acknowledged invite %q is missing after the restart", label)
		}
	}
	if strings.Contains(body, `"label":"full-`) || strings.Contains(body, `"label":"exhausted-`) {
		t.Error("an invite refused on the full disk is in the store after the restart")
	}
	if st, body, err := createInv("after-restart"); err != nil || st != http.StatusCreated {
		t.Errorf("a write after the restart: %d %v %.200s", st, err, body)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "db", "plex-manager.reserve")); err != nil {
		t.Errorf("the reserve file was not allocated again after space was freed: %v", err)
	}
}

// startCaddyLogged runs `caddy run` like startCaddy, with its output in logFile (kept after a
// crash, for the report), and waits for the admin endpoint at admin. stop interrupts it.
func startCaddyLogged(t *testing.T, bin, caddyfile, admin, logFile string) (stop func()) {
	t.Helper()
	dir := testDir(t, "run")
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	done := false
	stop = func() {
		if done {
			return
		}
		done = true
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("caddy did not stop on SIGINT")
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get("http://" + admin + "/plex_manager/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logFile)
			t.Fatalf("caddy exited early: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			b, _ := os.ReadFile(logFile)
			t.Fatalf("caddy did not come up:\n%s", b)
		}
	}
}

// grepLines returns the lines of text that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
