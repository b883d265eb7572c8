package templates

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// vendorManifest is the shape of static/vendor/VENDOR.json written by scripts/vendor-assets.sh.
type vendorManifest struct {
	Packages []struct {
		Package   string `json:"package"`
		Version   string `json:"version"`
		Integrity string `json:"integrity"`
		Files     []struct {
			Path   string `json:"path"`
			Source string `json:"source"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
	} `json:"packages"`
}

var (
	exactVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkVendor verifies that every vendored file under static/vendor is recorded in VENDOR.json
// with its sha256, that every recorded file exists with that sum, and that versions are exact
// and htmx stays on 2.0.x.
func checkVendor(fsys fs.FS) error {
	raw, err := fs.ReadFile(fsys, "static/vendor/VENDOR.json")
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	var m vendorManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("parsing manifest: %w", err)
	}
	if len(m.Packages) == 0 {
		return fmt.Errorf("manifest lists no packages")
	}
	recorded := map[string]bool{}
	for _, p := range m.Packages {
		if !exactVersion.MatchString(p.Version) {
			return fmt.Errorf("%s: version %q is not an exact version", p.Package, p.Version)
		}
		if p.Package == "htmx.org" && !strings.HasPrefix(p.Version, "2.0.") {
			return fmt.Errorf("htmx.org %s: the UI is written for htmx 2.0.x", p.Version)
		}
		if !strings.HasPrefix(p.Integrity, "sha512-") {
			return fmt.Errorf("%s: integrity %q is not an npm sha512 integrity", p.Package, p.Integrity)
		}
		if len(p.Files) == 0 {
			return fmt.Errorf("%s: no files recorded", p.Package)
		}
		for _, f := range p.Files {
			if !sha256Hex.MatchString(f.SHA256) {
				return fmt.Errorf("%s: sha256 %q is malformed", f.Path, f.SHA256)
			}
			data, err := fs.ReadFile(fsys, path.Join("static/vendor", f.Path))
			if err != nil {
				return fmt.Errorf("recorded file %s: %w", f.Path, err)
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
				return fmt.Errorf("%s: sha256 %s, VENDOR.json records %s (re-run scripts/vendor-assets.sh)", f.Path, got, f.SHA256)
			}
			recorded[f.Path] = true
		}
	}
	return fs.WalkDir(fsys, "static/vendor", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, "static/vendor/")
		if rel != "VENDOR.json" && !recorded[rel] {
			return fmt.Errorf("vendored file %s is not recorded in VENDOR.json", rel)
		}
		return nil
	})
}

func TestVendoredFilesMatchManifest(t *testing.T) {
	if err := checkVendor(Files()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckVendorRejectsTampering(t *testing.T) {
	good := func() fstest.MapFS {
		sum := sha256.Sum256([]byte("htmx"))
		return fstest.MapFS{
			"static/vendor/htmx.min.js": {Data: []byte("htmx")},
			"static/vendor/VENDOR.json": {Data: []byte(`{"packages":[{"package":"htmx.org","version":"2.0.11",` +
				`"integrity":"sha512-abc","files":[{"path":"htmx.min.js","sha256":"` + hex.EncodeToString(sum[:]) + `"}]}]}`)},
		}
	}
	if err := checkVendor(good()); err != nil {
		t.Fatalf("untampered tree: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		want   string
	}{
		{"file changed", func(m fstest.MapFS) { m["static/vendor/htmx.min.js"] = &fstest.MapFile{Data: []byte("evil")} }, "sha256"},
		{"file missing", func(m fstest.MapFS) { delete(m, "static/vendor/htmx.min.js") }, "recorded file"},
		{"unrecorded file", func(m fstest.MapFS) { m["static/vendor/extra.js"] = &fstest.MapFile{Data: []byte("x")} }, "not recorded"},
		{"htmx 4", func(m fstest.MapFS) {
			m["static/vendor/VENDOR.json"].Data = []byte(strings.Replace(string(m["static/vendor/VENDOR.json"].Data), "2.0.11", "4.0.1", 1))
		}, "htmx 2.0.x"},
		{"version range", func(m fstest.MapFS) {
			m["static/vendor/VENDOR.json"].Data = []byte(strings.Replace(string(m["static/vendor/VENDOR.json"].Data), "2.0.11", "^2.0.0", 1))
		}, "exact version"},
		{"no manifest", func(m fstest.MapFS) { delete(m, "static/vendor/VENDOR.json") }, "reading manifest"},
		{"bad json", func(m fstest.MapFS) { m["static/vendor/VENDOR.json"].Data = []byte("{") }, "parsing manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			tt.mutate(m)
			err := checkVendor(m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("checkVendor = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// Patterns that would need 'unsafe-inline' in the CSP or run script from markup.
var inlineHazards = []struct {
	what string
	re   *regexp.Regexp
}{
	{"<style> element", regexp.MustCompile(`(?i)<style[\s>]`)},
	{"style attribute", regexp.MustCompile(`(?i)\sstyle\s*=`)},
	{"event handler attribute", regexp.MustCompile(`(?i)\son[a-z]+\s*=`)},
	{"javascript: URL", regexp.MustCompile(`(?i)javascript:`)},
	{"hx-on attribute", regexp.MustCompile(`(?i)\s(?:data-)?hx-on`)},
}

// scriptTag matches an opening <script> tag.
var scriptTag = regexp.MustCompile(`(?i)<script\b[^>]*>`)

// inlineHazard returns a description of the first CSP hazard in text, or "".
func inlineHazard(text string) string {
	for _, tag := range scriptTag.FindAllString(text, -1) {
		if !regexp.MustCompile(`(?i)\ssrc\s*=`).MatchString(tag) {
			return fmt.Sprintf("inline script %q", tag)
		}
	}
	for _, h := range inlineHazards {
		if loc := h.re.FindStringIndex(text); loc != nil {
			return fmt.Sprintf("%s at %q", h.what, text[loc[0]:min(len(text), loc[1]+20)])
		}
	}
	return ""
}

func TestTemplatesNeedNoUnsafeInline(t *testing.T) {
	var n int
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		n++
		data, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		if h := inlineHazard(string(data)); h != "" {
			t.Errorf("%s: %s", p, h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("checked %d template files, want the whole tree", n)
	}
}

func TestInlineHazardDetects(t *testing.T) {
	tests := []struct {
		text string
		bad  bool
	}{
		{`<script src="/static/x/app.js" defer></script>`, false},
		{`<script defer src="/a.js"></script>`, false},
		{`<script>alert(1)</script>`, true},
		{`<script type="module">x()</script>`, true},
		{`<style>body{}</style>`, true},
		{`<p style="color:red">`, true},
		{`<img src=x onerror="alert(1)">`, true},
		{`<a href="javascript:alert(1)">`, true},
		{`<button hx-on:click="x()">`, true},
		{`<p class="stylish" data-confirm="Remove?">`, false},
	}
	for _, tt := range tests {
		if got := inlineHazard(tt.text) != ""; got != tt.bad {
			t.Errorf("inlineHazard(%q) found=%v, want %v", tt.text, got, tt.bad)
		}
	}
}

func TestEmbeddedTree(t *testing.T) {
	for _, name := range []string{
		"layouts/base.html", "partials/admin-shell.html", "partials/public-shell.html", "pages/error.html",
		"pages/admin/home.html", "pages/invite/landing.html", "pages/invite/unusable.html",
		"static/app.css", "static/app.js", "static/theme.js", "static/icon.svg", "static/vendor/htmx.min.js",
	} {
		if _, err := fs.Stat(Files(), name); err != nil {
			t.Errorf("embedded tree lacks %s: %v", name, err)
		}
	}
	// The htmx-config meta tag must switch off htmx's injected <style>, which the CSP would block.
	base, err := fs.ReadFile(Files(), "layouts/base.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(base), `"includeIndicatorStyles":false`) {
		t.Error("layouts/base.html does not turn off htmx's indicator styles")
	}
}
