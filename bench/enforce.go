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
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// enforceBase is the seeded users' reference time; the pass runs at enforceDue.
var (
	enforceBase = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	enforceDue  = enforceBase.Add(time.Hour)
)

// shareChangeRoutes are the fake's routes that create, change or delete a share.
var shareChangeRoutes = []string{"POST /api/v2/shared_servers", "DELETE /api/v2/shared_servers/{id}", "POST /api/v2/shared_servers/{id}"}

// enforceCalls sorts one pass's requests.
type enforceCalls struct {
	changes, lists, other int
	routes                map[string]int
}

// classifyEnforceCalls counts share changes, list calls (GET) and anything else.
func classifyEnforceCalls(calls []plextest.Call) enforceCalls {
	out := enforceCalls{routes: callCounts(calls)}
	for _, c := range calls {
		switch {
		case c.Route != "" && slices.Contains(shareChangeRoutes, c.Route):
			out.changes++
		case c.Method == "GET":
			out.lists++
		default:
			out.other++
		}
	}
	return out
}

// enforceRun is one size's measurement.
type enforceRun struct {
	users, due int
	pass       enforceCalls
	wall       time.Duration
	cpu        time.Duration
	cpuOK      bool
	plex       spanStats // the fake's request spans during the pass
	// idle is the pass right after, with nothing due.
	idle     enforceCalls
	idleWall time.Duration
}

// enforceSeed is SeedMinimal's owner and server with users accounts; the first due/2 have no share
// yet (their access starts at enforceDue), every other account has one.
func enforceSeed(users, due int) plextest.Seed {
	minimal := plextest.SeedMinimal()
	seed := plextest.Seed{Owner: minimal.Owner, Servers: minimal.Servers}
	starts := due / 2
	for i := range users {
		id := int64(80_000_000 + i)
		seed.Accounts = append(seed.Accounts, plextest.Account{ID: id, Username: fmt.Sprintf("user%05d", i),
			Email: fmt.Sprintf("user%05d@example.com", i)})
		if i >= starts {
			seed.Shares = append(seed.Shares, plextest.Share{ID: int64(1_000_000 + i), MachineID: plextest.MinimalMachineID,
				UserID: id, SectionIDs: []int64{plextest.SectionMovies, plextest.SectionTVShows}})
		}
	}
	return seed
}

// enforceUser is stored user i: due/2 scheduled starts at enforceDue, then due-due/2 expiries at
// enforceDue, then active users of whom a third expire later (in the due index, not due).
func enforceUser(i, due int) storage.User {
	starts := due / 2
	id := int64(80_000_000 + i)
	u := storage.User{ID: id, Username: fmt.Sprintf("user%05d", i), Email: fmt.Sprintf("user%05d@example.com", i),
		Kind: storage.KindFriend, Status: storage.StatusActive, CreatedAt: enforceBase.Add(-100 * 24 * time.Hour),
		UpdatedAt: enforceBase}
	dueAt := enforceDue
	switch {
	case i < starts:
		u.Status, u.StartsAt = storage.StatusScheduled, &dueAt
		u.Shares = map[string]storage.Share{plextest.MinimalMachineID: {Libraries: []string{"4"}}}
	default:
		u.Shares = map[string]storage.Share{plextest.MinimalMachineID: {ShareID: int64(1_000_000 + i), Libraries: []string{"4", "8"}}}
		if i < due {
			u.ExpiresAt = &dueAt
		} else if i%3 == 0 {
			later := enforceDue.Add(time.Duration(i) * time.Hour)
			u.ExpiresAt = &later
		}
	}
	return u
}

