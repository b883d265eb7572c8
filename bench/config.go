package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// config is the runner's configuration, from the command line.
type config struct {
	// out is the results file rewritten after a full run.
	out string
	// only lists the benchmarks to run (nil: all).
	only []string
	// short runs everything briefly and writes no file (CI smoke).
	short bool
	// list prints the benchmarks and exits.
	list bool
	// cpuProfile, when set, is where the runner writes a CPU profile of the whole run.
	cpuProfile string

	plexUsers []int
	plexTime  time.Duration

	heapUsers, heapEvents int
	heapSettle            time.Duration

	listUsers int
	listTime  time.Duration

	writeTime time.Duration

	invitePath string
	seedInvite string
	workers    int
	rounds     int
	roundTime  time.Duration
	warmup     time.Duration

	startupUsers []int
	startupRuns  int
	startupIdle  time.Duration
	caddyBin     string

	usersSizes []int
	usersTime  time.Duration

	syncUsers   int
	syncLatency time.Duration

	enforceUsers []int
	enforceDue   int
}

// defaultConfig is a full run.
func defaultConfig() config {
	return config{
		out:          "bench/RESULTS.md",
		plexUsers:    []int{10, 100, 1000},
		plexTime:     3 * time.Second,
		heapUsers:    10_000,
		heapEvents:   10_000,
		heapSettle:   7 * time.Second,
		listUsers:    10_000,
		listTime:     time.Second,
		writeTime:    2 * time.Second,
		invitePath:   "/",
		seedInvite:   "benchinvite",
		workers:      8,
		rounds:       8,
		roundTime:    3 * time.Second,
		warmup:       time.Second,
		startupUsers: []int{0, 10_000},
		startupRuns:  3,
		startupIdle:  2 * time.Second,
		usersSizes:   []int{1_000, 10_000},
		usersTime:    10 * time.Second,
		syncUsers:    1_000,
		syncLatency:  20 * time.Millisecond,
		enforceUsers: []int{1_000, 10_000},
		enforceDue:   100,
	}
}

// shortConfig is the CI smoke: every benchmark, briefly, with small sizes where the full size
// would take long; the harness's own checks still apply.
func shortConfig() config {
	c := defaultConfig()
	c.short = true
	c.plexUsers = []int{10, 100}
	c.plexTime = 200 * time.Millisecond
	c.heapUsers, c.heapEvents = 2_000, 2_000
	c.heapSettle = 300 * time.Millisecond
	c.listUsers = 1_000
	c.listTime = 50 * time.Millisecond
	c.writeTime = 100 * time.Millisecond
	c.workers = 4
	c.rounds = 2
	c.roundTime = 300 * time.Millisecond
	c.warmup = 100 * time.Millisecond
	c.startupUsers = []int{0, 500}
	c.startupRuns = 1
	c.startupIdle = 100 * time.Millisecond
	c.caddyBin = selfBinary
	c.usersSizes = []int{300}
	c.usersTime = 300 * time.Millisecond
	c.syncUsers = 50
	c.syncLatency = 2 * time.Millisecond
	c.enforceUsers = []int{200, 400}
	c.enforceDue = 20
	return c
}

// selfBinary as -caddy-bin makes the bench program itself act as the Caddy binary (it links the
// same modules as ./cmd/caddy); the short mode uses it to avoid a build.
const selfBinary = "self"

