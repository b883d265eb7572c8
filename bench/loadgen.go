package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// target is one page under load: every answer must have status and exactly size body bytes.
type target struct {
	name   string
	url    string
	status int
	size   int64
	client *http.Client
	// clients, when set, gives every request a simulated client address in X-Forwarded-For.
	clients *clientPool
}

// newTarget builds a target with its own keep-alive connection pool of workers connections. The
// URL must be on the loopback interface.
func newTarget(name, rawURL string, status int, size int64, workers int) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", name, err)
	}
	if u.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("target %s: load is only sent to 127.0.0.1, not %q", name, u.Hostname())
	}
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy from the environment
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &target{name: name, url: rawURL, status: status, size: size,
		client: &http.Client{Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// close drops the target's idle connections.
func (t *target) close() { t.client.CloseIdleConnections() }

// round is what one round of load on one target measured.
type round struct {
	requests int // answered as expected
	errors   int // transport errors, wrong status or wrong size
	elapsed  time.Duration
	// cpu is the whole process's CPU time during the round (load generator included); cpuOK is false
	// where it cannot be read.
	cpu      time.Duration
	cpuOK    bool
	latency  []time.Duration
	firstErr error
}

// cpuPerRequest is the process CPU time per good answer (0 when unknown).
func (r round) cpuPerRequest() time.Duration {
	if !r.cpuOK || r.requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.requests)
}

// rps is the round's rate of good answers.
func (r round) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// load runs workers clients against t for d (each finishes its request in flight) and returns
// the merged round. ctx ends it early.
func load(ctx context.Context, t *target, workers int, d time.Duration) round {
	type workerResult struct {
		ok, bad int
		lat     []time.Duration
		err     error
	}
	results := make([]workerResult, workers)
	var wg sync.WaitGroup
	cpu0, ok0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[w]
			res.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				err := t.get(ctx)
				if err != nil {
					res.bad++
					if res.err == nil {
						res.err = err
					}
					continue
				}
				res.lat = append(res.lat, time.Since(t0))
				res.ok++
			}
		}()
	}
	wg.Wait()
	r := round{elapsed: time.Since(start)}
	if cpu1, ok1 := processCPU(); ok0 && ok1 {
		r.cpu, r.cpuOK = cpu1-cpu0, true
	}
	for _, w := range results {
		r.requests += w.ok
		r.errors += w.bad
		r.latency = append(r.latency, w.lat...)
		if r.firstErr == nil {
			r.firstErr = w.err
		}
	}
	return r
}

// get does one request and checks its answer.
func (t *target) get(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return err
	}
	if t.clients != nil {
		req.Header[clientIPHeader] = []string{t.clients.addr()}
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("reading %s: %w", t.name, err)
	case resp.StatusCode != t.status:
		return fmt.Errorf("%s answered %d, want %d", t.name, resp.StatusCode, t.status)
	case n != t.size:
		return fmt.Errorf("%s sent %d bytes, want %d", t.name, n, t.size)
	}
	return nil
}

// abResult is the outcome of alternating rounds on two targets.
type abResult struct {
	a, b       round     // merged over the rounds
	pairRatios []float64 // a/b requests per second, one per adjacent pair of rounds
}

// abPair is two targets compared in the same rounds.
type abPair struct{ a, b *target }

// alternate is alternatePairs with one pair.
func alternate(ctx context.Context, a, b *target, workers, rounds int, roundTime, warmup time.Duration) (abResult, error) {
	res, err := alternatePairs(ctx, []abPair{{a, b}}, workers, rounds, roundTime, warmup)
	if err != nil {
		return abResult{}, err
	}
	return res[0], nil
}

// alternatePairs warms every target up, then runs rounds rounds of each: a round loads every
// target once for roundTime, pairs in order and A before B (A1 B1 A2 B2 …), and every other round
// runs that sequence backwards (… B2 A2 B1 A1), so each A and its B stay adjacent and drift
// cancels. It returns one merged result per pair. Any error answer fails the run.
func alternatePairs(ctx context.Context, pairs []abPair, workers, rounds int, roundTime, warmup time.Duration) ([]abResult, error) {
	if len(pairs) == 0 {
		return nil, errors.New("no targets to load")
	}
	var seq []*target
	for _, p := range pairs {
		seq = append(seq, p.a, p.b)
	}
	if warmup > 0 {
		for _, t := range seq {
			if w := load(ctx, t, workers, warmup); w.errors > 0 {
				return nil, fmt.Errorf("warm-up of %s: %d bad answers, first: %w", t.name, w.errors, w.firstErr)
			}
		}
	}
	res := make([]abResult, len(pairs))
	for i := range res {
		res[i].a.cpuOK, res[i].b.cpuOK = true, true
	}
	merge := func(into *round, r round) {
		into.requests += r.requests
		into.errors += r.errors
		into.elapsed += r.elapsed
		into.cpu += r.cpu
		into.cpuOK = into.cpuOK && r.cpuOK
		into.latency = append(into.latency, r.latency...)
	}
	for i := range rounds {
		got := make(map[*target]round, len(seq))
		for k := range seq {
			t := seq[k]
			if i%2 == 1 {
				t = seq[len(seq)-1-k]
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := load(ctx, t, workers, roundTime)
			if r.errors > 0 {
				return nil, fmt.Errorf("round %d of %s: %d bad answers, first: %w", i+1, t.name, r.errors, r.firstErr)
			}
			if r.requests == 0 {
				return nil, fmt.Errorf("round %d of %s: no answer at all", i+1, t.name)
			}
			got[t] = r
		}
		for j, p := range pairs {
			ra, rb := got[p.a], got[p.b]
			merge(&res[j].a, ra)
			merge(&res[j].b, rb)
			res[j].pairRatios = append(res[j].pairRatios, ra.rps()/rb.rps())
		}
	}
	if rounds == 0 {
		return nil, errors.New("no rounds ran")
	}
	return res, nil
}
