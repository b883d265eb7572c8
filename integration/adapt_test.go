package integration

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

var update = flag.Bool("update", false, "rewrite the adapt golden files")

// TestAdaptGolden adapts every Caddyfile in caddyfile_adapt/ (plus the repository's Caddyfile.example and
// Caddyfile.demo) and compares the JSON with the golden file next to it. It also requires zero adapter
// warnings and `caddy fmt`-clean input, which caddytest.CompareAdapt does not check.
func TestAdaptGolden(t *testing.T) {
	inputs := map[string]string{
		"Caddyfile.example": filepath.Join("..", "Caddyfile.example"),
		"Caddyfile.demo":    filepath.Join("..", "Caddyfile.demo"),
	}
	files, err := filepath.Glob(filepath.Join("caddyfile_adapt", "*.caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		inputs[strings.TrimSuffix(filepath.Base(f), ".caddyfile")] = f
	}
	if len(inputs) < 4 {
		t.Fatalf("only %d adapt inputs found", len(inputs))
	}
	adapter := caddyconfig.GetAdapter("caddyfile")
	for name, path := range inputs {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if formatted := caddyfile.Format(src); !bytes.Equal(formatted, src) {
				t.Errorf("%s is not caddy fmt clean; formatted:\n%s", path, formatted)
			}
			out, warnings, err := adapter.Adapt(src, map[string]any{"filename": path})
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			for _, w := range warnings {
				t.Errorf("adapter warning: %s:%d: %s", w.File, w.Line, w.Message)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "\t"); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("caddyfile_adapt", name+".json")
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden file (run with -update to create): %v", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("adapted JSON differs from %s:\ngot:\n%s", golden, pretty.String())
			}
		})
	}
}
