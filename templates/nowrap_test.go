package templates

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestNowrapUtility: the "nowrap" class of the date cells (events and user tables) keeps them on one
// line.
func TestNowrapUtility(t *testing.T) {
	css, err := fs.ReadFile(Files(), "static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\.nowrap\s*\{\s*white-space:\s*nowrap;?\s*\}`).Match(css) {
		t.Error("app.css has no .nowrap { white-space: nowrap } rule")
	}
}
