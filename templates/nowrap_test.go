package templates

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestNowrapUtility: app.css keeps dates on one line: the "nowrap" class of the date cells, and
// every time element the time helpers write (data-local), wherever it stands.
func TestNowrapUtility(t *testing.T) {
	css, err := fs.ReadFile(Files(), "static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		rule *regexp.Regexp
	}{
		{".nowrap", regexp.MustCompile(`(?m)^\.nowrap\s*\{\s*white-space:\s*nowrap;?\s*\}`)},
		{"time[data-local]", regexp.MustCompile(`(?m)^time\[data-local\]\s*\{\s*white-space:\s*nowrap;?\s*\}`)},
	} {
		if !c.rule.Match(css) {
			t.Errorf("app.css has no %s { white-space: nowrap } rule", c.name)
		}
	}
}

// templateDateCell matches, in a page's source, a table cell that starts with a date (a time
// helper, maybe inside a link or an {{if}}), with its class attribute.
var templateDateCell = regexp.MustCompile(`<td( class="[^"]*")?>(?:<a [^>]*>)?(?:\{\{if [^}]*\}\})?\{\{(?:localtime|localdate|reltime) `)

// TestDateCellsAreNowrapInEveryPage: every table cell of a page that starts with a date carries
// the nowrap class, so a date column does not squeeze into two lines on a normal screen (on a phone
// the table scrolls inside its .table-wrap).
func TestDateCellsAreNowrapInEveryPage(t *testing.T) {
	cells := 0
	err := fs.WalkDir(Files(), "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		src, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		for _, m := range templateDateCell.FindAllStringSubmatch(string(src), -1) {
			cells++
			if !strings.Contains(m[1], "nowrap") {
				t.Errorf("%s: a date cell may wrap: %q", p, m[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The invites list, an invite's history, the schedule, the users list and more have some.
	if cells < 10 {
		t.Errorf("found %d date cells in the pages; the pattern no longer matches them", cells)
	}
}

// TestTemplateDateCellPattern: the pattern of the test above finds the cell shapes the pages use
// and tells a nowrap cell from a plain one.
func TestTemplateDateCellPattern(t *testing.T) {
	for _, c := range []struct {
		src    string
		match  bool
		nowrap bool
	}{
		{`<td>{{localtime .At}}</td>`, true, false},
		{`<td class="nowrap">{{localdate .CreatedAt}}</td>`, true, true},
		{`<td class="nowrap"><a href="{{url "/events" .ID}}">{{localtime .At}}</a></td>`, true, true},
		{`<td>{{if .ExpiresAt}}{{localtime .ExpiresAt}}{{else}}never{{end}}</td>`, true, false},
		{`<td class="num">{{reltime .LastUsedAt}}</td>`, true, false},
		{`<td>{{.Name}}</td>`, false, false},
		{`<dd>{{localtime .At}}</dd>`, false, false},
	} {
		m := templateDateCell.FindStringSubmatch(c.src)
		if (m != nil) != c.match {
			t.Errorf("%s: matched %v, want %v", c.src, m != nil, c.match)
			continue
		}
		if m != nil && strings.Contains(m[1], "nowrap") != c.nowrap {
			t.Errorf("%s: nowrap %v, want %v", c.src, !c.nowrap, c.nowrap)
		}
	}
}
