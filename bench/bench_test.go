package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary act as the bench's helper processes (store-heap, and Caddy for
// -caddy-bin self), exactly like the bench program does.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

// TestShortRun is the CI smoke: every benchmark runs briefly through the real runner (in-process
// Caddy, child processes, load generator) and RESULTS.md is not written.
func TestShortRun(t *testing.T) {
	c, err := parseConfig([]string{"-short", "-out", filepath.Join(t.TempDir(), "RESULTS.md")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if err := run(ctx, c, "go run ./bench -short", &out); err != nil {
		t.Fatalf("short run: %v\n%s", err, out.String())
	}
	t.Logf("short run took %s", time.Since(start))
	for _, b := range benchmarks() {
		if !strings.Contains(out.String(), beginMarker(b.name)) || !strings.Contains(out.String(), endMarker(b.name)) {
			t.Errorf("no section for %s in:\n%s", b.name, out.String())
		}
	}
	if _, err := os.Stat(c.out); !os.IsNotExist(err) {
		t.Errorf("short mode wrote %s (stat: %v)", c.out, err)
	}
	for _, want := range []string{"requests / listing", "store's share at rest", "allocs / call",
		"invite / respond req/s", "first response (median)", "in flight ÷ latency", "share changes", "server p95",
		"short mode: results not written"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRunWritesOnlyItsSections(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "RESULTS.md")
	old := resultsHeader + "\n" + beginMarker("startup") + "\nold startup figures\n" + endMarker("startup") + "\n" +
		"\n" + beginMarker("retired-bench") + "\nkept\n" + endMarker("retired-bench") + "\n"
	if err := os.WriteFile(out, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig([]string{"-run", "plex-users", "-plex-users", "5,20", "-plex-time", "50ms", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), c, "go run ./bench -run plex-users", io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"old startup figures", "kept", beginMarker("plex-users"), "Command: `go run ./bench -run plex-users`"} {
		if !strings.Contains(got, want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, beginMarker("plex-users")) > strings.Index(got, beginMarker("startup")) {
		t.Error("sections are not in registry order")
	}
	if strings.Index(got, beginMarker("retired-bench")) < strings.Index(got, beginMarker("startup")) {
		t.Error("unknown sections are not kept at the end")
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", check: func(t *testing.T, c config) {
			if c.short || c.out != "bench/RESULTS.md" || len(c.plexUsers) != 3 || c.rounds != 8 || c.caddyBin != "" {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "short keeps explicit flags", args: []string{"-short", "-rounds", "4", "-invite-path", "/abc"},
			check: func(t *testing.T, c config) {
				if !c.short || c.rounds != 4 || c.invitePath != "/abc" || c.roundTime != shortConfig().roundTime || c.caddyBin != selfBinary {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "selection", args: []string{"-run", "store-list, startup"}, check: func(t *testing.T, c config) {
			if strings.Join(c.only, "|") != "store-list|startup" {
				t.Errorf("only = %q", c.only)
			}
		}},
		{name: "sizes", args: []string{"-plex-users", "1,10_000", "-startup-users", "0"}, check: func(t *testing.T, c config) {
			if fmt.Sprint(c.plexUsers) != "[1 10000]" || fmt.Sprint(c.startupUsers) != "[0]" {
				t.Errorf("sizes = %v %v", c.plexUsers, c.startupUsers)
			}
		}},
		{name: "scenario sizes", args: []string{"-users-sizes", "10", "-enforce-users", "100,200", "-enforce-due", "10",
			"-sync-latency", "0s"}, check: func(t *testing.T, c config) {
			if fmt.Sprint(c.usersSizes, c.enforceUsers) != "[10] [100 200]" || c.enforceDue != 10 || c.syncLatency != 0 {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "short keeps scenario flags", args: []string{"-short", "-users-sizes", "50", "-sync-users", "7"},
			check: func(t *testing.T, c config) {
				if fmt.Sprint(c.usersSizes) != "[50]" || c.syncUsers != 7 || c.usersTime != shortConfig().usersTime {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "no users", args: []string{"-users-sizes", "0"}, wantErr: "-users-sizes values must be in"},
		{name: "fewer users than due", args: []string{"-enforce-users", "50", "-enforce-due", "100"}, wantErr: "-enforce-users values must be in"},
		{name: "negative latency", args: []string{"-sync-latency", "-1s"}, wantErr: "-sync-latency must be in"},
		{name: "endless users load", args: []string{"-users-time", "0s"}, wantErr: "-users-time must be in"},
		{name: "no sync users", args: []string{"-sync-users", "0"}, wantErr: "-sync-users must be positive"},
		{name: "bad size", args: []string{"-plex-users", "10,many"}, wantErr: `"many" is not a number`},
		{name: "negative size", args: []string{"-startup-users", "-5"}, wantErr: "negative"},
		{name: "empty sizes", args: []string{"-plex-users", ","}, wantErr: "at least one value"},
		{name: "zero workers", args: []string{"-workers", "0"}, wantErr: "-workers must be positive"},
		{name: "endless round", args: []string{"-round-time", "1h"}, wantErr: "-round-time must be in"},
		{name: "endless warm-up", args: []string{"-warmup", "2h"}, wantErr: "-warmup must be in"},
		{name: "too many rounds", args: []string{"-rounds", "5000"}, wantErr: "at most 1000"},
		{name: "relative path", args: []string{"-invite-path", "abc"}, wantErr: "must start with /"},
		{name: "invite code with slash", args: []string{"-seed-invite", "a/b"}, wantErr: "single path segment"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestRunRejectsUnknownBenchmark(t *testing.T) {
	c := defaultConfig()
	c.only = []string{"nope"}
	err := run(context.Background(), c, "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown benchmark "nope"`) {
		t.Fatalf("error = %v", err)
	}
}

func TestSummarize(t *testing.T) {
	var sample []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		sample = append(sample, time.Duration(i)*time.Millisecond)
	}
	d := summarize(sample)
	want := durations{n: 100, mean: 50500 * time.Microsecond, min: time.Millisecond, max: 100 * time.Millisecond,
		p50: 50 * time.Millisecond, p90: 90 * time.Millisecond, p95: 95 * time.Millisecond, p99: 99 * time.Millisecond}
	if d != want {
		t.Errorf("summary = %+v, want %+v", d, want)
	}
	if sample[0] != 100*time.Millisecond {
		t.Error("summarize sorted the caller's slice")
	}
	if one := summarize([]time.Duration{7}); one.p50 != 7 || one.p99 != 7 || one.mean != 7 {
		t.Errorf("one sample = %+v", one)
	}
	if (summarize(nil) != durations{}) {
		t.Error("empty sample not zero")
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2 {
		t.Errorf("median = %v", m)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{999, "999 ns"}, {1500, "1.50 µs"}, {12345 * time.Microsecond, "12.3 ms"},
		{345 * time.Millisecond, "345 ms"}, {2500 * time.Millisecond, "2.50 s"},
	}
	for _, tc := range tests {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := mib(3 << 19); got != "1.5 MiB" {
		t.Errorf("mib = %q", got)
	}
	tb := table{header: []string{"a", "b|c"}}
	tb.add(1, "x|y")
	if got := tb.markdown(); got != "| a | b\\|c |\n| --- | --- |\n| 1 | x\\|y |\n" {
		t.Errorf("markdown = %q", got)
	}
	if got := commandLine([]string{"-run", "a,b", "-invite-path", "/x y"}); got != "go run ./bench -run a,b -invite-path '/x y'" {
		t.Errorf("command = %q", got)
	}
}

func TestParseProcStatus(t *testing.T) {
	good := "Name:\tcaddy\nVmPeak:\t  900 kB\nVmHWM:\t   61440 kB\nVmRSS:\t   59392 kB\nThreads: 9\n"
	m, err := parseProcStatus(bufio.NewScanner(strings.NewReader(good)))
	if err != nil || m.rss != 59392<<10 || m.hwm != 61440<<10 {
		t.Fatalf("memory = %+v, %v", m, err)
	}
	for name, bad := range map[string]string{
		"missing": "Name: caddy\nVmRSS: 10 kB\n",
		"unit":    "VmRSS: 10 MB\nVmHWM: 10 kB\n",
		"number":  "VmRSS: ten kB\nVmHWM: 10 kB\n",
	} {
		if _, err := parseProcStatus(bufio.NewScanner(strings.NewReader(bad))); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := readProcMemory(os.Getpid()); err != nil {
		t.Errorf("own process: %v", err)
	}
}

func TestFreePortsAvoidReserved(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p == 2999 || p == 9080 || p == 9443 || p == 2019 {
			t.Errorf("port %d in %v", p, ports)
		}
		seen[p] = true
	}
}

func TestFillerBody(t *testing.T) {
	for _, n := range []int{1, 80, 1970, 10_000} {
		b := fillerBody(n)
		if len(b) != n || strings.ContainsAny(b, "{}") {
			t.Errorf("fillerBody(%d) has %d bytes or braces", n, len(b))
		}
	}
}

// TestLoadChecksAnswers runs the load generator against a local server whose answers go wrong.
func TestLoadChecksAnswers(t *testing.T) {
	const body = "0123456789"
	var mode atomic.Value // the server's behaviour, changed between rounds
	mode.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "short":
			_, _ = io.WriteString(w, body[:5])
		case "status":
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, body)
		default:
			_, _ = io.WriteString(w, body)
		}
	}))
	defer srv.Close()
	tg, err := newTarget("test", srv.URL, http.StatusOK, int64(len(body)), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close()
	ctx := context.Background()

	ok := load(ctx, tg, 2, 50*time.Millisecond)
	if ok.errors != 0 || ok.requests == 0 || len(ok.latency) != ok.requests || ok.rps() <= 0 {
		t.Fatalf("good round = %d ok, %d bad, %v", ok.requests, ok.errors, ok.firstErr)
	}
	for _, m := range []string{"short", "status"} {
		mode.Store(m)
		r := load(ctx, tg, 2, 30*time.Millisecond)
		if r.requests != 0 || r.errors == 0 || r.firstErr == nil {
			t.Errorf("%s: %d ok, %d bad, %v", m, r.requests, r.errors, r.firstErr)
		}
	}
	mode.Store("status")
	other, err := newTarget("other", srv.URL, http.StatusOK, int64(len(body)), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer other.close()
	if _, err := alternate(ctx, tg, other, 2, 2, 20*time.Millisecond, 0); err == nil || !strings.Contains(err.Error(), "bad answers") {
		t.Errorf("alternate with bad answers: %v", err)
	}
	mode.Store("")
	ab, err := alternate(ctx, tg, other, 2, 3, 20*time.Millisecond, 10*time.Millisecond)
	if err != nil || len(ab.pairRatios) != 3 || ab.a.requests == 0 || ab.b.requests == 0 {
		t.Fatalf("alternate = %+v, %v", ab.pairRatios, err)
	}

	if _, err := newTarget("remote", "http://example.com/", 200, 1, 1); err == nil {
		t.Error("a non-loopback target was accepted")
	}
}
