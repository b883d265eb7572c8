// Command bench runs Plex Manager's load and scale benchmarks and writes their tables to
// bench/RESULTS.md, each with the command that produced it and the machine it ran on:
//
//	go run ./bench -out bench/RESULTS.md            # every benchmark, rewrite their sections
//	go run ./bench -run invite-page,startup          # some of them (other sections are kept)
//	go run ./bench -short                            # CI smoke: everything briefly, no file written
//	go run ./bench -list                             # what exists
//
// Load tests target 127.0.0.1 only and every benchmark stops by itself. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// benchmark is one entry of the registry.
type benchmark struct {
	name  string // used by -run and as the RESULTS.md marker
	title string
	what  string // what is measured and why, one paragraph
	run   func(ctx context.Context, c config, log io.Writer) (result, error)
}

// benchmarks is the registry, in RESULTS.md order.
func benchmarks() []benchmark {
	return []benchmark{
		{name: "plex-users", title: "Plex client: users with shares on 3 servers (issue #3)", run: benchPlexUsers,
			what: "One `plex.Client.Users` listing against the in-process Plex fake (`plex/plextest`) seeded with N " +
				"accounts, each sharing two libraries of each of 3 servers. The number of HTTP requests per listing " +
				"must not grow with N; wall time is per listing (client and fake share the process)."},
		{name: "sync", title: "Sync: 1,000 users on 3 servers with 20 ms per Plex request", run: benchSync,
			what: "One `access.Service.Sync` against the in-process Plex fake seeded with N accounts sharing 3 servers, " +
				"through the real `plex.Client`, with a fixed latency injected on every route of the fake. The sync runs " +
				"twice on the same store: the first adopts everybody, the second must find nothing to change. Requests " +
				"per route (the fake's call log) and wall time; the request count must not depend on N."},
		{name: "enforce", title: "Enforcement: one pass over 10,000 users with 100 changes due", run: benchEnforce,
			what: "One `access.Service.Enforce` pass over a store of N users of whom a fixed number have a change due " +
				"(half scheduled starts, half expiries), against the Plex fake through the real client: Plex calls made " +
				"(exactly one share change per due user, plus list calls that must not grow with N), process CPU time " +
				"and wall time of the pass, at two sizes with the same due changes."},
		{name: "store-heap", title: "Store: Go heap with 20,000 small records (issue #2)", run: benchStoreHeap,
			what: "A fresh child process opens a store on disk (`storage.DefaultOptions`), writes users and events " +
				"in transactions of 500, and reads `runtime.MemStats.HeapInuse` after two GCs: before opening, right " +
				"after the writes, and at rest (after an idle pause, when Badger has released its table-builder " +
				"buffers). Budget: 32 MiB at rest."},
		{name: "store-list", title: "Store: ListUsers at 10,000 users", run: benchStoreList,
			what: "`storage.Store.ListUsers` over the in-memory read model of a store holding N varied users " +
				"(statuses, notes, a second server for a third of them, activity for a fifth), one query shape per " +
				"row, called back to back for a fixed time. Latency per call, allocations per call."},
		{name: "store-write", title: "Store: cost of the free-space guard on writes", run: benchStoreWrite,
			what: "Single-setting commits (`storage.Store.PutSetting`, one read-write transaction each) back to back on " +
				"a store on disk, in rounds that alternate the free-space guard on (the default: one statfs of the " +
				"database's file system before each commit) and off (`MinFreeBytes: -1`), with SyncWrites on (the " +
				"product's setting: every commit is fsynced) and off (where the guard's share of a commit is largest). " +
				"Commits/s and latency per mode, the ratio on/off within the run, and the cost of one statfs call."},
		{name: "users-page", title: "Users page and `GET /api/v1/users` at 1,000 and 10,000 users", run: benchUsersPage,
			what: "The admin users page, its htmx results fragment and the REST list through a real in-process Caddy " +
				"with the `plex_manager` admin handler, signed in with a session (page) or an API key (API), over a mix " +
				"of pages, filters, sorts and searches. Server time per request from Caddy's access log, p50/p95/p99 " +
				"per surface and per query class (target: p95 under 25 ms per page at 10,000 users)."},
		{name: "invite-page", title: "Public invite page vs Caddy's `respond` (issue #5)", run: benchInvitePage,
			what: "A real Caddy started in-process from JSON (`caddy.Load`) with the `plex_manager` app (data_dir in a " +
				"temp dir, a Plex server with libraries and an invite seeded in its store) and servers on loopback ports: " +
				"one `plex_manager invite` handler, and per page under test (the landing page and the seeded invite's " +
				"page) one `static_response` whose body has exactly that page's byte size. Every server trusts loopback " +
				"as a proxy and the load generator (keep-alive clients, fixed worker count, fixed round duration) sends " +
				"each request as one of many client addresses in X-Forwarded-For, as visitors behind a reverse proxy " +
				"would arrive, so the invite page's per-client rate limit stays on. Each page and its respond run in " +
				"adjacent rounds, alternately first, so drift cancels; the ratio of requests/s is the figure (target ≥ 70 %)."},
		{name: "startup", title: "Start-up time and resident memory of a whole Caddy", run: benchStartup,
			what: "The Caddy binary runs as a child process with a Caddyfile (admin endpoint, `plex_manager` app with " +
				"its data_dir, an admin site and an invite site on loopback ports); the store is seeded directly " +
				"through the storage package before the start. Time from exec to the first 200 from the invite " +
				"site, then VmRSS/VmHWM from /proc/<pid>/status and the Go heap from the admin endpoint's " +
				"/debug/vars, at the first response and after an idle pause."},
	}
}

