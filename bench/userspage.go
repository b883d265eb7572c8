package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// usersPageTarget is the goal: the users page answers within this server time at the
// 95th percentile with 10,000 users.
const usersPageTarget = 25 * time.Millisecond

// usersBase is where the admin handler is mounted (base_path), as in the README's two-mount setup.
const usersBase = "/manage"

// usersResultsTarget is the id of the users list's results block (handlers/users): an htmx request
// aimed at it gets only that fragment.
const usersResultsTarget = "user-results"

// benchHeader tags every measured request; Caddy's access log records it, which ties each log
// entry to its surface and query class.
const benchHeader = "X-Bench"

// pageSurface is one way of asking for the users list.
type pageSurface int

// The surfaces, in table order.
const (
	surfacePage pageSurface = iota
	surfaceFragment
	surfaceAPI
	surfaceCount
)

func (s pageSurface) String() string {
	switch s {
	case surfacePage:
		return "page `GET " + usersBase + "/users` (session)"
	case surfaceFragment:
		return "htmx results fragment (session)"
	case surfaceAPI:
		return "API `GET " + usersBase + "/api/v1/users` (key)"
	}
	return "surface " + strconv.Itoa(int(s))
}

// usersQuery is one list request's query string ("" or starting with "?") and its class.
type usersQuery struct {
	class, query string
}

// usersQueryClasses are the classes of usersQueryMix, in table order.
var usersQueryClasses = []string{"first page", "page k", "status + sort by expiry", "search a username",
	"search notes, sort by activity", "library filter, sort by activity", "kind, 100 per page",
	"server + library, sort by creation", "status expired, sort by title desc", "search without a match"}

// usersQueryMix draws one request of the mix over a store of n users: shallow and deep pages,
// every filter, every sort, searches, 50 and 100 per page. Pages stay within the matches.
func usersQueryMix(rng *rand.Rand, n int) usersQuery {
	pages := max(1, n/50)
	page := func(share int) int { return rng.IntN(max(1, pages/share)) + 1 }
	class := rng.IntN(len(usersQueryClasses))
	var q string
	switch class {
	case 0:
		q = ""
	case 1:
		q = fmt.Sprintf("?page=%d", page(1))
	case 2:
		q = fmt.Sprintf("?status=active&sort=-expires_at&page=%d", page(3))
	case 3:
		q = fmt.Sprintf("?q=user%04d", rng.IntN(max(1, n/10)))
	case 4:
		q = "?q=yearly&sort=last_activity_at"
	case 5:
		q = fmt.Sprintf("?library=%s/8&sort=-last_activity_at&page=%d", pageServerA, page(3))
	case 6:
		q = fmt.Sprintf("?kind=friend&per_page=100&page=%d", rng.IntN(max(1, n/100))+1)
	case 7:
		q = fmt.Sprintf("?server=%s&library=1&sort=created_at&page=%d", pageServerA, page(5))
	case 8:
		q = fmt.Sprintf("?status=expired&sort=-title&page=%d", page(8))
	default:
		q = "?q=nobody-matches-this"
	}
	return usersQuery{class: usersQueryClasses[class], query: q}
}

// adminSite is the in-process Caddy config of the users-page benchmark: the plex_manager app
// (no Plex connection, background loops slowed down) and one server with the admin handler at
// usersBase, whose access log goes to a JSON file.
type adminSite struct {
	dataDir    string
	storageDir string
	accessLog  string
	port       int
}

// configJSON is the Caddy JSON config.
func (s adminSite) configJSON() ([]byte, error) {
	cfg := map[string]any{
		"admin": map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{
			"default": map[string]any{"level": "ERROR", "exclude": []string{"http.log.access"}},
			"bench_access": map[string]any{
				"writer":  map[string]any{"output": "file", "filename": s.accessLog},
				"encoder": map[string]any{"format": "json"},
				"level":   "INFO",
				"include": []string{"http.log.access"},
			},
		}},
		"storage": map[string]any{"module": "file_system", "root": s.storageDir},
		"apps": map[string]any{
			"plex_manager": map[string]any{"data_dir": s.dataDir, "sync_every": "24h", "enforce_every": "24h",
				"session_poll": "24h"},
			"http": map[string]any{"servers": map[string]any{
				"admin": map[string]any{
					"listen":          []string{"127.0.0.1:" + strconv.Itoa(s.port)},
					"automatic_https": map[string]any{"disable": true},
					"logs":            map[string]any{},
					"routes": []any{map[string]any{
						"match":  []any{map[string]any{"path": []string{usersBase + "/*"}}},
						"handle": []any{map[string]any{"handler": "plex_manager", "mode": "admin", "base_path": usersBase}},
					}},
				},
			}},
		},
	}
	return json.Marshal(cfg)
}