// parseConfig reads the command line. Flags given explicitly win over the -short defaults.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := defaultConfig()
	var (
		only, plexUsers, startupUsers string
		usersSizes, enforceUsers      string
		c                             config
	)
	fs.StringVar(&c.out, "out", def.out, "results file to rewrite (sections of the benchmarks that ran)")
	fs.StringVar(&only, "run", "", "comma-separated benchmarks to run (default all; see -list)")
	fs.BoolVar(&c.short, "short", false, "CI smoke: run everything briefly and write no file")
	fs.BoolVar(&c.list, "list", false, "list the benchmarks and exit")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (load generator included) to this file")
	fs.StringVar(&plexUsers, "plex-users", joinInts(def.plexUsers), "plex-users: account counts to list")
	fs.DurationVar(&c.plexTime, "plex-time", def.plexTime, "plex-users: minimum time per account count")
	fs.IntVar(&c.heapUsers, "heap-users", def.heapUsers, "store-heap: users written")
	fs.IntVar(&c.heapEvents, "heap-events", def.heapEvents, "store-heap: events written")
	fs.DurationVar(&c.heapSettle, "heap-settle", def.heapSettle, "store-heap: idle time before the at-rest reading")
	fs.IntVar(&c.listUsers, "list-users", def.listUsers, "store-list: users in the store")
	fs.DurationVar(&c.listTime, "list-time", def.listTime, "store-list: time per query")
	fs.DurationVar(&c.writeTime, "write-time", def.writeTime, "store-write: time per round")
	fs.StringVar(&c.invitePath, "invite-path", def.invitePath, "invite-page: a page of the invite site to measure besides the seeded invite's (default the landing page)")
	fs.StringVar(&c.seedInvite, "seed-invite", def.seedInvite, `invite-page: store a server and an enabled invite with this code before Caddy starts and measure its page /CODE too ("" measures only -invite-path)`)
	fs.IntVar(&c.workers, "workers", def.workers, "invite-page: concurrent keep-alive clients")
	fs.IntVar(&c.rounds, "rounds", def.rounds, "invite-page: measured rounds per page, alternating A B B A …")
	fs.DurationVar(&c.roundTime, "round-time", def.roundTime, "invite-page: duration of one round")
	fs.DurationVar(&c.warmup, "warmup", def.warmup, "invite-page: unmeasured load per page before the rounds")
	fs.StringVar(&startupUsers, "startup-users", joinInts(def.startupUsers), "startup: users seeded in the store, one start per value")
	fs.IntVar(&c.startupRuns, "startup-runs", def.startupRuns, "startup: starts per seed size (the median is reported)")
	fs.DurationVar(&c.startupIdle, "startup-idle", def.startupIdle, "startup: idle time before the second memory reading")
	fs.StringVar(&c.caddyBin, "caddy-bin", "", `startup: Caddy binary to run ("" builds ./cmd/caddy; "self" runs this program as Caddy)`)
	fs.StringVar(&usersSizes, "users-sizes", joinInts(def.usersSizes), "users-page: users in the store, one Caddy per value")
	fs.DurationVar(&c.usersTime, "users-time", def.usersTime, "users-page: measured load per size")
	fs.IntVar(&c.syncUsers, "sync-users", def.syncUsers, "sync: plex.tv accounts sharing the 3 servers")
	fs.DurationVar(&c.syncLatency, "sync-latency", def.syncLatency, "sync: latency the fake adds to every request")
	fs.StringVar(&enforceUsers, "enforce-users", joinInts(def.enforceUsers), "enforce: users in the store, one pass per value")
	fs.IntVar(&c.enforceDue, "enforce-due", def.enforceDue, "enforce: users with a change due (half starts, half expiries)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	if c.plexUsers, err = parseInts(plexUsers); err != nil {
		return config{}, fmt.Errorf("-plex-users: %w", err)
	}
	if c.startupUsers, err = parseInts(startupUsers); err != nil {
		return config{}, fmt.Errorf("-startup-users: %w", err)
	}
	if c.usersSizes, err = parseInts(usersSizes); err != nil {
		return config{}, fmt.Errorf("-users-sizes: %w", err)
	}
	if c.enforceUsers, err = parseInts(enforceUsers); err != nil {
		return config{}, fmt.Errorf("-enforce-users: %w", err)
	}
	if only != "" {
		for _, name := range strings.Split(only, ",") {
			if name = strings.TrimSpace(name); name != "" {
				c.only = append(c.only, name)
			}
		}
	}
	if c.short {
		c = applyShort(c, set)
	}
	return c, c.validate()
}

