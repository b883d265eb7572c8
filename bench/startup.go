package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startupCaddyfile is the config of one start: the admin endpoint (for /debug/vars), the app with
// its data_dir, and an admin and an invite site, all on loopback.
func startupCaddyfile(adminPort, invitePort, adminSitePort int, dataDir, storageDir string) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	persist_config off
	auto_https off
	storage file_system {
		root %s
	}
	plex_manager {
		data_dir %s
	}
}

http://127.0.0.1:%d {
	bind 127.0.0.1
	plex_manager invite
}

http://127.0.0.1:%d {
	bind 127.0.0.1
	plex_manager admin
}
`, adminPort, storageDir, dataDir, invitePort, adminSitePort)
}

// caddyCommand returns a function that prepares `caddy <args>` for the binary the config names:
// ./cmd/caddy built into dir, a given path, or this program (selfBinary). label describes it.
func caddyCommand(ctx context.Context, c config, dir string) (mk func(args ...string) (*exec.Cmd, error), label string, err error) {
	switch c.caddyBin {
	case selfBinary:
		return func(args ...string) (*exec.Cmd, error) { return childCommand("caddy", nil, args...) },
			"this bench program acting as Caddy (same modules as ./cmd/caddy, plus the bench code)", nil
	case "":
		bin, took, err := buildCaddy(ctx, dir)
		if err != nil {
			return nil, "", err
		}
		label = fmt.Sprintf("./cmd/caddy built by the run with `go build` (%s, checkout at %s)", fmtDur(took), gitRevision())
		c.caddyBin = bin
	default:
		label = "`" + c.caddyBin + "`"
	}
	bin := c.caddyBin
	return func(args ...string) (*exec.Cmd, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = withoutEnv(os.Environ(), childEnv, childArgsEnv)
		return cmd, nil
	}, label, nil
}

// buildCaddy builds ./cmd/caddy of this module into dir.
func buildCaddy(ctx context.Context, dir string) (string, time.Duration, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", 0, fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", 0, errors.New("not inside the module: run from the repository or pass -caddy-bin")
	}
	bin := filepath.Join(dir, "caddy")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/caddy")
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("go build ./cmd/caddy: %w\n%s", err, b)
	}
	return bin, time.Since(start), nil
}

// startReading is one start's measurements.
type startReading struct {
	firstResponse time.Duration
	atFirst       procMemory
	heapAtFirst   uint64
	afterIdle     procMemory
	heapAfterIdle uint64
}

// startOnce seeds a fresh data directory with users, starts Caddy, measures and stops it.
func startOnce(ctx context.Context, mk func(args ...string) (*exec.Cmd, error), root string, users int, idle time.Duration) (startReading, error) {
	var rd startReading
	dir, err := os.MkdirTemp(root, "start-")
	if err != nil {
		return rd, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	dataDir := filepath.Join(dir, "pm")
	if users > 0 {
		if err := seedDir(filepath.Join(dataDir, "db"), users); err != nil {
			return rd, err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return rd, err
	}
	cfgPath := filepath.Join(dir, "Caddyfile")
	cf := startupCaddyfile(ports[0], ports[1], ports[2], dataDir, filepath.Join(dir, "caddy-storage"))
	if err := os.WriteFile(cfgPath, []byte(cf), 0o600); err != nil {
		return rd, fmt.Errorf("writing the Caddyfile: %w", err)
	}
	cmd, err := mk("run", "--config", cfgPath, "--adapter", "caddyfile")
	if err != nil {
		return rd, err
	}
	cmd.Env = append(cmd.Env, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "HOME="+filepath.Join(dir, "home"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	dieWithParent(cmd)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 2 * time.Second}
	inviteURL := "http://127.0.0.1:" + strconv.Itoa(ports[1]) + "/"
	varsURL := "http://127.0.0.1:" + strconv.Itoa(ports[0]) + "/debug/vars"

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return rd, fmt.Errorf("starting Caddy: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			return nil
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("caddy did not stop within 20 s of SIGINT")
		}
	}
	defer func() { _ = stop() }()

	for {
		if status, err := getStatus(ctx, client, inviteURL); err == nil && status == http.StatusOK {
			rd.firstResponse = time.Since(start)
			break
		}
		select {
		case err := <-exited:
			stopped = true
			return rd, fmt.Errorf("caddy exited before answering: %v\n%s", err, tail(logs.String(), 2000))
		case <-ctx.Done():
			return rd, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			return rd, fmt.Errorf("no 200 from the invite site within a minute\n%s", tail(logs.String(), 2000))
		}
	}
	if rd.atFirst, err = readProcMemory(cmd.Process.Pid); err != nil {
		return rd, err
	}
	if rd.heapAtFirst, err = goHeap(ctx, client, varsURL); err != nil {
		return rd, err
	}
	select {
	case <-time.After(idle):
	case <-ctx.Done():
		return rd, ctx.Err()
	}
	if rd.afterIdle, err = readProcMemory(cmd.Process.Pid); err != nil {
		return rd, err
	}
	if rd.heapAfterIdle, err = goHeap(ctx, client, varsURL); err != nil {
		return rd, err
	}
	if err := stop(); err != nil {
		return rd, err
	}
	return rd, nil
}

// getStatus does one GET and returns the status.
func getStatus(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// goHeap reads memstats.HeapInuse from Caddy's admin /debug/vars.
func goHeap(ctx context.Context, client *http.Client, url string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /debug/vars: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /debug/vars: status %d", resp.StatusCode)
	}
	var vars struct {
		Memstats struct {
			HeapInuse uint64
		} `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		return 0, fmt.Errorf("decoding /debug/vars: %w", err)
	}
	if vars.Memstats.HeapInuse == 0 {
		return 0, errors.New("/debug/vars has no memstats.HeapInuse")
	}
	return vars.Memstats.HeapInuse, nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// benchStartup starts Caddy c.startupRuns times per seed size and reports medians.