func main() {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	c, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err = profiled(c.cpuProfile, func() error { return run(ctx, c, commandLine(os.Args[1:]), os.Stdout) })
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// profiled runs fn, under a CPU profile written to path when path is set.
func profiled(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("starting the CPU profile: %w", err)
	}
	runErr := fn()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return errors.Join(runErr, fmt.Errorf("writing the CPU profile: %w", err))
	}
	return runErr
}

// commandLine is how the run was started, as a user would type it.
func commandLine(args []string) string {
	parts := []string{"go run ./bench"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// run runs the selected benchmarks, prints their sections to w as they finish and, unless short,
// rewrites c.out. A failing benchmark does not stop the others; run returns every error.
func run(ctx context.Context, c config, command string, w io.Writer) error {
	all := benchmarks()
	var order []string
	for _, b := range all {
		order = append(order, b.name)
	}
	if c.list {
		for _, b := range all {
			fmt.Fprintf(w, "%-12s %s\n", b.name, b.title)
		}
		return nil
	}
	for _, name := range c.only {
		if !slices.Contains(order, name) {
			return fmt.Errorf("unknown benchmark %q (have %s)", name, strings.Join(order, ", "))
		}
	}
	var (
		sections []section
		errs     []error
		revision = gitRevision()
	)
	for _, b := range all {
		if len(c.only) > 0 && !slices.Contains(c.only, b.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(w, "== %s: %s\n", b.name, b.title)
		start := time.Now()
		env := currentEnvironment(start, revision)
		res, err := b.run(ctx, c, w)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.name, err))
			fmt.Fprintf(w, "FAILED after %s: %v\n\n", fmtDur(time.Since(start)), err)
			continue
		}
		s := section{name: b.name, title: b.title, what: b.what, command: command,
			env: env, result: res}
		sections = append(sections, s)
		fmt.Fprintf(w, "%s(took %s)\n\n", s.markdown(), fmtDur(time.Since(start)))
	}
	if c.short {
		fmt.Fprintln(w, "short mode: results not written")
		return errors.Join(errs...)
	}
	if len(sections) > 0 {
		old, err := os.ReadFile(c.out)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return errors.Join(append(errs, fmt.Errorf("reading %s: %w", c.out, err))...)
		}
		if err := os.WriteFile(c.out, []byte(mergeResults(string(old), order, sections)), 0o644); err != nil {
			return errors.Join(append(errs, fmt.Errorf("writing %s: %w", c.out, err))...)
		}
		fmt.Fprintf(w, "wrote %d section(s) to %s\n", len(sections), c.out)
	}
	return errors.Join(errs...)
}