// pageClient is one keep-alive client of the admin site, signed in with a session and holding an
// API key.
type pageClient struct {
	base    string // http://127.0.0.1:port/manage
	client  *http.Client
	cookies []*http.Cookie
	apiKey  string
}

// newPageClient returns a client of the site at base (loopback only).
func newPageClient(base, apiKey string) (*pageClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("load is only sent to 127.0.0.1, not %q", u.Hostname())
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, DisableCompression: true, IdleConnTimeout: time.Minute}
	return &pageClient{base: base, apiKey: apiKey, client: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// signIn posts the sign-in form and keeps the session cookie.
func (pc *pageClient) signIn(ctx context.Context, username, password string) error {
	form := url.Values{"username": {username}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pc.base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := pc.client.Do(req)
	if err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("signing in: status %d, want 303", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "pm_session") && c.Value != "" {
			pc.cookies = resp.Cookies()
			return nil
		}
	}
	return errors.New("signing in: no session cookie in the answer")
}

// get asks for the users list on surface s with query q; tag goes into benchHeader. anonymous
// sends neither the session nor the key.
func (pc *pageClient) get(ctx context.Context, s pageSurface, q, tag string, anonymous bool) (int, []byte, error) {
	path := "/users"
	if s == surfaceAPI {
		path = "/api/v1/users"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pc.base+path+q, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set(benchHeader, tag)
	switch {
	case anonymous:
	case s == surfaceAPI:
		req.Header.Set("Authorization", "Bearer "+pc.apiKey)
	default:
		for _, c := range pc.cookies {
			req.AddCookie(c)
		}
	}
	if s == surfaceFragment {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", usersResultsTarget)
	}
	resp, err := pc.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s%s: %w", path, q, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading GET %s%s: %w", path, q, err)
	}
	return resp.StatusCode, body, nil
}

