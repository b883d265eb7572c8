// Package integration runs the plugin inside a real, in-process Caddy (caddytest) against the Plex fake.
// All caddytest tests live in this one package because caddytest uses fixed ports (admin 2999, HTTP
// 9080, HTTPS 9443) and one Caddy per test binary; none of them may run in parallel.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// reexecEnv marks the child process TestMain starts.
const reexecEnv = "PLEX_MANAGER_IT_CHILD"

// TestMain gives the tests private XDG directories. Caddy computes its config and data paths in package
// variables at init time, before TestMain runs, so setting the variables here would be too late: the
// test binary runs itself again with them set, so `go test ./...` needs no wrapper script and never
// writes into the developer's real ~/.config/caddy or ~/.local/share/caddy.
func TestMain(m *testing.M) {
	if os.Getenv(reexecEnv) == "1" {
		os.Exit(m.Run())
	}
	tmp, err := os.MkdirTemp("", "plex-manager-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		os.Exit(1)
	}
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			os.Exit(1)
		}
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
	cmd.Env = append(os.Environ(),
		reexecEnv+"=1",
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"),
	)
	// HOME stays as it is: the tests run `go build`, which must keep using the developer's Go caches.
	code := 0
	if err := cmd.Run(); err != nil {
		code = 1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			fmt.Fprintln(os.Stderr, "integration: running the tests:", err)
		}
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

// TestIsolatedXDG guards the re-exec: a test run must never touch the real Caddy directories.
func TestIsolatedXDG(t *testing.T) {
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME"} {
		dir := os.Getenv(v)
		if dir == "" || !filepath.IsAbs(dir) || filepath.Base(filepath.Dir(dir))[:len("plex-manager-it-")] != "plex-manager-it-" {
			t.Fatalf("%s = %q, want a private temp dir", v, dir)
		}
	}
}
