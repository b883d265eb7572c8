package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// syncRun is what one access.Service.Sync measured.
type syncRun struct {
	report access.SyncReport
	routes map[string]int
	total  int
	wall   time.Duration
	cpu    time.Duration
	cpuOK  bool
	plex   spanStats // the fake's request spans
}

// measureSync runs one sync and reads the fake's request log.
func measureSync(ctx context.Context, svc *access.Service, pf *plexFake) (syncRun, error) {
	runtime.GC() // the previous step's garbage is not collected during the measured sync
	pf.reset()
	cpu0, ok0 := processCPU()
	start := time.Now()
	rep, err := svc.Sync(ctx, "bench")
	wall := time.Since(start)
	cpu, cpuOK := cpuSince(cpu0, ok0)
	if err != nil {
		return syncRun{}, fmt.Errorf("sync: %w", err)
	}
	if rep.Error != "" || rep.Refused != "" || rep.Held != nil {
		return syncRun{}, fmt.Errorf("sync did not complete: error %q, refused %q, held %v", rep.Error, rep.Refused, rep.Held != nil)
	}
	calls := pf.fake.Calls()
	for _, c := range calls {
		if c.Status >= 400 || c.Status == 0 {
			return syncRun{}, fmt.Errorf("the fake answered %s %s with %d", c.Method, c.Path, c.Status)
		}
	}
	return syncRun{report: rep, routes: callCounts(calls), total: len(calls), wall: wall, cpu: cpu, cpuOK: cpuOK,
		plex: summarizeSpans(pf.timer.take())}, nil
}

// benchSync syncs c.syncUsers accounts sharing 3 servers twice, with c.syncLatency on every request
// of the fake: the first sync adopts everybody, the second finds nothing to change.
func benchSync(ctx context.Context, c config, log io.Writer) (result, error) {
	dir, err := os.MkdirTemp("", "plex-manager-bench-sync-")
	if err != nil {
		return result{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := storage.Open(storage.DefaultOptions(filepath.Join(dir, "db"), nil))
	if err != nil {
		return result{}, fmt.Errorf("opening the store: %w", err)
	}
	defer st.Close()
	pf, err := startPlexFake(usersSeed(c.syncUsers), nil)
	if err != nil {
		return result{}, err
	}
	defer pf.close()
	if err := pf.storeServers(st, time.Now().UTC()); err != nil {
		return result{}, err
	}
	svc, err := access.New(access.Options{Store: st, Plex: pf.gw})
	if err != nil {
		return result{}, fmt.Errorf("access.New: %w", err)
	}
	pf.fake.Inject(plextest.Fault{Latency: c.syncLatency}) // every route, every request

	first, err := measureSync(ctx, svc, pf)
	if err != nil {
		return result{}, fmt.Errorf("first sync: %w", err)
	}
	_, stored, err := st.CountUsers()
	if err != nil {
		return result{}, fmt.Errorf("counting users: %w", err)
	}
	if first.report.Adopted < c.syncUsers || stored < c.syncUsers {
		return result{}, fmt.Errorf("first sync adopted %d users (%d stored), seeded %d accounts", first.report.Adopted, stored, c.syncUsers)
	}
	second, err := measureSync(ctx, svc, pf)
	if err != nil {
		return result{}, fmt.Errorf("second sync: %w", err)
	}
	if n := len(second.report.Changes); n != 0 {
		return result{}, fmt.Errorf("second sync found %d changes (%d adopted, %d updated, %d removed), want none",
			n, second.report.Adopted, second.report.Updated, second.report.Removed)
	}
	fmt.Fprintf(log, "  first sync %d requests in %s, second %d in %s\n", first.total, fmtDur(first.wall), second.total, fmtDur(second.wall))

	t := table{header: []string{"sync", "Plex users listed", "adopted / updated / removed", "users stored", "requests",
		"wall", "Plex in flight", "in flight ÷ latency", "most at once", "wall − in flight", "fake's own work", "process CPU"}}
	for i, r := range []syncRun{first, second} {
		name := "1st (empty store)"
		if i == 1 {
			name = "2nd (nothing changed)"
		}
		own := max(0, r.plex.handled-time.Duration(r.total)*c.syncLatency)
		t.add(name, r.report.PlexUsers, fmt.Sprintf("%d / %d / %d", r.report.Adopted, r.report.Updated, r.report.Removed),
			stored, r.total, fmtDur(r.wall), fmtDur(r.plex.inFlight), latencyMultiple(r.plex.inFlight, c.syncLatency),
			r.plex.maxConcurrent, fmtDur(max(0, r.wall-r.plex.inFlight)), fmtDur(own), fmtCPU(r.cpu, r.cpuOK))
	}
	routes := table{header: []string{"route", "requests, 1st sync", "requests, 2nd sync"}}
	all := map[string]bool{}
	for r := range maps.Keys(first.routes) {
		all[r] = true
	}
	for r := range maps.Keys(second.routes) {
		all[r] = true
	}
	for _, r := range slices.Sorted(maps.Keys(all)) {
		routes.add("`"+r+"`", first.routes[r], second.routes[r])
	}
	routes.add("**total**", first.total, second.total)

	notes := []string{
		fmt.Sprintf("%d plex.tv accounts each share two libraries of each of %d servers (the `plex-users` seed: the demo's "+
			"Home members, managed users and pending invitations come on top). The store is on disk with fsync "+
			"(`storage.DefaultOptions`), the client is the real `plex.Client` through `access.NewPlexGateway` (no "+
			"retries), and the fake delays every answer by %s (`plextest.Fault{Latency: …}` on every route).",
			c.syncUsers, plexServers, c.syncLatency),
		fmt.Sprintf("Plex in flight is the time at least one request was inside the fake's handler (the union of the "+
			"requests' spans, recorded around the fake); ÷ latency it approximates the %s waits on the sync's critical "+
			"path (the fake's own work inflates it a little): the request count (%d) if they ran one after another, "+
			"fewer when they overlap (most at once: the peak of concurrent requests). Wall − in flight is the sync's own work while no request was open: decoding, "+
			"planning and the store's writes (1st sync: %d users, transactions of 100, fsync each).",
			c.syncLatency, first.total, stored),
		"The fake's own work is the handlers' total time minus the injected latency: building the answers in this " +
			"process (it is part of the in-flight time, not of the sync's). Process CPU is the whole process's user + " +
			"system time during the sync, the fake's work included, so it is an upper bound of the sync's; unlike " +
			"wall time it does not grow when other programs take the CPUs.",
	}
	if first.total != second.total {
		notes = append(notes, fmt.Sprintf("**Finding:** the two syncs made different request counts (%d, then %d).",
			first.total, second.total))
	}
	return result{tables: []table{t, routes}, notes: notes}, nil
}

// latencyMultiple prints wall ÷ latency with one decimal ("n/a" without latency).
func latencyMultiple(wall, latency time.Duration) string {
	if latency <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(wall)/float64(latency))
}
