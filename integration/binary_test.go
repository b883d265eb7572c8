package integration

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// caddyBinary builds ./cmd/caddy once per test binary. The smoke tests below run it as a user would.
var caddyBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp(os.Getenv("XDG_DATA_HOME"), "bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "caddy")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/caddy")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/caddy: %v\n%s", err, out)
	}
	return bin, nil
})

func buildCaddy(t *testing.T) string {
	t.Helper()
	bin, err := caddyBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// runCaddyCmd runs the binary with args and returns its combined output.
func runCaddyCmd(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestBinaryListsModulesAndAdaptsExamples(t *testing.T) {
	bin := buildCaddy(t)
	mods := runCaddyCmd(t, bin, "list-modules")
	for _, m := range []string{"plex_manager", "http.handlers.plex_manager", "admin.api.plex_manager"} {
		if !strings.Contains(mods, "\n"+m+"\n") && !strings.HasPrefix(mods, m+"\n") {
			t.Errorf("list-modules lacks %s", m)
		}
	}
	help := runCaddyCmd(t, bin, "plex-manager", "--help")
	if !strings.Contains(help, "backup") || !strings.Contains(help, "restore") {
		t.Errorf("plex-manager --help:\n%s", help)
	}
	for _, f := range []string{"../Caddyfile.example", "../Caddyfile.demo"} {
		out := runCaddyCmd(t, bin, "adapt", "--config", f, "--validate=false")
		if !strings.Contains(out, `"plex_manager"`) {
			t.Errorf("adapt %s: %s", f, out)
		}
		if strings.Contains(strings.ToLower(out), "warn") {
			t.Errorf("adapt %s printed a warning: %s", f, out)
		}
	}
}

// freePort returns a port no process listens on now, on any address.
func freePort(t *testing.T) int {
	t.Helper()
	// Below Linux's ephemeral range (32768–60999): a port the kernel hands out for ":0" can be taken
	// again by any outgoing connection before the child Caddy binds it (CI saw "bind: address already
	// in use"). Caddy listens on every address, so that is what is checked.
	for range 200 {
		port := 20000 + rand.N(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

// startCaddy runs `caddy run` with a Caddyfile in a private environment and waits for the admin
// endpoint. It returns the admin address and a stop function.
func startCaddy(t *testing.T, bin, caddyfile string) (admin string, stop func()) {
	t.Helper()
	dir := testDir(t, "run")
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("caddy did not stop on SIGINT; logs:\n%s", logs.String())
		}
	}
	admin = adminFromCaddyfile(caddyfile)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/plex_manager/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return admin, stop
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("caddy exited early: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("caddy did not come up; logs:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func adminFromCaddyfile(cf string) string {
	for _, line := range strings.Split(cf, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "admin" {
			return f[1]
		}
	}
	return "localhost:2019"
}

// TestBackupAndRestoreCommands runs the release binary, takes an online backup with
// `caddy plex-manager backup`, stops Caddy, restores into a new directory with
// `caddy plex-manager restore`, and checks the restored data with storage.Verify and by running Caddy on it.
func TestBackupAndRestoreCommands(t *testing.T) {
	bin := buildCaddy(t)
	adminPort, httpPort := freePort(t), freePort(t)
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	dataDir := filepath.Join(testDir(t, "pm"), "data")
	config := func(dir string) string {
		return fmt.Sprintf(`{
	admin %s
	http_port %d
	persist_config off
	plex_manager {
		data_dir %s
	}
}

http://127.0.0.1:%d {
	plex_manager admin
}
`, admin, httpPort, dir, httpPort)
	}
	_, stop := startCaddy(t, bin, config(dataDir))
	before := getStatusAt(t, admin)
	backupFile := filepath.Join(testDir(t, "backup"), "pm.bak")
	out := runCaddyCmd(t, bin, "plex-manager", "backup", "--output", backupFile, "--address", admin)
	if !strings.Contains(out, "wrote "+backupFile) {
		t.Errorf("backup output: %s", out)
	}
	stop()

	restored := filepath.Join(testDir(t, "restored"), "data")
	out = runCaddyCmd(t, bin, "plex-manager", "restore", "--input", backupFile, "--data-dir", restored)
	if !strings.Contains(out, "restored") {
		t.Errorf("restore output: %s", out)
	}
	stats, err := storage.Verify(filepath.Join(restored, "db"))
	if err != nil {
		t.Fatalf("verify restored db: %v", err)
	}
	t.Logf("restored: %+v", stats)

	// Restoring into a non-empty directory is refused and changes nothing.
	cmd := exec.Command(bin, "plex-manager", "restore", "--input", backupFile, "--data-dir", restored)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("restore into a non-empty dir succeeded: %s", out)
	}

	// The restored data keeps the instance's identity and history.
	if err := copyFile(filepath.Join(dataDir, "secret.key"), filepath.Join(restored, "secret.key")); err != nil {
		t.Fatal(err)
	}
	_, stop = startCaddy(t, bin, config(restored))
	defer stop()
	after := getStatusAt(t, admin)
	if after.ClientID != before.ClientID {
		t.Errorf("client id after restore %q, want %q", after.ClientID, before.ClientID)
	}
	if after.Starts != before.Starts+1 {
		t.Errorf("starts after restore = %d, want %d", after.Starts, before.Starts+1)
	}
}

func getStatusAt(t *testing.T, admin string) adminStatus {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	code, body, _ := get(t, c, "http://"+admin+"/plex_manager/status")
	if code != http.StatusOK {
		t.Fatalf("status: %d %s", code, body)
	}
	var s adminStatus
	if err := jsonUnmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