func benchStartup(ctx context.Context, c config, log io.Writer) (result, error) {
	root, err := os.MkdirTemp("", "plex-manager-bench-startup-")
	if err != nil {
		return result{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(root)
	mk, label, err := caddyCommand(ctx, c, root)
	if err != nil {
		return result{}, err
	}
	t := table{header: []string{"users in the store", "starts", "first response (median)", "min – max",
		"VmRSS at first response", "VmRSS after idle", "VmHWM", "Go heap in use after idle"}}
	for _, users := range c.startupUsers {
		var readings []startReading
		for range c.startupRuns {
			rd, err := startOnce(ctx, mk, root, users, c.startupIdle)
			if err != nil {
				return result{}, fmt.Errorf("%d users: %w", users, err)
			}
			readings = append(readings, rd)
		}
		pick := func(f func(startReading) float64) float64 {
			xs := make([]float64, len(readings))
			for i, r := range readings {
				xs[i] = f(r)
			}
			return median(xs)
		}
		times := make([]time.Duration, len(readings))
		for i, r := range readings {
			times[i] = r.firstResponse
		}
		d := summarize(times)
		t.add(users, len(readings), fmtDur(d.p50), fmtDur(d.min)+" – "+fmtDur(d.max),
			mib(uint64(pick(func(r startReading) float64 { return float64(r.atFirst.rss) }))),
			mib(uint64(pick(func(r startReading) float64 { return float64(r.afterIdle.rss) }))),
			mib(uint64(pick(func(r startReading) float64 { return float64(r.afterIdle.hwm) }))),
			mib(uint64(pick(func(r startReading) float64 { return float64(r.heapAfterIdle) }))))
		fmt.Fprintf(log, "  %d users: first response %s\n", users, fmtDur(d.p50))
	}
	notes := []string{
		"Binary: " + label + ".",
		fmt.Sprintf("Each start gets a fresh data directory (seeded through the storage package when users > 0) "+
			"and fresh ports; the Caddyfile has the admin endpoint, the `plex_manager` app, one admin and one invite "+
			"site. First response = time from exec until `GET /` on the invite site answers 200 (polled every 2 ms). "+
			"Memory columns are medians over the starts; \"after idle\" is %s after the first response.", c.startupIdle),
	}
	return result{tables: []table{t}, notes: notes}, nil
}