// probeUsersSite checks, before the load, that the site serves what the benchmark means to
// measure: the API lists all n users, the page is a whole HTML page and the fragment is not,
// and nothing is served without credentials.
func probeUsersSite(ctx context.Context, pc *pageClient, n int) (pageBytes, fragmentBytes int, err error) {
	st, body, err := pc.get(ctx, surfaceAPI, "?per_page=1", "probe", false)
	if err != nil {
		return 0, 0, err
	}
	var list struct {
		Total int `json:"total"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &list) != nil || list.Total != n {
		return 0, 0, fmt.Errorf("API list answered %d with total %d, want 200 and %d users", st, list.Total, n)
	}
	st, page, err := pc.get(ctx, surfacePage, "", "probe", false)
	if err != nil {
		return 0, 0, err
	}
	if st != http.StatusOK || !strings.Contains(strings.ToLower(string(page)), "<html") {
		return 0, 0, fmt.Errorf("the users page answered %d with %d bytes, want a 200 HTML page", st, len(page))
	}
	st, frag, err := pc.get(ctx, surfaceFragment, "", "probe", false)
	if err != nil {
		return 0, 0, err
	}
	if st != http.StatusOK || strings.Contains(strings.ToLower(string(frag)), "<html") || len(frag) >= len(page) {
		return 0, 0, fmt.Errorf("the htmx fragment answered %d with %d bytes (page %d), want a 200 fragment", st, len(frag), len(page))
	}
	for _, s := range []pageSurface{surfacePage, surfaceAPI} {
		if st, _, err := pc.get(ctx, s, "", "probe", true); err != nil || st == http.StatusOK {
			return 0, 0, fmt.Errorf("%s without credentials answered %d (%v), want a refusal", s, st, err)
		}
	}
	return len(page), len(frag), nil
}

// surfaceRun is one surface's measurement at one size.
type surfaceRun struct {
	requests int
	bytes    int64
	rtt      []time.Duration
	cpu      time.Duration
	// cpuMissing is set when a CPU reading failed (the CPU column then stays empty).
	cpuMissing bool
	server     []time.Duration // from the access log
}

// cpuPerRequest is the process CPU time per measured request, ok false when unknown.
func (sr surfaceRun) cpuPerRequest() (time.Duration, bool) {
	if sr.cpuMissing || sr.requests == 0 {
		return 0, false
	}
	return sr.cpu / time.Duration(sr.requests), true
}

// usersPageRun is one size's measurement.
type usersPageRun struct {
	users           int
	surfaces        [surfaceCount]surfaceRun
	byClass         map[string][]time.Duration // server times, every surface
	examples        map[string]string
	pageBytes       int
	fragmentBytes   int
	seedTime, login time.Duration
}

// usersBlock is how many requests in a row go to one surface; blocks rotate over the surfaces in
// A B C C B A order so that drift spreads evenly, and each block's process CPU time is charged to
// its surface.
const usersBlock = 20

// loadUsersPage sends the mix for at least d (and at least three rounds of blocks), after one
// unmeasured round.
func loadUsersPage(ctx context.Context, pc *pageClient, run *usersPageRun, d time.Duration) error {
	rng := rand.New(rand.NewPCG(3, 4))
	order := []pageSurface{surfacePage, surfaceFragment, surfaceAPI}
	block := func(s pageSurface, measured bool) error {
		sr := &run.surfaces[s]
		cpu0, ok0 := processCPU()
		for range usersBlock {
			q := usersQueryMix(rng, run.users)
			tag := "warmup"
			if measured {
				tag = strconv.Itoa(int(s)) + "|" + q.class
				if _, ok := run.examples[q.class]; !ok {
					run.examples[q.class] = q.query
				}
			}
			t0 := time.Now()
			st, body, err := pc.get(ctx, s, q.query, tag, false)
			rtt := time.Since(t0)
			if err != nil {
				return err
			}
			if st != http.StatusOK || len(body) == 0 {
				return fmt.Errorf("%s%s answered %d with %d bytes", s, q.query, st, len(body))
			}
			if measured {
				sr.requests++
				sr.bytes += int64(len(body))
				sr.rtt = append(sr.rtt, rtt)
			}
		}
		if measured {
			cpu, ok := cpuSince(cpu0, ok0)
			sr.cpu += cpu
			sr.cpuMissing = sr.cpuMissing || !ok
		}
		return nil
	}
	for _, s := range order {
		if err := block(s, false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	start := time.Now()
	for round := 0; round < 3 || time.Since(start) < d; round++ {
		for i := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			s := order[i]
			if round%2 == 1 {
				s = order[len(order)-1-i]
			}
			if err := block(s, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// accessEntry is one request of Caddy's access log.
type accessEntry struct {
	tag      string
	status   int
	duration time.Duration
}

// parseAccessLog reads the access log entries (JSON lines of the http.log.access loggers; other
// lines are skipped). duration is Caddy's time from the request's arrival to the handler's return,
// logged in seconds (a number) or as a Go duration string.
func parseAccessLog(r io.Reader) ([]accessEntry, error) {
	var out []accessEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		var e struct {
			Logger  string `json:"logger"`
			Request struct {
				Headers map[string][]string `json:"headers"`
			} `json:"request"`
			Duration json.RawMessage `json:"duration"`
			Status   int             `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("access log line %d: %w", line, err)
		}
		if !strings.HasPrefix(e.Logger, "http.log.access") {
			continue
		}
		d, err := parseLogDuration(e.Duration)
		if err != nil {
			return nil, fmt.Errorf("access log line %d: %w", line, err)
		}
		var tag string
		if vs := e.Request.Headers[benchHeader]; len(vs) > 0 {
			tag = vs[0]
		}
		out = append(out, accessEntry{tag: tag, status: e.Status, duration: d})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the access log: %w", err)
	}
	return out, nil
}

// parseLogDuration reads a logged duration: seconds as a number, or a Go duration string.
func parseLogDuration(raw json.RawMessage) (time.Duration, error) {
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		if secs < 0 {
			return 0, fmt.Errorf("negative duration %v", secs)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("duration %s is neither seconds nor a duration string", raw)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("duration %q: %v", s, err)
	}
	return d, nil
}

// attributeServerTimes puts the logged server times of the measured requests into run and checks
// that every measured request is in the log with status 200.
func attributeServerTimes(entries []accessEntry, run *usersPageRun) error {
	for _, e := range entries {
		si, class, ok := strings.Cut(e.tag, "|")
		if !ok {
			continue // sign-in, probes, warm-up
		}
		s, err := strconv.Atoi(si)
		if err != nil || s < 0 || s >= int(surfaceCount) {
			return fmt.Errorf("access log: unexpected tag %q", e.tag)
		}
		if e.status != http.StatusOK {
			return fmt.Errorf("access log: a measured request (%s) has status %d", e.tag, e.status)
		}
		run.surfaces[s].server = append(run.surfaces[s].server, e.duration)
		run.byClass[class] = append(run.byClass[class], e.duration)
	}
	for s := range surfaceCount {
		if got, want := len(run.surfaces[s].server), run.surfaces[s].requests; got != want {
			return fmt.Errorf("access log has %d measured requests of %s, the client sent %d", got, s, want)
		}
	}
	return nil
}