// applyShort replaces the values the user did not set with the short defaults.
func applyShort(c config, set map[string]bool) config {
	s := shortConfig()
	s.out, s.only, s.list, s.cpuProfile = c.out, c.only, c.list, c.cpuProfile
	s.invitePath, s.seedInvite = c.invitePath, c.seedInvite
	keep := map[string]func(){
		"plex-users":    func() { s.plexUsers = c.plexUsers },
		"plex-time":     func() { s.plexTime = c.plexTime },
		"heap-users":    func() { s.heapUsers = c.heapUsers },
		"heap-events":   func() { s.heapEvents = c.heapEvents },
		"heap-settle":   func() { s.heapSettle = c.heapSettle },
		"list-users":    func() { s.listUsers = c.listUsers },
		"list-time":     func() { s.listTime = c.listTime },
		"write-time":    func() { s.writeTime = c.writeTime },
		"workers":       func() { s.workers = c.workers },
		"rounds":        func() { s.rounds = c.rounds },
		"round-time":    func() { s.roundTime = c.roundTime },
		"warmup":        func() { s.warmup = c.warmup },
		"startup-users": func() { s.startupUsers = c.startupUsers },
		"startup-runs":  func() { s.startupRuns = c.startupRuns },
		"startup-idle":  func() { s.startupIdle = c.startupIdle },
		"caddy-bin":     func() { s.caddyBin = c.caddyBin },
		"users-sizes":   func() { s.usersSizes = c.usersSizes },
		"users-time":    func() { s.usersTime = c.usersTime },
		"sync-users":    func() { s.syncUsers = c.syncUsers },
		"sync-latency":  func() { s.syncLatency = c.syncLatency },
		"enforce-users": func() { s.enforceUsers = c.enforceUsers },
		"enforce-due":   func() { s.enforceDue = c.enforceDue },
	}
	for name, apply := range keep {
		if set[name] {
			apply()
		}
	}
	return s
}

// validate checks ranges.
func (c config) validate() error {
	var errs []error
	positive := map[string]int{"-workers": c.workers, "-rounds": c.rounds, "-startup-runs": c.startupRuns,
		"-heap-users": c.heapUsers, "-list-users": c.listUsers, "-sync-users": c.syncUsers, "-enforce-due": c.enforceDue}
	for name, v := range positive {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	if c.heapEvents < 0 {
		errs = append(errs, fmt.Errorf("-heap-events must not be negative, got %d", c.heapEvents))
	}
	durs := map[string]time.Duration{"-plex-time": c.plexTime, "-list-time": c.listTime, "-round-time": c.roundTime,
		"-users-time": c.usersTime, "-write-time": c.writeTime}
	for name, d := range durs {
		if d <= 0 || d > 10*time.Minute {
			errs = append(errs, fmt.Errorf("%s must be in (0, 10m], got %s", name, d))
		}
	}
	pauses := map[string]time.Duration{"-warmup": c.warmup, "-heap-settle": c.heapSettle, "-startup-idle": c.startupIdle}
	for name, d := range pauses {
		if d < 0 || d > 10*time.Minute {
			errs = append(errs, fmt.Errorf("%s must be in [0, 10m], got %s", name, d))
		}
	}
	if c.rounds > 1000 || c.startupRuns > 100 || c.workers > 1000 {
		errs = append(errs, errors.New("-rounds is at most 1000, -startup-runs 100, -workers 1000 (every run must stay bounded)"))
	}
	if !strings.HasPrefix(c.invitePath, "/") {
		errs = append(errs, fmt.Errorf("-invite-path must start with /, got %q", c.invitePath))
	}
	if c.seedInvite != "" && strings.ContainsAny(c.seedInvite, "/?# ") {
		errs = append(errs, fmt.Errorf("-seed-invite must be a single path segment, got %q", c.seedInvite))
	}
	if len(c.plexUsers) == 0 || len(c.startupUsers) == 0 || len(c.usersSizes) == 0 || len(c.enforceUsers) == 0 {
		errs = append(errs, errors.New("-plex-users, -startup-users, -users-sizes and -enforce-users need at least one value"))
	}
	for _, n := range c.usersSizes {
		if n <= 0 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("-users-sizes values must be in [1, 1000000], got %d", n))
		}
	}
	for _, n := range c.enforceUsers {
		if n < c.enforceDue || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("-enforce-users values must be in [-enforce-due (%d), 1000000], got %d", c.enforceDue, n))
		}
	}
	if c.syncLatency < 0 || c.syncLatency > 10*time.Second {
		errs = append(errs, fmt.Errorf("-sync-latency must be in [0, 10s], got %s", c.syncLatency))
	}
	if c.syncUsers > 100_000 || c.enforceDue > 10_000 {
		errs = append(errs, errors.New("-sync-users is at most 100000 and -enforce-due 10000 (every run must stay bounded)"))
	}
	if c.out == "" && !c.short {
		errs = append(errs, errors.New("-out must name a file"))
	}
	return errors.Join(errs...)
}

// parseInts reads "10,100,1000"; values must not be negative.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(part, "_", ""))
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		if n < 0 {
			return nil, fmt.Errorf("%d is negative", n)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}
