package users

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// serverIndex holds the stored servers by id for the views.
type serverIndex struct {
	list []storage.Server
	byID map[string]storage.Server
}

// loadServers reads the stored servers, ordered by name.
func (f *Feature) loadServers() (serverIndex, error) {
	list, err := f.store.ListServers()
	if err != nil {
		return serverIndex{}, fmt.Errorf("reading servers: %w", err)
	}
	sortServers(list)
	ix := serverIndex{list: list, byID: make(map[string]storage.Server, len(list))}
	for _, srv := range list {
		ix.byID[srv.ID] = srv
	}
	return ix, nil
}

// name returns a server's name (its id when unknown).
func (ix serverIndex) name(id string) string {
	if srv, ok := ix.byID[id]; ok && srv.Name != "" {
		return srv.Name
	}
	return id
}

// libraryTitle returns the title of a server's library (the key when unknown).
func (ix serverIndex) libraryTitle(serverID, key string) string {
	for _, l := range ix.byID[serverID].Libraries {
		if l.Key == key {
			return cmp.Or(l.Title, key)
		}
	}
	return key
}

// libraryTitles names library keys of a server, in the given order.
func (ix serverIndex) libraryTitles(serverID string, keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, ix.libraryTitle(serverID, k))
	}
	return out
}

// displayName is how a user is named on the pages.
func displayName(u storage.User) string {
	return cmp.Or(u.Username, u.Title, u.Email, fmt.Sprintf("user %d", u.ID))
}

// libraryChoice is one library checkbox.
type libraryChoice struct {
	// Value is "<server id>/<key>", the form value.
	Value   string
	Key     string
	Title   string
	Type    string
	Checked bool
}

// serverChoice is one server with its library checkboxes.
type serverChoice struct {
	ID        string
	Name      string
	Online    bool
	Libraries []libraryChoice
}

// serverChoices lists every server with its libraries, checking the values in checked
// ("<server id>/<key>").
func serverChoices(ix serverIndex, checked map[string]bool) []serverChoice {
	out := make([]serverChoice, 0, len(ix.list))
	for _, srv := range ix.list {
		sc := serverChoice{ID: srv.ID, Name: cmp.Or(srv.Name, srv.ID), Online: srv.Online}
		for _, l := range srv.Libraries {
			v := srv.ID + "/" + l.Key
			sc.Libraries = append(sc.Libraries, libraryChoice{Value: v, Key: l.Key, Title: cmp.Or(l.Title, l.Key), Type: l.Type, Checked: checked[v]})
		}
		out = append(out, sc)
	}
	return out
}

// parseLibraryValues groups "<server id>/<key>" form values by server, checking each against the
// servers; the error names field.
func parseLibraryValues(field string, values []string, ix serverIndex) (map[string][]string, error) {
	out := map[string][]string{}
	for _, v := range values {
		srvID, key, ok := strings.Cut(v, "/")
		srv, known := ix.byID[srvID]
		if !ok || !known || !slices.ContainsFunc(srv.Libraries, func(l storage.Library) bool { return l.Key == key }) {
			return nil, web.NewInputError(field, "names a library that is not on any server; reload the page")
		}
		if !slices.Contains(out[srvID], key) {
			out[srvID] = append(out[srvID], key)
		}
	}
	return out, nil
}

// describeValue shows a before/after value of a diff in words.
func describeValue(ix serverIndex, field string, v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case string:
		if x == "" {
			return "—"
		}
		return x
	case access.EveryLibrary:
		return "all libraries (incl. future)"
	case []string:
		if len(x) == 0 {
			return "none"
		}
		if srv, ok := strings.CutPrefix(field, "libraries."); ok {
			return strings.Join(ix.libraryTitles(srv, x), ", ")
		}
		return strings.Join(x, ", ")
	case *time.Time:
		if x == nil {
			return "—"
		}
		return x.UTC().Format("2006-01-02 15:04 UTC")
	case time.Time:
		if x.IsZero() {
			return "—"
		}
		return x.UTC().Format("2006-01-02 15:04 UTC")
	case storage.Filters:
		return describeFilters(x)
	case map[string]storage.Window:
		if len(x) == 0 {
			return "none"
		}
		return fmt.Sprintf("%d library windows", len(x))
	}
	return fmt.Sprint(v)
}

// describeFilters shows restriction filters in words.
func describeFilters(f storage.Filters) string {
	var parts []string
	for _, p := range []struct{ name, v string }{{"movies", f.Movies}, {"TV", f.Television}, {"music", f.Music}} {
		if p.v != "" {
			parts = append(parts, p.name+": "+p.v)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// describeField names a diff field ("libraries.<server>" → "Libraries on Basement").
func describeField(ix serverIndex, field string) string {
	name, srv, _ := strings.Cut(field, ".")
	label := map[string]string{
		"libraries": "Libraries", "allow_downloads": "Downloads", "filters": "Restrictions", "library_windows": "Library windows",
		"starts_at": "Access starts", "expires_at": "Access expires", "notes": "Notes", "whitelisted": "Whitelisted",
		"stream_limit": "Stream limit", "no_4k_transcode": "No 4K transcoding", "status": "Status",
	}[name]
	if label == "" {
		label = name
	}
	if srv != "" {
		label += " on " + ix.name(srv)
	}
	return label
}

// diffRow is one changed field of a preview or result.
type diffRow struct {
	Field, Before, After string
}

// diffRows lists a diff's fields in a stable order, in words.
func diffRows(ix serverIndex, diff map[string]access.FieldDiff) []diffRow {
	keys := make([]string, 0, len(diff))
	for k := range diff {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]diffRow, 0, len(keys))
	for _, k := range keys {
		d := diff[k]
		out = append(out, diffRow{Field: describeField(ix, k), Before: describeValue(ix, k, d.Before), After: describeValue(ix, k, d.After)})
	}
	return out
}
