package plexmanager

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// FuzzCaddyfile adapts arbitrary Caddyfiles, seeded with the project's examples and adapt tests,
// through Caddy's own Caddyfile adapter, which calls this package's global option and directive
// parsers. Adapting must never panic, and what it accepts must be a config the app and the
// handler can load: an App whose intervals are positive and whose lists hold no empty entry, and
// handlers whose mode is admin or invite with a base path that is empty or starts with "/".
//
//	go test . -run '^$' -fuzz FuzzCaddyfile -fuzztime 20s
func FuzzCaddyfile(f *testing.F) {
	for _, pattern := range []string{"Caddyfile.*", "integration/caddyfile_adapt/*.caddyfile"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil && !strings.HasSuffix(name, ".json") {
				f.Add(string(b))
			}
		}
	}
	f.Add("{\n\tplex_manager {\n\t\tsync_every 0s\n\t}\n}\n")
	f.Add("{\n\tplex_manager {\n\t\tplex {\n\t\t\tserver\n\t\t}\n\t}\n}\n")
	f.Add("{\n\tplex_manager\n\tplex_manager\n}\n")
	f.Add(":80 {\n\tplex_manager admin {\n\t\tbase_path manage\n\t}\n}\n")
	f.Add(":80 {\n\tplex_manager invite extra\n}\n")
	f.Add("{\n\tplex_manager {\n\t\tdiscord {\n\t\t\tclient_id \"\"\n\t\t}\n\t\tenforce_every -1s\n\t\tdemo yes\n\t}\n}\n")
	adapter := caddyconfig.GetAdapter("caddyfile")
	if adapter == nil {
		f.Fatal("the caddyfile adapter is not registered")
	}
	f.Fuzz(func(t *testing.T, input string) {
		out, _, err := adapter.Adapt([]byte(input), map[string]any{"filename": "Caddyfile"})
		if err != nil {
			return
		}
		var cfg struct {
			Apps map[string]json.RawMessage `json:"apps"`
		}
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatalf("adapted config is not JSON: %v", err)
		}
		if raw, ok := cfg.Apps["plex_manager"]; ok {
			var app App
			if err := json.Unmarshal(raw, &app); err != nil {
				t.Fatalf("the plex_manager app does not load: %v: %s", err, raw)
			}
			for name, d := range map[string]int64{"sync_every": int64(app.SyncEvery), "enforce_every": int64(app.EnforceEvery), "session_poll": int64(app.SessionPoll)} {
				if d < 0 {
					t.Fatalf("%s accepted as %d", name, d)
				}
			}
			if app.Plex != nil {
				for _, s := range app.Plex.Servers {
					if s == "" {
						t.Fatalf("an empty plex server was accepted: %s", raw)
					}
				}
			}
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if x["handler"] == "plex_manager" {
					b, _ := json.Marshal(x)
					var h Handler
					if err := json.Unmarshal(b, &h); err != nil {
						t.Fatalf("a plex_manager handler does not load: %v: %s", err, b)
					}
					if h.Mode != "admin" && h.Mode != "invite" {
						t.Fatalf("handler mode %q accepted", h.Mode)
					}
					if h.BasePath != "" && !strings.HasPrefix(h.BasePath, "/") {
						t.Fatalf("base_path %q accepted", h.BasePath)
					}
				}
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		var all any
		_ = json.Unmarshal(out, &all)
		walk(all)
	})
}

// FuzzGlobalOptionTokens feeds arbitrary token streams straight to the global option and the
// directive parsers (no Caddyfile lexer in between, so tokens the lexer never produces — empty
// ones, odd nesting — reach them too). They must return an error or a value, never panic.
func FuzzGlobalOptionTokens(f *testing.F) {
	f.Add("plex_manager\n{\nplex\n{\nserver\nhttp://x\n}\nsync_every\n1m\n}", "plex_manager\nadmin\n{\nbase_path\n/m\n}")
	f.Add("plex_manager\n{\n}", "plex_manager\ninvite")
	f.Add("plex_manager\n{\ndiscord\n{\nguild_id\n\n}\n}", "plex_manager\n{\n}")
	f.Fuzz(func(t *testing.T, option, directive string) {
		if _, err := parseGlobalOption(caddyfile.NewDispenser(tokensOf(option)), nil); err == nil {
			// Accepted tokens also pass a second time through a fresh App (no shared state).
			if _, err := parseGlobalOption(caddyfile.NewDispenser(tokensOf(option)), nil); err != nil {
				t.Fatalf("accepted once, refused the second time: %v", err)
			}
		}
		h := new(Handler)
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokensOf(directive))); err == nil {
			if h.Mode != "admin" && h.Mode != "invite" {
				t.Fatalf("mode %q accepted", h.Mode)
			}
			if h.BasePath != "" && !strings.HasPrefix(h.BasePath, "/") {
				t.Fatalf("base_path %q accepted", h.BasePath)
			}
		}
	})
}

// tokensOf makes one token per line; "{" and "}" lines are block delimiters, and a line's leading
// tabs set nothing (nesting comes from the braces, as the lexer's tokens carry it).
func tokensOf(s string) []caddyfile.Token {
	var toks []caddyfile.Token
	for i, line := range strings.Split(s, "\n") {
		toks = append(toks, caddyfile.Token{File: "Caddyfile", Line: i + 1, Text: line})
	}
	return toks
}
