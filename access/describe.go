package access

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Event messages are read by people: they name servers and libraries, never ids (the ids stay in the
// event's data).

// diffLabel names a field of a diff in event messages.
func diffLabel(field string) string {
	switch field {
	case "allow_downloads":
		return "downloads"
	case "filters":
		return "restrictions"
	case "starts_at":
		return "start"
	case "expires_at":
		return "expiry"
	case "no_4k_transcode":
		return "no 4K transcoding"
	}
	return strings.ReplaceAll(field, "_", " ")
}

// valueless reports whether a field's values are too long or too private for a message (only its
// name is said).
func valueless(field string) bool {
	return field == "filters" || field == "library_windows" || field == "notes"
}

// describeDiff is a short sentence of what changed, with server names and library titles:
// "libraries on Basement (Movies → Movies, Music), downloads on Basement (no → yes)".
func describeDiff(diff map[string]FieldDiff, servers map[string]storage.Server) string {
	if len(diff) == 0 {
		return "nothing changed"
	}
	parts := make([]string, 0, len(diff))
	for _, key := range slices.Sorted(maps.Keys(diff)) {
		field, srvID, _ := strings.Cut(key, ".")
		label := diffLabel(field)
		if srvID != "" {
			label += " on " + serverName(servers, srvID)
		}
		if valueless(field) {
			parts = append(parts, label)
			continue
		}
		d := diff[key]
		parts = append(parts, fmt.Sprintf("%s (%s → %s)", label,
			describeValue(field, d.Before, servers[srvID]), describeValue(field, d.After, servers[srvID])))
	}
	return strings.Join(parts, ", ")
}

// describeValue shows one side of a diff in words; srv names the libraries of a libraries field.
func describeValue(field string, v any, srv storage.Server) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case EveryLibrary:
		return "all libraries (incl. future)"
	case []string:
		if len(x) == 0 {
			return "none"
		}
		if field == "libraries" {
			return strings.Join(libraryTitles(srv, x), ", ")
		}
		return strings.Join(x, ", ")
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case *time.Time:
		if x == nil {
			return "none"
		}
		return x.UTC().Format("2006-01-02 15:04 UTC")
	case int:
		if x == 0 && field == "stream_limit" {
			return "default"
		}
		return fmt.Sprint(x)
	case string:
		return cmp.Or(x, "none")
	}
	return fmt.Sprint(v)
}

// serverName is a server's name (its id when it has none or is not known).
func serverName(servers map[string]storage.Server, id string) string {
	if srv, ok := servers[id]; ok && srv.Name != "" {
		return srv.Name
	}
	return id
}

// libraryTitles names library keys of a server (a key it does not know stays a key).
func libraryTitles(srv storage.Server, keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		title := k
		if i := slices.IndexFunc(srv.Libraries, func(l storage.Library) bool { return l.Key == k }); i >= 0 && srv.Libraries[i].Title != "" {
			title = srv.Libraries[i].Title
		}
		out = append(out, title)
	}
	return out
}
