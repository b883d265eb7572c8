package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// plexServers is how many servers every seeded account shares.
const plexServers = 3

// usersSeed is a demo seed with three servers (and the demo's Home members, managed users and
// pending invites) plus n accounts, each sharing two libraries of every server.
func usersSeed(n int) plextest.Seed {
	seed := plextest.SeedDemo(plextest.DemoOptions{Servers: plexServers, Friends: -1, HistoryDays: 1, Seed: 11})
	for i := range n {
		id := int64(70_000_000 + i)
		seed.Accounts = append(seed.Accounts, plextest.Account{
			ID: id, Username: fmt.Sprintf("user%05d", i), Email: fmt.Sprintf("user%05d@example.com", i),
			Title: fmt.Sprintf("User %05d", i), Token: fmt.Sprintf("user-token-%d", i),
		})
		for _, s := range seed.Servers {
			seed.Shares = append(seed.Shares, plextest.Share{MachineID: s.MachineID, UserID: id,
				SectionIDs: []int64{s.Libraries[0].SectionID, s.Libraries[1].SectionID}, AllowSync: i%2 == 0})
		}
	}
	return seed
}

// listingStats is what listing n accounts measured.
type listingStats struct {
	accounts, listed, shares int
	requests                 int // per listing (identical for every listing, else an error)
	routes                   map[string]int
	wall                     durations
	// fakeUsers is the fake alone answering GET /api/users (no network, no client).
	fakeUsers durations
}

// timeFakeUsers serves GET /api/users from the fake directly, five times, and summarises the times.
func timeFakeUsers(fake *plextest.Fake, token string) (durations, error) {
	var times []time.Duration
	for range 5 {
		r := httptest.NewRequest(http.MethodGet, "/api/users", nil)
		r.Header.Set("X-Plex-Token", token)
		w := httptest.NewRecorder()
		t0 := time.Now()
		fake.ServeHTTP(w, r)
		times = append(times, time.Since(t0))
		if w.Code != http.StatusOK {
			return durations{}, fmt.Errorf("fake GET /api/users answered %d", w.Code)
		}
	}
	fake.ResetCalls()
	return summarize(times), nil
}

// measureListing lists the users of a fake seeded with n accounts for at least minTime and three
// listings, after one unmeasured listing.
func measureListing(ctx context.Context, n int, minTime time.Duration) (listingStats, error) {
	fake := plextest.New(plextest.Options{Seed: usersSeed(n)})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer fake.Close()
	fake.SetBaseURL(srv.URL)
	client, err := plex.New(plex.Config{TVURL: fake.TVURL(), AuthURL: fake.AuthURL(), ClientID: "plex-manager-bench",
		Product: "Plex Manager Bench", Timeout: time.Minute})
	if err != nil {
		return listingStats{}, fmt.Errorf("plex client: %w", err)
	}
	token := fake.OwnerToken()
	st := listingStats{accounts: n, requests: -1}
	if st.fakeUsers, err = timeFakeUsers(fake, token); err != nil {
		return st, err
	}
	if _, err := client.Users(ctx, token); err != nil {
		return st, fmt.Errorf("warm-up listing: %w", err)
	}
	var walls []time.Duration
	start := time.Now()
	for len(walls) < 3 || time.Since(start) < minTime {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		fake.ResetCalls()
		t0 := time.Now()
		users, err := client.Users(ctx, token)
		walls = append(walls, time.Since(t0))
		if err != nil {
			return st, fmt.Errorf("listing %d accounts: %w", n, err)
		}
		calls := fake.Calls()
		if st.requests >= 0 && len(calls) != st.requests {
			return st, fmt.Errorf("listing %d accounts took %d requests, an earlier one %d", n, len(calls), st.requests)
		}
		st.requests = len(calls)
		st.routes = map[string]int{}
		for _, c := range calls {
			st.routes[c.Route]++
		}
		st.listed, st.shares = len(users), 0
		for _, u := range users {
			st.shares += len(u.Shares)
		}
	}
	if st.listed < n {
		return st, fmt.Errorf("listed %d users, seeded %d", st.listed, n)
	}
	st.wall = summarize(walls)
	return st, nil
}

// benchPlexUsers measures listings at every size of c.plexUsers and requires a constant request
// count.
func benchPlexUsers(ctx context.Context, c config, log io.Writer) (result, error) {
	t := table{header: []string{"accounts seeded", "users listed", "shares listed", "requests / listing",
		"listings", "wall median", "wall p95", "wall mean", "fake alone: GET /api/users (median of 5)"}}
	var all []listingStats
	for _, n := range c.plexUsers {
		st, err := measureListing(ctx, n, c.plexTime)
		if err != nil {
			return result{}, err
		}
		fmt.Fprintf(log, "  %d accounts: %d requests, median %s\n", n, st.requests, fmtDur(st.wall.p50))
		all = append(all, st)
		t.add(n, st.listed, st.shares, st.requests, st.wall.n, fmtDur(st.wall.p50), fmtDur(st.wall.p95),
			fmtDur(st.wall.mean), fmtDur(st.fakeUsers.p50))
	}
	for _, st := range all[1:] {
		if st.requests != all[0].requests {
			return result{}, fmt.Errorf("requests per listing grow with the accounts: %d at %d, %d at %d",
				all[0].requests, all[0].accounts, st.requests, st.accounts)
		}
	}
	var routes []string
	for _, r := range slices.Sorted(maps.Keys(all[0].routes)) {
		routes = append(routes, fmt.Sprintf("`%s` ×%d", r, all[0].routes[r]))
	}
	notes := []string{
		fmt.Sprintf("Requests per listing are constant: %d at every size (%s).", all[0].requests, strings.Join(routes, ", ")),
		"Users listed include the demo seed's Home members, managed users and pending invitations besides the N accounts.",
		"Wall time includes the fake's own work in the same process; the last column is that work for the " +
			"biggest answer (plextest groups shares by account once per request since commit cf50efa). Most " +
			"of the rest is the client's XML decoding.",
	}
	if len(all) > 1 {
		first, last := all[0], all[len(all)-1]
		if first.accounts > 0 {
			notes = append(notes, fmt.Sprintf("From %d to %d accounts (×%.0f) the median wall time grows ×%.1f.",
				first.accounts, last.accounts, float64(last.accounts)/float64(first.accounts),
				float64(last.wall.p50)/float64(max(first.wall.p50, 1))))
		}
	}
	return result{tables: []table{t}, notes: notes}, nil
}
