package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// writeMode is one configuration of the store-write benchmark.
type writeMode struct {
	name  string
	sync  bool
	guard bool
}

// benchStoreWrite measures what the free-space guard adds to a commit: rounds of back-to-back
// single-setting commits, alternating guard on and off on the same directory, with and without fsync.
func benchStoreWrite(ctx context.Context, c config, log io.Writer) (result, error) {
	dir, err := os.MkdirTemp("", "plex-manager-bench-write-")
	if err != nil {
		return result{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	statfsCost, statfsErr := statfsCost(dir)
	t := table{header: []string{"fsync", "guard", "rounds", "commits", "commits/s", "p50", "p95", "p99",
		"guard on / off (commits/s)"}}
	var notes []string
	for _, sync := range []bool{true, false} {
		modes := []writeMode{{"on", sync, true}, {"off", sync, false}}
		samples := map[bool][]time.Duration{}
		counts := map[bool]int{}
		elapsed := map[bool]time.Duration{}
		for round := range c.rounds {
			// Alternate which mode goes first, so drift over the run cancels.
			order := modes
			if round%2 == 1 {
				order = []writeMode{modes[1], modes[0]}
			}
			for _, m := range order {
				lat, took, err := writeRound(ctx, filepath.Join(dir, "db"), m, c.writeTime)
				if err != nil {
					return result{}, fmt.Errorf("fsync %v, guard %v: %w", m.sync, m.guard, err)
				}
				samples[m.guard] = append(samples[m.guard], lat...)
				counts[m.guard] += len(lat)
				elapsed[m.guard] += took
			}
			fmt.Fprintf(log, "store-write: fsync %v round %d/%d done\n", sync, round+1, c.rounds)
		}
		rate := func(guard bool) float64 { return float64(counts[guard]) / elapsed[guard].Seconds() }
		ratio := rate(true) / rate(false)
		for _, m := range modes {
			d := summarize(samples[m.guard])
			cell := ""
			if m.guard {
				cell = fmt.Sprintf("%.1f %%", 100*ratio)
			}
			t.add(onOff(sync), m.name, c.rounds, counts[m.guard], sig3(rate(m.guard)), fmtDur(d.p50), fmtDur(d.p95), fmtDur(d.p99), cell)
		}
	}
	cost := "could not be measured here (" + fmt.Sprint(statfsErr) + ")"
	if statfsErr == nil {
		cost = "costs " + fmtDur(statfsCost) + " here (median of 10,000 calls)"
	}
	notes = append(notes, "One statfs of the data directory's file system "+cost+"; the guard makes one per "+
		"read-write transaction. Ratios come from rounds of the same run, alternately first.")
	return result{tables: []table{t}, notes: notes}, nil
}

// writeRound opens a store on dir with mode m, commits settings back to back for d, closes it, and
// returns each commit's latency and the time the commits took.
func writeRound(ctx context.Context, dir string, m writeMode, d time.Duration) ([]time.Duration, time.Duration, error) {
	opts := storage.DefaultOptions(dir, nil)
	opts.SyncWrites = m.sync
	if !m.guard {
		opts.MinFreeBytes = -1
	}
	s, err := storage.Open(opts)
	if err != nil {
		return nil, 0, err
	}
	defer s.Close()
	var lat []time.Duration
	start := time.Now()
	for i := 0; time.Since(start) < d || len(lat) < 10; i++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		t0 := time.Now()
		if err := s.PutSetting("bench.write", i); err != nil {
			return nil, 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, time.Since(start), nil
}

// onOff formats a switch.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
