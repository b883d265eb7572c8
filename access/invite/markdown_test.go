package invite

import (
	"strings"
	"testing"
)

func TestMarkdownRendersFormatting(t *testing.T) {
	md := NewMarkdown()
	out, err := md.Render("# Welcome\n\n1. Install **Plex**\n2. Open [the app](https://app.plex.tv)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code` ~~old~~")
	if err != nil {
		t.Fatal(err)
	}
	html := string(out)
	for _, want := range []string{"<h1>Welcome</h1>", "<ol>", "<strong>Plex</strong>", `href="https://app.plex.tv"`,
		`rel="nofollow noopener"`, `target="_blank"`, "<table>", "<td>1</td>", "<code>code</code>", "<del>old</del>"} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered HTML lacks %q:\n%s", want, html)
		}
	}
}

func TestMarkdownIsSafe(t *testing.T) {
	md := NewMarkdown()
	for _, src := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`[x](javascript:alert(1))`,
		`[x](JaVaScRiPt:alert(1))`,
		`[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
		`![x](https://evil.example/x.png)`,
		`<a href="https://ok.example" onclick="alert(1)">x</a>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<style>body{display:none}</style>`,
		"<div style=\"position:fixed\">x</div>",
		`[x](vbscript:msgbox)`,
		"<svg onload=alert(1)>",
		"<<script>script>alert(1)<</script>/script>",
		"[a](https://x.example \"t\" onmouseover=alert(1))",
	} {
		out, err := md.Render(src)
		if err != nil {
			t.Fatal(err)
		}
		low := strings.ToLower(string(out))
		for _, bad := range []string{"<script", "onerror", "onclick", "onload", "onmouseover", "javascript:", "vbscript:", "data:", "<img", "<iframe", "<style", "style=", "<svg"} {
			if inTag(low, bad) {
				t.Errorf("Render(%q) kept %q: %s", src, bad, out)
			}
		}
	}
}

func FuzzMarkdownSafe(f *testing.F) {
	for _, s := range []string{"# x", "<script>x</script>", "[a](javascript:x)", "<a href=x onclick=y>", "*a*"} {
		f.Add(s)
	}
	md := NewMarkdown()
	f.Fuzz(func(t *testing.T, src string) {
		out, err := md.Render(src)
		if err != nil {
			return
		}
		low := strings.ToLower(string(out))
		// Text is escaped ('<' becomes &lt;), so every '<' left starts a real tag: look for
		// forbidden elements, event handlers and script URLs inside tags only.
		for _, bad := range []string{"<script", "<iframe", "<img", "<style", "<svg", "<object", "<embed", "<form", "<input", " on", "javascript:", "style="} {
			if inTag(low, bad) {
				t.Fatalf("Render(%q) = %q contains %q", src, out, bad)
			}
		}
	})
}

// inTag reports whether needle occurs inside a <…> tag of s (a needle starting with '<' opens one).
func inTag(s, needle string) bool {
	depth := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			depth = true
		case '>':
			depth = false
		}
		if depth && strings.HasPrefix(s[i:], needle) {
			return true
		}
	}
	return false
}
