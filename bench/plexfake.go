package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// loopbackListener listens on a kernel-chosen 127.0.0.1 port that is not one of reservedPorts.
func loopbackListener() (net.Listener, error) {
	var skipped []net.Listener // held open until the end so the kernel does not hand them out again
	defer func() {
		for _, l := range skipped {
			_ = l.Close()
		}
	}()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listening on loopback: %w", err)
		}
		if !slices.Contains(reservedPorts, l.Addr().(*net.TCPAddr).Port) {
			return l, nil
		}
		skipped = append(skipped, l)
	}
	return nil, errors.New("no free loopback port after 100 tries")
}

// loopbackServer serves h over HTTP on a loopback port outside reservedPorts.
func loopbackServer(h http.Handler) (*httptest.Server, error) {
	l, err := loopbackListener()
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	return srv, nil
}

// plexFake is the Plex fake served on loopback with the real plex client and access gateway in
// front of it, as the app wires them.
type plexFake struct {
	fake  *plextest.Fake
	srv   *httptest.Server
	gw    access.Gateway
	timer *spanRecorder
}

// span is when the fake's handler started and finished one request.
type span struct{ start, end time.Time }

// spanRecorder wraps a handler and records the span of every request.
type spanRecorder struct {
	next  http.Handler
	mu    sync.Mutex
	spans []span
}

func (s *spanRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.next.ServeHTTP(w, r)
	end := time.Now()
	s.mu.Lock()
	s.spans = append(s.spans, span{start, end})
	s.mu.Unlock()
}

// take returns the recorded spans and forgets them.
func (s *spanRecorder) take() []span {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.spans
	s.spans = nil
	return out
}

// spanStats summarises the fake's request spans of one measurement.
type spanStats struct {
	// inFlight is the time at least one request was being answered (the union of the spans).
	inFlight time.Duration
	// handled is the sum of the spans (requests answered together count twice).
	handled time.Duration
	// maxConcurrent is the most requests answered at the same time.
	maxConcurrent int
}

// summarizeSpans computes spanStats.
func summarizeSpans(spans []span) spanStats {
	var st spanStats
	if len(spans) == 0 {
		return st
	}
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(a, b span) int { return a.start.Compare(b.start) })
	curStart, curEnd := sorted[0].start, sorted[0].end
	for _, sp := range sorted {
		st.handled += sp.end.Sub(sp.start)
		if sp.start.After(curEnd) {
			st.inFlight += curEnd.Sub(curStart)
			curStart, curEnd = sp.start, sp.end
		} else if sp.end.After(curEnd) {
			curEnd = sp.end
		}
	}
	st.inFlight += curEnd.Sub(curStart)
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(spans))
	for _, sp := range spans {
		edges = append(edges, edge{sp.start, 1}, edge{sp.end, -1})
	}
	// Ends sort before starts at the same instant: touching spans do not overlap.
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta
	})
	n := 0
	for _, e := range edges {
		n += e.delta
		st.maxConcurrent = max(st.maxConcurrent, n)
	}
	return st
}

// startPlexFake serves a fake seeded with seed (now: its clock, nil for time.Now). The client does
// not retry, so a failed request shows instead of being repeated.
func startPlexFake(seed plextest.Seed, now func() time.Time) (*plexFake, error) {
	fake := plextest.New(plextest.Options{Seed: seed, Now: now})
	timer := &spanRecorder{next: fake}
	srv, err := loopbackServer(timer)
	if err != nil {
		fake.Close()
		return nil, err
	}
	fake.SetBaseURL(srv.URL)
	client, err := plex.New(plex.Config{TVURL: fake.TVURL(), AuthURL: fake.AuthURL(), ClientID: "plex-manager-bench",
		Product: "Plex Manager Bench", Timeout: time.Minute, Retries: -1})
	if err != nil {
		srv.Close()
		fake.Close()
		return nil, fmt.Errorf("plex client: %w", err)
	}
	token := fake.OwnerToken()
	return &plexFake{fake: fake, srv: srv, timer: timer, gw: access.NewPlexGateway(client, func() string { return token })}, nil
}

// reset forgets the fake's call log and the recorded spans before a measurement.
func (p *plexFake) reset() {
	p.fake.ResetCalls()
	p.timer.take()
}

// close stops the server and the fake.
func (p *plexFake) close() {
	p.srv.Close()
	p.fake.Close()
}

// storeServers writes the fake's servers and their libraries to st, as the app does once it has
// read them from Plex.
func (p *plexFake) storeServers(st *storage.Store, now time.Time) error {
	for _, fs := range p.fake.Servers() {
		srv := storage.Server{ID: fs.MachineID, Name: fs.Name, URL: fs.URL, Version: fs.Version, Online: true,
			CheckedAt: now, CreatedAt: now, UpdatedAt: now}
		for _, l := range fs.Libraries {
			srv.Libraries = append(srv.Libraries, storage.Library{Key: l.Key, SectionID: l.SectionID, Title: l.Title, Type: l.Type})
		}
		if err := st.PutServer(srv); err != nil {
			return fmt.Errorf("storing server %s: %w", fs.Name, err)
		}
	}
	return nil
}

// callCounts counts the fake's logged requests per route ("(unknown route)" for none).
func callCounts(calls []plextest.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		r := c.Route
		if r == "" {
			r = "(unknown route) " + c.Method + " " + c.Path
		}
		out[r]++
	}
	return out
}

// routeList prints route counts as "`route` ×n, …" in route order.
func routeList(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("`%s` ×%d", r, counts[r]))
	}
	return strings.Join(parts, ", ")
}

// cpuSince returns the process CPU time used since cpu0 (read with processCPU); ok is false when
// either reading failed.
func cpuSince(cpu0 time.Duration, ok0 bool) (time.Duration, bool) {
	cpu1, ok1 := processCPU()
	if !ok0 || !ok1 {
		return 0, false
	}
	return cpu1 - cpu0, true
}

// fmtCPU prints a CPU time, or "n/a" when it could not be read.
func fmtCPU(d time.Duration, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmtDur(d)
}
