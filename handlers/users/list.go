package users

import (
	"net/http"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/render"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Pages of the user list and detail.
const (
	pageList   = "admin/users"
	pageDetail = "admin/user"
	pageRemove = "admin/user-remove"
	pageInvite = "admin/user-invite"
)

// resultsTarget is the id of the list's results block; htmx requests aimed at it get only that
// block.
const resultsTarget = "user-results"

// userPageRoutes registers the user list and detail pages.
func (f *Feature) userPageRoutes(r web.Router) {
	r.Page(http.MethodGet, "/users", web.RoleAuditor, f.listPage)
	r.Page(http.MethodGet, "/users/{id}", web.RoleAuditor, f.detailPage)
	r.Page(http.MethodPost, "/users/{id}/libraries", web.RoleModerator, f.editLibraries)
	r.Page(http.MethodPost, "/users/{id}/access", web.RoleModerator, f.editAccess)
	r.Page(http.MethodPost, "/users/{id}/window", web.RoleModerator, f.editWindow)
	r.Page(http.MethodPost, "/users/{id}/notes", web.RoleModerator, f.editNotes)
	r.Page(http.MethodGet, "/users/{id}/remove", web.RoleModerator, f.removeForm)
	r.Page(http.MethodPost, "/users/{id}/remove", web.RoleModerator, f.remove)
	r.Page(http.MethodGet, "/users/invite", web.RoleModerator, f.inviteForm)
	r.Page(http.MethodPost, "/users/invite", web.RoleModerator, f.invite)
}

// userRow is one user in the list.
type userRow struct {
	ID int64
	// Name is what the user is called; Sub the email (or username) shown under it.
	Name   string
	Sub    string
	Kind   string
	Status string
	// Servers are the servers the user has a share of, in the servers' order.
	Servers        []serverCell
	Pending        bool
	ExpiresAt      *time.Time
	LastActivityAt *time.Time
	Whitelisted    bool
	SharesBack     bool
}

// serverCell is one server of a user's row. Live is false for a share the record only remembers
// (access ended or not started yet, or a share still waiting for Plex): the user has nothing there on
// Plex now.
type serverCell struct {
	Name string
	Live bool
}

// filterOption is one option of a filter select.
type filterOption struct {
	Value, Label string
	Selected     bool
}

// filterGroup is an optgroup of the library filter.
type filterGroup struct {
	Label   string
	Options []filterOption
}

// sortLink is one sortable column header.
type sortLink struct {
	Label string
	URL   string
	// Dir is "ascending", "descending" or "" (not sorted by this column), for aria-sort.
	Dir string
}

// listView is the list page's data.
type listView struct {
	Q         string
	Statuses  []filterOption
	Kinds     []filterOption
	Servers   []filterOption
	Libraries []filterGroup
	PerPage   int
	Rows      []userRow
	Total     int
	Page      int
	Pages     int
	Prev      string
	Next      string
	Sort      map[string]sortLink
	// Error is a bad filter, shown above the results.
	Error string
	// Action is the list's address (the filter form's action and htmx target).
	Action string
}

// listPage answers GET /users: the whole page, or only the results for htmx's live search.
func (f *Feature) listPage(w http.ResponseWriter, r *http.Request) {
	ix, err := f.loadServers()
	if err != nil {
		f.serverError(w, r, "listing servers", err)
		return
	}
	v := listView{Action: web.URL(r, "/users")}
	status := http.StatusOK
	q, qerr := parseUserQuery(r.URL.Query(), ix.list)
	if qerr != nil {
		status = http.StatusBadRequest
		field, msg, _ := inputField(qerr)
		v.Error = "The filter " + field + " " + msg + "."
		q = storage.UserQuery{Q: q.Q}
		if field == "q" {
			q.Q = ""
		}
	} else {
		page, err := f.store.ListUsers(q)
		if err != nil {
			f.serverError(w, r, "listing users", err)
			return
		}
		f.fillRows(&v, page, ix)
	}
	f.fillFilters(r, &v, q, ix)
	if render.IsHTMX(r) && r.Header.Get("HX-Target") == resultsTarget {
		web.Fragment(w, r, status, pageList, "results", v)
		return
	}
	web.RenderStatus(w, r, status, pageList, v)
}

// fillRows puts a page of users into the view.
func (f *Feature) fillRows(v *listView, page storage.UserPage, ix serverIndex) {
	v.Total, v.Page, v.PerPage, v.Pages = page.Total, page.Page, page.PerPage, pages(page.Total, page.PerPage)
	v.Rows = make([]userRow, 0, len(page.Users))
	for _, u := range page.Users {
		row := userRow{ID: u.ID, Name: displayName(u), Kind: u.Kind, Status: u.Status, ExpiresAt: u.ExpiresAt,
			LastActivityAt: u.LastActivityAt, Whitelisted: u.Whitelisted, SharesBack: u.SharesBack}
		switch {
		case u.Email != "" && u.Email != row.Name:
			row.Sub = u.Email
		case u.Username != "" && u.Username != row.Name:
			row.Sub = u.Username
		}
		for _, srv := range ix.list {
			if sh, ok := u.Shares[srv.ID]; ok {
				row.Servers = append(row.Servers, serverCell{Name: ix.name(srv.ID), Live: sh.ShareID > 0})
				row.Pending = row.Pending || sh.Pending
			}
		}
		v.Rows = append(v.Rows, row)
	}
}

// fillFilters puts the filter form's options, the sort links and the paging links into the view.
func (f *Feature) fillFilters(r *http.Request, v *listView, q storage.UserQuery, ix serverIndex) {
	v.Q = q.Q
	v.Statuses = options(statuses, q.Status)
	v.Kinds = options(kinds, q.Kind)
	for _, srv := range ix.list {
		v.Servers = append(v.Servers, filterOption{Value: srv.ID, Label: ix.name(srv.ID), Selected: srv.ID == q.ServerID && q.Library == ""})
		g := filterGroup{Label: ix.name(srv.ID)}
		for _, l := range srv.Libraries {
			g.Options = append(g.Options, filterOption{Value: srv.ID + "/" + l.Key, Label: cmpOr(l.Title, l.Key),
				Selected: srv.ID == q.ServerID && l.Key == q.Library})
		}
		v.Libraries = append(v.Libraries, g)
	}
	if v.PerPage == 0 {
		v.PerPage = storage.DefaultPerPage
	}
	link := func(mod func(*storage.UserQuery)) string {
		c := q
		mod(&c)
		s := v.Action
		if enc := queryValues(c).Encode(); enc != "" {
			s += "?" + enc
		}
		return s
	}
	if v.Page > 1 {
		v.Prev = link(func(c *storage.UserQuery) { c.Page = v.Page - 1 })
	}
	if v.Page < v.Pages {
		v.Next = link(func(c *storage.UserQuery) { c.Page = v.Page + 1 })
	}
	cur := q.Sort
	if cur == "" {
		cur = "username"
	}
	v.Sort = map[string]sortLink{}
	for _, col := range []struct{ key, label string }{
		{"username", "User"}, {"status", "Status"}, {"expires_at", "Expires"}, {"last_activity_at", "Last activity"}, {"created_at", "Joined"},
	} {
		sl := sortLink{Label: col.label}
		desc := false
		if col.key == cur {
			sl.Dir = "ascending"
			if q.Desc {
				sl.Dir = "descending"
			}
			desc = !q.Desc
		}
		sl.URL = link(func(c *storage.UserQuery) { c.Sort, c.Desc, c.Page = col.key, desc, 0 })
		v.Sort[col.key] = sl
	}
}

// options builds a select's options with one selected.
func options(values []string, selected string) []filterOption {
	out := make([]filterOption, 0, len(values))
	for _, s := range values {
		out = append(out, filterOption{Value: s, Label: s, Selected: s == selected})
	}
	return out
}
