package web

import (
	"net/http"
	"strings"
)

// View is the data every page template receives: .App for the layout, .Nav to mark the current
// admin section, .User for the signed-in principal (nil on public pages and the sign-in page),
// .Flashes for messages, and .Data for the page itself.
type View struct {
	// App describes the handler (name, mode, version).
	App AppInfo
	// Nav names the admin section to mark in the navigation.
	Nav string
	// User is the signed-in principal, nil when anonymous.
	User *Principal
	// Flashes are the messages shown above the content.
	Flashes []FlashMessage
	// Data is the page's own data.
	Data any
}

// AppInfo describes the mounted handler to the layout.
type AppInfo struct {
	// Name is the application name shown in titles.
	Name string
	// Mode is "admin" or "invite".
	Mode string
	// Version is shown in the admin footer.
	Version string
}

// FlashMessage is a one-line message shown above a page's content.
type FlashMessage struct {
	// Kind is one of the Flash* constants; the CSS styles each.
	Kind string `json:"k"`
	// Message is plain text (escaped when rendered).
	Message string `json:"m"`
}

// Flash kinds.
const (
	FlashInfo    = "info"
	FlashSuccess = "success"
	FlashWarning = "warning"
	FlashError   = "error"
)

// navFor names the admin section of a request path: its first segment below the base path
// ("dashboard" for the start page), so pages under /invites/… mark "invites" in the navigation.
func navFor(base, path string) string {
	rest := strings.TrimPrefix(path, base)
	rest = strings.TrimPrefix(rest, "/")
	seg, _, _ := strings.Cut(rest, "/")
	if seg == "" {
		return "dashboard"
	}
	return seg
}

// newView builds the view of a page for r.
func (m *Mux) newView(r *http.Request, data any) View {
	v := View{App: m.app, Data: data}
	if m.appName != nil {
		if name := m.appName(); name != "" {
			v.App.Name = name
		}
	}
	if e := envFrom(r); e != nil {
		v.Nav = e.nav
		v.Flashes = append(v.Flashes, e.flashes...)
	}
	if v.Nav == "" {
		v.Nav = navFor(m.base, r.URL.Path)
	}
	if p, ok := CurrentPrincipal(r); ok {
		v.User = &p
	}
	return v
}
