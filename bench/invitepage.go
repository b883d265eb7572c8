package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// inviteTarget is issue #5's goal: the invite page serves at least this share of the requests per
// second of Caddy's own respond of the same size.
const inviteTarget = 0.70

// pageProbe is one answer of a page, read before the load.
type pageProbe struct {
	status      int
	size        int64
	headerBytes int
	contentType string
}

// probe fetches url once.
func probe(ctx context.Context, rawURL string) (pageProbe, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return pageProbe{}, err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return pageProbe{}, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return pageProbe{}, fmt.Errorf("reading %s: %w", rawURL, err)
	}
	hb := 0
	for k, vs := range resp.Header {
		for _, v := range vs {
			hb += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return pageProbe{status: resp.StatusCode, size: n, headerBytes: hb, contentType: resp.Header.Get("Content-Type")}, nil
}

// seedInvite stores an enabled invite with code in the data directory's store before Caddy opens it.
func seedInvite(dataDir, code string) error {
	s, err := storage.Open(storage.DefaultOptions(filepath.Join(dataDir, "db"), nil))
	if err != nil {
		return fmt.Errorf("opening the store to seed an invite: %w", err)
	}
	now := time.Now().UTC()
	expires := now.Add(30 * 24 * time.Hour)
	err = s.PutInvite(storage.Invite{ID: storage.NewID(), Code: code, Label: "benchmark", ExpiresAt: &expires,
		Libraries: map[string][]string{"bench-server": {"1"}}, Discord: "off", Enabled: true,
		CreatedBy: "bench", CreatedAt: now, UpdatedAt: now})
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the store: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("storing invite %q: %w", code, err)
	}
	return nil
}

