package render

import (
	"fmt"
	"html"
	"html/template"
	"net/url"
	"strings"
	"time"
)

// Funcs returns the template functions every page can use:
//
//	url "/users" .ID "edit"   basePath + "/users/<escaped id>/edit"; the first argument is a
//	                          path starting with "/", each further argument one escaped segment
//	asset "app.css"           the content-hashed URL of a static file (assetURL does the work)
//	localtime .T              a <time> element showing the instant in the viewer's time zone
//	localdate .T              the same, date only
//	reltime .T                the same, shown relative to now ("in 3 days", "5 minutes ago")
//
// The time functions take a time.Time or *time.Time; the zero time or a nil pointer renders "—".
// Without JavaScript the element shows the time in UTC; static/app.js rewrites it in place.
func Funcs(basePath string, assetURL func(name string) (string, error)) template.FuncMap {
	return template.FuncMap{
		"url":       func(p string, segments ...any) (string, error) { return JoinURL(basePath, p, segments) },
		"asset":     assetURL,
		"localtime": func(v any) (template.HTML, error) { return timeElement(v, "datetime") },
		"localdate": func(v any) (template.HTML, error) { return timeElement(v, "date") },
		"reltime":   func(v any) (template.HTML, error) { return timeElement(v, "relative") },
	}
}

// JoinURL builds basePath + p + "/" + escaped segments (the templates' url function, and
// web.URL). p comes from the template text and must be an absolute path; segments usually come
// from data and are escaped one by one, so a value such as "a/b" or "?x" cannot change the route
// it lands on.
func JoinURL(basePath, p string, segments []any) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "", fmt.Errorf("url: path %q must start with a single /", p)
	}
	var b strings.Builder
	b.WriteString(basePath)
	b.WriteString((&url.URL{Path: p}).EscapedPath())
	for i, seg := range segments {
		s := fmt.Sprint(seg)
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("url: segment %d (%q) is empty or a dot segment", i+1, s)
		}
		if !strings.HasSuffix(b.String(), "/") {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), nil
}

// timeElement renders t as <time datetime="RFC 3339 UTC" data-local="kind">UTC text</time>.
func timeElement(v any, kind string) (template.HTML, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	case nil:
	default:
		return "", fmt.Errorf("time helper: want time.Time or *time.Time, got %T", v)
	}
	if t.IsZero() {
		return `<span class="muted">—</span>`, nil
	}
	u := t.UTC()
	text := u.Format("2006-01-02 15:04 UTC")
	if kind == "date" {
		text = u.Format("2006-01-02")
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s" data-local="%s">%s</time>`,
		html.EscapeString(u.Format(time.RFC3339)), html.EscapeString(kind), html.EscapeString(text))), nil
}