// measureUsersPage seeds n users, starts Caddy, signs in, loads the mix for d and reads the
// server times from the access log.
func measureUsersPage(ctx context.Context, n int, d time.Duration) (usersPageRun, error) {
	run := usersPageRun{users: n, byClass: map[string][]time.Duration{}, examples: map[string]string{}}
	dir, err := os.MkdirTemp("", "plex-manager-bench-users-")
	if err != nil {
		return run, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := isolateCaddy(filepath.Join(dir, "xdg")); err != nil {
		return run, err
	}
	site := adminSite{dataDir: filepath.Join(dir, "pm"), storageDir: filepath.Join(dir, "caddy-storage"),
		accessLog: filepath.Join(dir, "access.log")}
	t0 := time.Now()
	creds, err := seedUsersPage(ctx, filepath.Join(site.dataDir, "db"), n, time.Now().UTC())
	if err != nil {
		return run, err
	}
	run.seedTime = time.Since(t0)
	ports, err := freePorts(1)
	if err != nil {
		return run, err
	}
	site.port = ports[0]
	cfg, err := site.configJSON()
	if err != nil {
		return run, fmt.Errorf("encoding the Caddy config: %w", err)
	}
	if err := loadCaddyJSON(cfg); err != nil {
		return run, err
	}
	running := true
	defer func() {
		if running {
			_ = stopCaddy()
		}
	}()
	pc, err := newPageClient("http://127.0.0.1:"+strconv.Itoa(site.port)+usersBase, creds.apiKey)
	if err != nil {
		return run, err
	}
	defer pc.client.CloseIdleConnections()
	t0 = time.Now()
	if err := pc.signIn(ctx, creds.username, creds.password); err != nil {
		return run, err
	}
	run.login = time.Since(t0)
	if run.pageBytes, run.fragmentBytes, err = probeUsersSite(ctx, pc, n); err != nil {
		return run, err
	}
	if err := loadUsersPage(ctx, pc, &run, d); err != nil {
		return run, err
	}
	pc.client.CloseIdleConnections()
	running = false
	if err := stopCaddy(); err != nil { // closes the access log
		return run, err
	}
	f, err := os.Open(site.accessLog)
	if err != nil {
		return run, fmt.Errorf("opening the access log: %w", err)
	}
	defer f.Close()
	entries, err := parseAccessLog(f)
	if err != nil {
		return run, err
	}
	return run, attributeServerTimes(entries, &run)
}

// benchUsersPage measures the users page, its htmx fragment and the API at every size of
// c.usersSizes.
func benchUsersPage(ctx context.Context, c config, log io.Writer) (result, error) {
	var runs []usersPageRun
	for _, n := range c.usersSizes {
		r, err := measureUsersPage(ctx, n, c.usersTime)
		if err != nil {
			return result{}, fmt.Errorf("%d users: %w", n, err)
		}
		runs = append(runs, r)
		fmt.Fprintf(log, "  %d users: page p95 %s, fragment p95 %s, API p95 %s (server time)\n", n,
			fmtDur(summarize(r.surfaces[surfacePage].server).p95), fmtDur(summarize(r.surfaces[surfaceFragment].server).p95),
			fmtDur(summarize(r.surfaces[surfaceAPI].server).p95))
	}
	return usersPageResult(c, runs), nil
}

// usersPageResult builds the section from the runs.
func usersPageResult(c config, runs []usersPageRun) result {
	t := table{header: []string{"users", "surface", "requests", "server p50", "server p95", "server p99", "server max",
		"round trip p50", "round trip p95", "mean body", "process CPU / request", "p95 < 25 ms"}}
	var over []string
	for _, r := range runs {
		for s := range surfaceCount {
			sr := r.surfaces[s]
			srv, rtt := summarize(sr.server), summarize(sr.rtt)
			cpu := "n/a"
			if per, ok := sr.cpuPerRequest(); ok {
				cpu = fmtDur(per)
			}
			verdict := "yes"
			if srv.p95 >= usersPageTarget {
				verdict = "**no**"
				over = append(over, fmt.Sprintf("%s at %d users (p95 %s)", s, r.users, fmtDur(srv.p95)))
			}
			mean := int64(0)
			if sr.requests > 0 {
				mean = sr.bytes / int64(sr.requests)
			}
			t.add(r.users, s, sr.requests, fmtDur(srv.p50), fmtDur(srv.p95), fmtDur(srv.p99), fmtDur(srv.max),
				fmtDur(rtt.p50), fmtDur(rtt.p95), fmt.Sprintf("%.1f KiB", float64(mean)/1024), cpu, verdict)
		}
	}
	classes := table{header: []string{"query class", "example (largest size)"}}
	for _, r := range runs {
		classes.header = append(classes.header, fmt.Sprintf("%d users: requests", r.users),
			fmt.Sprintf("%d users: p50", r.users), fmt.Sprintf("%d users: p95", r.users))
	}
	last := runs[len(runs)-1]
	for _, class := range usersQueryClasses {
		ex, drawn := last.examples[class]
		switch {
		case !drawn:
			ex = "(none drawn)"
		case ex == "":
			ex = "(no query string)"
		default:
			ex = "`" + ex + "`"
		}
		row := []any{class, ex}
		for _, r := range runs {
			d := summarize(r.byClass[class])
			row = append(row, d.n, fmtDur(d.p50), fmtDur(d.p95))
		}
		classes.add(row...)
	}
	notes := []string{
		fmt.Sprintf("A real Caddy in this process (`caddy.Load`, JSON config) with the `plex_manager` app (data_dir "+
			"in a temp dir, no Plex connection, its loops set to 24h) and the admin handler at `%s` on a loopback "+
			"port. Before the start the store (on disk) gets 2 servers and N users (kinds, statuses, one or two "+
			"shares, windows, notes, activity), an admin with a password and an API key; the load generator signs in "+
			"through the sign-in form (session cookie) and sends the key as `Authorization: Bearer`, so every "+
			"request passes the real session or key check.", usersBase),
		fmt.Sprintf("One keep-alive client sends requests one at a time for %s per size after one unmeasured round, in "+
			"blocks of %d per surface rotating A B C C B A; each request draws a random query (seeded, the same "+
			"sequence at every size) from the classes of the second table: pages deep and shallow, every filter, "+
			"every sort, searches. Every answer must be 200 and non-empty; before the load the API's total must equal "+
			"N, the page must be a whole HTML page and the fragment not, and requests without credentials must be refused.",
			c.usersTime, usersBlock),
		"Server time is Caddy's own `duration` of each request in its access log (from the request's arrival to " +
			"the handler's return), matched to the requests through a header; the run fails unless every measured " +
			"request is in the log with status 200. Round trip adds the client and loopback. Process CPU / request " +
			"(the whole process: Caddy, the handler and the client) is the steadier reading on a shared machine.",
	}
	if len(runs) > 1 {
		first := runs[0]
		var parts []string
		for s := range surfaceCount {
			a, b := summarize(first.surfaces[s].server), summarize(last.surfaces[s].server)
			part := fmt.Sprintf("%s p95 ×%.2f", s, float64(b.p95)/float64(max(a.p95, 1)))
			ca, okA := first.surfaces[s].cpuPerRequest()
			cb, okB := last.surfaces[s].cpuPerRequest()
			if okA && okB && ca > 0 {
				part += fmt.Sprintf(", CPU / request ×%.2f", float64(cb)/float64(ca))
			}
			parts = append(parts, part)
		}
		notes = append(notes, fmt.Sprintf("From %d to %d users (×%.0f): %s.", first.users, last.users,
			float64(last.users)/float64(first.users), strings.Join(parts, "; ")))
	}
	var setup []string
	for _, r := range runs {
		setup = append(setup, fmt.Sprintf("%d users: seeding %s, sign-in %s, page %.1f KiB, fragment %.1f KiB", r.users,
			fmtDur(r.seedTime), fmtDur(r.login), float64(r.pageBytes)/1024, float64(r.fragmentBytes)/1024))
	}
	notes = append(notes, "Set-up (not measured): "+strings.Join(setup, "; ")+". The sign-in includes the "+
		"password hash check (argon2id).")
	if last.users != 10_000 {
		notes = append(notes, fmt.Sprintf("The largest size here is %d users, not the 10,000 the target names.", last.users))
	}
	if len(over) > 0 {
		notes = append(notes, fmt.Sprintf("**Finding:** server time p95 at or above %s: %s (compare the CPU / "+
			"request and the run's load average before blaming the code).", fmtDur(usersPageTarget), strings.Join(over, "; ")))
	}
	return result{tables: []table{t, classes}, notes: notes}
}
