package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// childEnv, when set, makes the program act as a helper process instead of the runner:
// "store-heap" measures the store's heap in a clean process; "caddy" runs Caddy's command line
// (used by -caddy-bin self). childArgsEnv carries the helper's JSON arguments.
const (
	childEnv     = "PLEX_MANAGER_BENCH_CHILD"
	childArgsEnv = "PLEX_MANAGER_BENCH_CHILD_ARGS"
)

// runChild runs one helper mode and returns the exit code.
func runChild(mode string) int {
	switch mode {
	case "store-heap":
		var args heapArgs
		if err := json.Unmarshal([]byte(os.Getenv(childArgsEnv)), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bench child: arguments:", err)
			return 2
		}
		out, err := measureHeap(args)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			return 1
		}
		if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
			fmt.Fprintln(os.Stderr, "bench child: writing the result:", err)
			return 1
		}
		return 0
	case "caddy":
		caddycmd.Main() // exits the process itself
		return 0
	default:
		fmt.Fprintf(os.Stderr, "bench child: unknown mode %q\n", mode)
		return 2
	}
}

// childCommand prepares this program as a helper process in mode with JSON arguments.
func childCommand(mode string, args any, extra ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program: %w", err)
	}
	cmd := exec.Command(exe, extra...)
	env := withoutEnv(os.Environ(), childEnv, childArgsEnv)
	env = append(env, childEnv+"="+mode)
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("encoding child arguments: %w", err)
		}
		env = append(env, childArgsEnv+"="+string(b))
	}
	cmd.Env = env
	return cmd, nil
}

// withoutEnv drops the variables named in names from env.
func withoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || k == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