// measureEnforce seeds users (due of them due) and runs one enforcement pass, then a second.
func measureEnforce(ctx context.Context, users, due int) (enforceRun, error) {
	run := enforceRun{users: users, due: due}
	dir, err := os.MkdirTemp("", "plex-manager-bench-enforce-")
	if err != nil {
		return run, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := storage.Open(storage.DefaultOptions(filepath.Join(dir, "db"), nil))
	if err != nil {
		return run, fmt.Errorf("opening the store: %w", err)
	}
	defer st.Close()
	now := func() time.Time { return enforceDue }
	pf, err := startPlexFake(enforceSeed(users, due), now)
	if err != nil {
		return run, err
	}
	defer pf.close()
	if err := pf.storeServers(st, enforceBase); err != nil {
		return run, err
	}
	const chunk = 500
	for start := 0; start < users; start += chunk {
		err := st.Update(func(tx *storage.Tx) error {
			for i := start; i < min(start+chunk, users); i++ {
				if err := tx.Users().Put(enforceUser(i, due)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return run, fmt.Errorf("storing users %d…: %w", start, err)
		}
	}
	if n := len(pf.fake.SharesFor(plextest.MinimalMachineID)); n != users-due/2 {
		return run, fmt.Errorf("the fake has %d shares, want %d", n, users-due/2)
	}
	svc, err := access.New(access.Options{Store: st, Plex: pf.gw, Now: now})
	if err != nil {
		return run, fmt.Errorf("access.New: %w", err)
	}
	// The cap must let every due expiry through (above it a pass removes nothing).
	if _, err := svc.PutSettings("bench", access.Settings{RemovalCap: max(due, access.DefaultRemovalCap)}); err != nil {
		return run, fmt.Errorf("settings: %w", err)
	}

	runtime.GC() // the seeding's garbage is not collected during the measured pass
	pf.reset()
	cpu0, ok0 := processCPU()
	start := time.Now()
	rep, err := svc.Enforce(ctx, access.ActorSystem)
	run.wall = time.Since(start)
	run.cpu, run.cpuOK = cpuSince(cpu0, ok0)
	run.plex = summarizeSpans(pf.timer.take())
	if err != nil {
		return run, fmt.Errorf("enforcement pass: %w", err)
	}
	if rep.Error != "" || rep.Capped {
		return run, fmt.Errorf("enforcement pass: error %q, capped %v", rep.Error, rep.Capped)
	}
	run.pass = classifyEnforceCalls(pf.fake.Calls())
	done := 0
	for _, ch := range rep.Changes {
		if ch.Result != access.ResultDone {
			return run, fmt.Errorf("change %s of user %d: %s %s", ch.Action, ch.UserID, ch.Result, ch.Error)
		}
		done++
	}
	if run.pass.changes != due || done != due {
		return run, fmt.Errorf("the pass made %d share changes on Plex and reported %d done, want %d (routes: %s)",
			run.pass.changes, done, due, routeList(run.pass.routes))
	}
	if n := len(pf.fake.SharesFor(plextest.MinimalMachineID)); n != users-due+due/2 {
		return run, fmt.Errorf("after the pass the fake has %d shares, want %d", n, users-due+due/2)
	}

	pf.reset()
	start = time.Now()
	rep, err = svc.Enforce(ctx, access.ActorSystem)
	run.idleWall = time.Since(start)
	if err != nil || rep.Error != "" {
		return run, fmt.Errorf("second pass: %v %s", err, rep.Error)
	}
	run.idle = classifyEnforceCalls(pf.fake.Calls())
	if len(rep.Changes) != 0 || run.idle.changes != 0 {
		return run, fmt.Errorf("second pass made %d changes (%d on Plex), want none", len(rep.Changes), run.idle.changes)
	}
	return run, nil
}

// benchEnforce runs one pass at every size of c.enforceUsers with c.enforceDue changes due.
func benchEnforce(ctx context.Context, c config, log io.Writer) (result, error) {
	t := table{header: []string{"users", "due", "share changes", "list calls (GET)", "other calls", "Plex calls",
		"wall", "Plex in flight", "fake's handlers", "process CPU", "CPU − fake's handlers", "2nd pass: calls", "2nd pass: wall"}}
	var runs []enforceRun
	for _, n := range c.enforceUsers {
		if err := ctx.Err(); err != nil {
			return result{}, err
		}
		r, err := measureEnforce(ctx, n, c.enforceDue)
		if err != nil {
			return result{}, fmt.Errorf("%d users: %w", n, err)
		}
		runs = append(runs, r)
		total := r.pass.changes + r.pass.lists + r.pass.other
		fmt.Fprintf(log, "  %d users: %d Plex calls, wall %s, CPU %s\n", n, total, fmtDur(r.wall), fmtCPU(r.cpu, r.cpuOK))
		own := "n/a"
		if r.cpuOK {
			own = fmtDur(max(0, r.cpu-r.plex.handled))
		}
		t.add(n, r.due, r.pass.changes, r.pass.lists, r.pass.other, total, fmtDur(r.wall), fmtDur(r.plex.inFlight), fmtDur(r.plex.handled),
			fmtCPU(r.cpu, r.cpuOK), own, r.idle.changes+r.idle.lists+r.idle.other, fmtDur(r.idleWall))
	}
	for _, r := range runs[1:] {
		if r.pass.lists != runs[0].pass.lists || r.pass.other != runs[0].pass.other {
			return result{}, fmt.Errorf("calls besides the share changes grow with the users: %d GET + %d other at %d users, "+
				"%d GET + %d other at %d", runs[0].pass.lists, runs[0].pass.other, runs[0].users, r.pass.lists, r.pass.other, r.users)
		}
	}
	last := runs[len(runs)-1]
	notes := []string{
		fmt.Sprintf("Each size: a fresh store on disk with fsync (`storage.DefaultOptions`) and a fresh Plex fake "+
			"(SeedMinimal's server) behind the real `plex.Client`; %d of the users are due at the pass's time: %d "+
			"scheduled starts (a share to create) and %d expiries (a share to delete), the rest active with a share, "+
			"a third of them expiring later. Every change is written as an intent before its Plex call and "+
			"completed after it (one fsync each).", c.enforceDue, c.enforceDue/2, c.enforceDue-c.enforceDue/2),
		fmt.Sprintf("Plex calls of the pass: %s at %d users.", routeList(last.pass.routes), last.users),
		"The pass checks: exactly one share change per due user on the fake, every change reported done, the " +
			"fake's shares afterwards as planned; the 2nd pass right after finds nothing due. The run fails when the " +
			"calls besides the share changes differ between sizes.",
		"Process CPU is the whole process's user + system time during the pass (the fake answering in the same " +
			"process and Badger's background work included), after a GC; it does not grow when other programs take " +
			"the CPUs, unlike wall time. Plex in flight is the time at least one request was inside the fake's handler " +
			"(no latency is injected here): the rest of the wall time is the pass's own work and its store writes. The " +
			"fake's handlers column is the sum of its requests' times (its own work in this process, on the same " +
			"CPUs); CPU − fake's handlers is a rough estimate of the pass's own CPU time (handler time is wall time, " +
			"so the estimate is low when the machine is busy).",
	}
	if first := runs[0]; len(runs) > 1 && first.cpuOK && last.cpuOK && first.cpu > 0 {
		note := fmt.Sprintf("From %d to %d users (×%.0f, same %d due) the process CPU of the pass changes ×%.2f, "+
			"its wall time ×%.2f and the fake's handler time ×%.2f", first.users, last.users,
			float64(last.users)/float64(first.users), c.enforceDue, float64(last.cpu)/float64(first.cpu),
			float64(last.wall)/float64(max(first.wall, 1)), float64(last.plex.handled)/float64(max(first.plex.handled, 1)))
		if a, b := first.cpu-first.plex.handled, last.cpu-last.plex.handled; a > 0 && b > 0 {
			note += fmt.Sprintf("; CPU − fake's handlers ×%.2f", float64(b)/float64(a))
		}
		notes = append(notes, note+".")
	}
	if last.pass.lists > 0 || last.pass.other > 0 {
		var extra []string
		for _, r := range slices.Sorted(maps.Keys(last.pass.routes)) {
			if !slices.Contains(shareChangeRoutes, r) {
				extra = append(extra, fmt.Sprintf("`%s` ×%d", r, last.pass.routes[r]))
			}
		}
		notes = append(notes, "Calls besides the share changes (constant across sizes): "+strings.Join(extra, ", ")+".")
	}
	return result{tables: []table{t}, notes: notes}, nil
}