// benchInvitePage runs the A/B load test of the invite page against Caddy's respond.
func benchInvitePage(ctx context.Context, c config, log io.Writer) (result, error) {
	dir, err := os.MkdirTemp("", "plex-manager-bench-invite-")
	if err != nil {
		return result{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := isolateCaddy(filepath.Join(dir, "xdg")); err != nil {
		return result{}, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return result{}, err
	}
	sites := abSites{dataDir: filepath.Join(dir, "pm"), storageDir: filepath.Join(dir, "caddy-storage"),
		invitePort: ports[0], respondPort: ports[1], respondBody: "x"}
	if c.seedInvite != "" {
		if err := seedInvite(sites.dataDir, c.seedInvite); err != nil {
			return result{}, err
		}
	}
	inviteURL := "http://127.0.0.1:" + strconv.Itoa(sites.invitePort) + c.invitePath
	respondURL := "http://127.0.0.1:" + strconv.Itoa(sites.respondPort) + "/"

	// Load once to learn the page's size, then again with a respond body of that size.
	if err := loadCaddy(sites); err != nil {
		return result{}, err
	}
	defer func() { _ = stopCaddy() }()
	page, err := probe(ctx, inviteURL)
	if err != nil {
		return result{}, err
	}
	if page.size == 0 {
		return result{}, fmt.Errorf("%s answered %d with an empty body", c.invitePath, page.status)
	}
	sites.respondBody = fillerBody(int(page.size))
	if err := loadCaddy(sites); err != nil {
		return result{}, err
	}
	same, err := probe(ctx, inviteURL)
	if err != nil {
		return result{}, err
	}
	if same.status != page.status || same.size != page.size {
		return result{}, fmt.Errorf("the invite page changed across the reload: %d/%d bytes, then %d/%d bytes",
			page.status, page.size, same.status, same.size)
	}
	resp, err := probe(ctx, respondURL)
	if err != nil {
		return result{}, err
	}
	if resp.status != http.StatusOK || resp.size != page.size {
		return result{}, fmt.Errorf("respond answered %d with %d bytes, want 200 with %d", resp.status, resp.size, page.size)
	}
	fmt.Fprintf(log, "  page %s: %d, %d bytes; %d workers, %d rounds of %s each\n", c.invitePath, page.status,
		page.size, c.workers, c.rounds, c.roundTime)

	a, err := newTarget("invite page", inviteURL, page.status, page.size, c.workers)
	if err != nil {
		return result{}, err
	}
	defer a.close()
	b, err := newTarget("respond", respondURL, http.StatusOK, page.size, c.workers)
	if err != nil {
		return result{}, err
	}
	defer b.close()
	ab, err := alternate(ctx, a, b, c.workers, c.rounds, c.roundTime, c.warmup)
	if err != nil {
		return result{}, err
	}
	ratio := ab.a.rps() / ab.b.rps()
	fmt.Fprintf(log, "  invite %.0f req/s, respond %.0f req/s, ratio %.1f %%\n", ab.a.rps(), ab.b.rps(), 100*ratio)

	t := table{header: []string{"page", "status", "body bytes", "header bytes", "requests", "req/s", "p50", "p90", "p99", "max",
		"process CPU / request"}}
	for _, row := range []struct {
		name  string
		probe pageProbe
		r     round
	}{{"`plex_manager invite` " + c.invitePath, page, ab.a}, {"`static_response` (respond)", resp, ab.b}} {
		d := summarize(row.r.latency)
		cpu := "n/a"
		if row.r.cpuOK {
			cpu = fmtDur(row.r.cpuPerRequest())
		}
		t.add(row.name, row.probe.status, row.probe.size, row.probe.headerBytes, row.r.requests,
			fmt.Sprintf("%.0f", row.r.rps()), fmtDur(d.p50), fmtDur(d.p90), fmtDur(d.p99), fmtDur(d.max), cpu)
	}
	ratios := table{header: []string{"invite / respond req/s", "pair median", "pair min", "pair max",
		"respond / invite CPU per request", "target", "verdict"}}
	cpuRatio := "n/a"
	if ab.a.cpuOK && ab.b.cpuOK && ab.a.cpuPerRequest() > 0 {
		cpuRatio = fmt.Sprintf("%.1f %%", 100*float64(ab.b.cpuPerRequest())/float64(ab.a.cpuPerRequest()))
	}
	verdict := "meets the target"
	if ratio < inviteTarget {
		verdict = "**BELOW TARGET**"
	}
	lo, hi := ab.pairRatios[0], ab.pairRatios[0]
	for _, r := range ab.pairRatios {
		lo, hi = min(lo, r), max(hi, r)
	}
	ratios.add(fmt.Sprintf("%.1f %%", 100*ratio), fmt.Sprintf("%.1f %%", 100*median(ab.pairRatios)),
		fmt.Sprintf("%.1f %%", 100*lo), fmt.Sprintf("%.1f %%", 100*hi), cpuRatio, fmt.Sprintf("≥ %.0f %%", 100*inviteTarget), verdict)
	notes := []string{
		fmt.Sprintf("%d keep-alive workers per page, %d rounds of %s per page in A B B A order after %s of "+
			"unmeasured load per page; every answer is checked (status and exact body size).",
			c.workers, c.rounds, c.roundTime, c.warmup),
		fmt.Sprintf("The page under test is `GET %s` (status %d, %s). ", c.invitePath, page.status, page.contentType) +
			"Until the invites feature serves real invite pages, this is the invite handler's landing page; " +
			"measure a real one with `-seed-invite CODE -invite-path /CODE`.",
		"Load generator, Caddy and both sites share one process and the machine's CPUs; the ratio, measured " +
			"in alternating rounds of the same run, is the figure to compare (the verdict is on it). Because the " +
			"load generator's own cost per request is the same for both pages, it pulls the ratio towards 100 %: " +
			"Caddy alone would show a larger gap. The pair columns show the spread between adjacent rounds.",
		"Process CPU / request is the process's user + system CPU time during the rounds (load generator " +
			"included) divided by the good answers; unlike req/s it does not drop when other programs take the " +
			"CPUs, so its ratio is a steadier second reading on a shared machine.",
		"Header bytes are approximate (name + value + separators): the invite page also sends its security " +
			"headers (CSP and others).",
	}
	if c.seedInvite != "" && page.status != http.StatusOK {
		notes = append(notes, fmt.Sprintf("**Note:** invite %q was stored but `GET %s` answered %d: the page "+
			"measured is not a real invite page.", c.seedInvite, c.invitePath, page.status))
	}
	if ratio < inviteTarget {
		notes = append(notes, fmt.Sprintf("**Finding:** the invite page reaches %.1f %% of respond's requests/s, "+
			"below the %.0f %% target.", 100*ratio, 100*inviteTarget))
	}
	return result{tables: []table{t, ratios}, notes: notes}, nil
}
