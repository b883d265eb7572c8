package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr string
	}{
		{name: "defaults", args: nil,
			want: config{addr: "127.0.0.1:32400", servers: 3, friends: 40, historyDays: 120, seed: 1, pinInterval: time.Second}},
		{name: "all flags", args: []string{"-addr", "127.0.0.1:0", "-token", "T", "-servers", "2", "-friends", "5",
			"-history-days", "30", "-seed", "7", "-pin-interval", "50ms", "-minimal"},
			want: config{addr: "127.0.0.1:0", token: "T", servers: 2, friends: 5, historyDays: 30, seed: 7,
				pinInterval: 50 * time.Millisecond, minimal: true}},
		{name: "no servers", args: []string{"-servers", "0"}, wantErr: "-servers"},
		{name: "negative friends", args: []string{"-friends", "-1"}, wantErr: "-friends"},
		{name: "no history", args: []string{"-history-days", "0"}, wantErr: "-history-days"},
		{name: "bad addr", args: []string{"-addr", "nowhere"}, wantErr: "-addr"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "not defined"},
		{name: "extra args", args: []string{"x"}, wantErr: "unexpected"},
		{name: "bad duration", args: []string{"-pin-interval", "soon"}, wantErr: "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunServesIdentityAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "secret-owner-token", "-servers", "2",
			"-friends", "3", "-history-days", "5"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	base := ""
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if u, ok := strings.CutPrefix(line, "fakeplex: base URL "); ok {
			base = u
		}
		if strings.HasPrefix(line, "fakeplex: server") && len(lines) >= 4 {
			break
		}
	}
	if base == "" {
		t.Fatalf("no base URL printed: %q", lines)
	}
	res, err := http.Get(base + "/identity")
	if err != nil {
		t.Fatalf("GET /identity: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `machineIdentifier="93c418a691854d3be47ead674134d86a3f5e00f4"`) {
		t.Fatalf("identity = %d %s", res.StatusCode, body)
	}
	// The given token works on the PMS and is never printed.
	r, _ := http.NewRequest("GET", base+"/status/sessions", nil)
	r.Header.Set("X-Plex-Token", "secret-owner-token")
	res, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("GET /status/sessions: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("sessions status %d", res.StatusCode)
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
	out := strings.Join(lines, "\n")
	if strings.Contains(out, "secret-owner-token") || strings.Contains(out, "token-") {
		t.Fatalf("a token was printed:\n%s", out)
	}
	if !strings.Contains(out, "fakeplex: auth URL "+base+"/auth") {
		t.Fatalf("auth URL missing:\n%s", out)
	}
}

func TestRunFailsOnUnusableAddress(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "256.0.0.1:1"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listening") {
		t.Fatalf("run = %v, want a listen error", err)
	}
}
