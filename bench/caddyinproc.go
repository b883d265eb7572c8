package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"

	// Caddy's standard modules and the plugin, as in ./cmd/caddy.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/plex-manager/caddy-plex-manager"
)

// isolateCaddy points Caddy's own directories (instance id, anything of its default storage) into
// dir, so that an in-process Caddy never touches the user's ~/.config/caddy or ~/.local/share/caddy.
// The configs below also name their storage and turn config persistence off.
func isolateCaddy(dir string) error {
	for _, kv := range [][2]string{{"XDG_CONFIG_HOME", "config"}, {"XDG_DATA_HOME", "data"}} {
		p := filepath.Join(dir, kv[1])
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", p, err)
		}
		if err := os.Setenv(kv[0], p); err != nil {
			return fmt.Errorf("setting %s: %w", kv[0], err)
		}
	}
	return nil
}

// abSites is the in-process config of the invite-page benchmark: the plex_manager app, an invite
// site and one respond site per page under test, each its own server on a loopback port.
type abSites struct {
	dataDir    string // plex_manager data_dir
	storageDir string // Caddy's storage (certificates, locks); unused without TLS but never the default
	invitePort int
	// respondPorts and respondBodies are the respond sites, one per page under test, in order.
	respondPorts  []int
	respondBodies []string
}

// trustedLoopback is the proxy set of every server of the invite-page benchmark: like a Caddy
// behind a reverse proxy on the same host, it takes the client address from X-Forwarded-For when
// the connection comes from loopback. The load generator sends each request from a simulated
// client address that way, so the invite handler's per-client rate limit sees many clients.
const trustedLoopback = "127.0.0.0/8"

// clientIPHeader is the header the benchmark's servers read the client address from.
const clientIPHeader = "X-Forwarded-For"

// configJSON is the Caddy JSON config of the sites.
func (s abSites) configJSON() ([]byte, error) {
	if len(s.respondPorts) != len(s.respondBodies) {
		return nil, fmt.Errorf("%d respond ports for %d bodies", len(s.respondPorts), len(s.respondBodies))
	}
	server := func(port int, handler map[string]any) map[string]any {
		return map[string]any{
			"listen":            []string{"127.0.0.1:" + strconv.Itoa(port)},
			"automatic_https":   map[string]any{"disable": true},
			"routes":            []any{map[string]any{"handle": []any{handler}}},
			"trusted_proxies":   map[string]any{"source": "static", "ranges": []string{trustedLoopback}},
			"client_ip_headers": []string{clientIPHeader},
		}
	}
	servers := map[string]any{
		"invite": server(s.invitePort, map[string]any{"handler": "plex_manager", "mode": "invite"}),
	}
	for i, port := range s.respondPorts {
		servers["respond"+strconv.Itoa(i)] = server(port, map[string]any{"handler": "static_response", "status_code": 200,
			"headers": map[string][]string{"Content-Type": {"text/html; charset=utf-8"}},
			"body":    s.respondBodies[i]})
	}
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"storage": map[string]any{"module": "file_system", "root": s.storageDir},
		"apps": map[string]any{
			"plex_manager": map[string]any{"data_dir": s.dataDir},
			"http":         map[string]any{"servers": servers},
		},
	}
	return json.Marshal(cfg)
}

// fillerBody returns n bytes of HTML-looking text without "{" (static_response expands
// placeholders, which would change the size).
func fillerBody(n int) string {
	const line = "<p>Plex Manager benchmark filler: the same number of bytes as the invite page.</p>\n"
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(line)
	}
	return b.String()[:n]
}

// loadCaddy replaces the running in-process config.
func loadCaddy(s abSites) error {
	cfg, err := s.configJSON()
	if err != nil {
		return fmt.Errorf("encoding the Caddy config: %w", err)
	}
	return loadCaddyJSON(cfg)
}

// loadCaddyJSON replaces the running in-process config with cfg.
func loadCaddyJSON(cfg []byte) error {
	if err := caddy.Load(cfg, true); err != nil {
		return fmt.Errorf("loading the Caddy config: %w", err)
	}
	return nil
}

// stopCaddy stops the in-process config.
func stopCaddy() error {
	if err := caddy.Stop(); err != nil {
		return fmt.Errorf("stopping Caddy: %w", err)
	}
	return nil
}
