package invite

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Markdown renders onboarding text safely. The Markdown is converted by goldmark with its default
// of omitting raw HTML (goldmark.WithRendererOptions(html.WithUnsafe()) is never set), then the
// result passes an allow-list sanitizer (bluemonday) that keeps only text formatting, lists,
// tables, code and http/https/mailto links (rel="nofollow noopener", external links in a new tab).
// Images are dropped: the Content-Security-Policy would block other hosts' images anyway. The two
// layers are independent, so a bug in one does not open the page to script injection.
//
// A Markdown is safe for concurrent use; build it once with NewMarkdown.
type Markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewMarkdown returns the onboarding Markdown renderer.
func NewMarkdown() *Markdown {
	return &Markdown{
		md:     goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify)),
		policy: onboardingPolicy(),
	}
}

// onboardingPolicy is the sanitizer's allow-list.
func onboardingPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,6}$`)).OnElements("ol")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Render converts src to sanitized HTML for a template.
func (m *Markdown) Render(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("rendering onboarding Markdown: %w", err)
	}
	// The sanitizer's output is the only thing marked safe.
	return template.HTML(m.policy.SanitizeBytes(buf.Bytes())), nil //nolint:gosec // sanitized just above
}
