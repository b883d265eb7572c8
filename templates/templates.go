// Package templates holds the web UI's html/template files and static assets, embedded into the
// binary. It has no logic: handlers/render parses the templates and handlers/assets serves the
// static files.
//
// Layout of the tree (the embed directive below must keep matching it):
//
//	layouts/        the base document (base.html) every page renders into
//	partials/       shared pieces (navigation, flash messages, confirm dialog, …)
//	pages/          one file per page: error.html, admin/*.html, invite/*.html
//	static/         CSS, JS and vendored assets (vendor/, written by scripts/vendor-assets.sh)
//
// Files whose names start with "." or "_" are not embedded (go:embed skips them without "all:").
package templates

import (
	"embed"
	"io/fs"
)

//go:embed layouts partials pages static
var files embed.FS

// Files returns the embedded template and static file tree, rooted as described in the package
// documentation.
func Files() fs.FS {
	return files
}
