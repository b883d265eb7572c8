package access

import (
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Limits of user fields.
const (
	maxNotes       = 10000
	maxStreamLimit = 100
)

// applyPatch returns u with p applied and the changed fields, or an *Error naming the first invalid
// field (u is not modified). servers supplies the valid library keys.
func applyPatch(u storage.User, p UserPatch, servers map[string]storage.Server) (storage.User, map[string]FieldDiff, error) {
	next := u.Clone()
	diff := map[string]FieldDiff{}
	if next.Shares == nil {
		next.Shares = map[string]storage.Share{}
	}

	for _, srvID := range slices.Sorted(maps.Keys(p.Libraries)) {
		keys := p.Libraries[srvID]
		srv, ok := servers[srvID]
		if !ok {
			return storage.User{}, nil, fieldError("libraries", "unknown server %q", srvID)
		}
		cur, had := next.Shares[srvID]
		if len(keys) == 0 {
			if had {
				diff["libraries."+srvID] = FieldDiff{Before: librariesValue(cur), After: nil}
				delete(next.Shares, srvID)
			}
			continue
		}
		keys = slices.Clone(keys)
		sortLibraryKeys(keys)
		keys = slices.Compact(keys)
		if _, err := sectionIDs(srv, keys, "libraries"); err != nil {
			return storage.User{}, nil, err
		}
		// A list replaces "every library" even when it names every library of today: the diff says so.
		if !had || !sameLibraries(cur.Libraries, keys) || cur.AllLibraries {
			diff["libraries."+srvID] = FieldDiff{Before: librariesValue(cur), After: keys}
		}
		if !had {
			cur.AllowDownloads = defaultDownloads(u)
			cur.Filters = defaultFilters(u)
		}
		cur.Libraries, cur.AllLibraries = keys, false
		next.Shares[srvID] = cur
	}

	if p.AllowDownloads != nil {
		for srvID, sh := range next.Shares {
			if sh.AllowDownloads != *p.AllowDownloads {
				diff["allow_downloads."+srvID] = FieldDiff{Before: sh.AllowDownloads, After: *p.AllowDownloads}
				sh.AllowDownloads = *p.AllowDownloads
				next.Shares[srvID] = sh
			}
		}
	}
	if p.Filters != nil {
		if err := validateFilters(*p.Filters); err != nil {
			return storage.User{}, nil, err
		}
		for srvID, sh := range next.Shares {
			if sh.Filters != *p.Filters {
				diff["filters."+srvID] = FieldDiff{Before: sh.Filters, After: *p.Filters}
				sh.Filters = *p.Filters
				next.Shares[srvID] = sh
			}
		}
	}

	for _, srvID := range slices.Sorted(maps.Keys(p.LibraryWindows)) {
		windows := p.LibraryWindows[srvID]
		srv, ok := servers[srvID]
		if !ok {
			return storage.User{}, nil, fieldError("library_windows", "unknown server %q", srvID)
		}
		sh, had := next.Shares[srvID]
		if !had && len(windows) > 0 {
			return storage.User{}, nil, fieldError("library_windows", "the user has no share of server %q to limit", srvID)
		}
		clean := map[string]storage.Window{}
		for _, k := range slices.Sorted(maps.Keys(windows)) {
			w := windows[k]
			if _, err := sectionIDs(srv, []string{k}, "library_windows"); err != nil {
				return storage.User{}, nil, err
			}
			if w.StartsAt == nil && w.ExpiresAt == nil {
				continue
			}
			if w.StartsAt != nil && w.ExpiresAt != nil && !w.ExpiresAt.After(*w.StartsAt) {
				return storage.User{}, nil, fieldError("library_windows", "the window of library %q ends before it starts", k)
			}
			clean[k] = cloneWindow(w)
			if !slices.Contains(sh.Libraries, k) && w.StartsAt == nil {
				return storage.User{}, nil, fieldError("library_windows",
					"library %q is not shared with the user; give its window a start to add it later", k)
			}
		}
		if len(clean) == 0 {
			clean = nil
		}
		if !windowsEqual(sh.LibraryWindows, clean) {
			diff["library_windows."+srvID] = FieldDiff{Before: sh.LibraryWindows, After: clean}
		}
		if sh.AllLibraries && len(clean) > 0 {
			// A window limits single libraries: the share becomes a list of today's libraries (a
			// libraries edit in the same patch has made it a list already).
			diff["libraries."+srvID] = FieldDiff{Before: librariesValue(sh), After: slices.Clone(sh.Libraries)}
			sh.AllLibraries = false
		}
		sh.LibraryWindows = clean
		// A library waiting for its window's start is added by the window, not listed now.
		next.Shares[srvID] = sh
	}

	if p.StartsAt != nil && p.ClearStartsAt {
		return storage.User{}, nil, fieldError("starts_at", "give a start or clear it, not both")
	}
	if p.ExpiresAt != nil && p.ClearExpiresAt {
		return storage.User{}, nil, fieldError("expires_at", "give an expiry or clear it, not both")
	}
	setTime := func(field string, dst **time.Time, val *time.Time, clear bool) {
		var nv *time.Time
		switch {
		case clear:
		case val != nil:
			nv = utcPtr(*val)
		default:
			return
		}
		if !timesEqual(*dst, nv) {
			diff[field] = FieldDiff{Before: *dst, After: nv}
		}
		*dst = nv
	}
	setTime("starts_at", &next.StartsAt, p.StartsAt, p.ClearStartsAt)
	setTime("expires_at", &next.ExpiresAt, p.ExpiresAt, p.ClearExpiresAt)
	if next.StartsAt != nil && next.ExpiresAt != nil && !next.ExpiresAt.After(*next.StartsAt) {
		return storage.User{}, nil, fieldError("expires_at", "the expiry (%s) is not after the start (%s)",
			next.ExpiresAt.Format(time.RFC3339), next.StartsAt.Format(time.RFC3339))
	}

	if p.Notes != nil {
		if utf8.RuneCountInString(*p.Notes) > maxNotes || !utf8.ValidString(*p.Notes) {
			return storage.User{}, nil, fieldError("notes", "must be valid text of at most %d characters", maxNotes)
		}
		if *p.Notes != next.Notes {
			diff["notes"] = FieldDiff{Before: next.Notes, After: *p.Notes}
			next.Notes = *p.Notes
		}
	}
	if p.Whitelisted != nil && *p.Whitelisted != next.Whitelisted {
		diff["whitelisted"] = FieldDiff{Before: next.Whitelisted, After: *p.Whitelisted}
		next.Whitelisted = *p.Whitelisted
	}
	if p.StreamLimit != nil {
		if *p.StreamLimit < 0 || *p.StreamLimit > maxStreamLimit {
			return storage.User{}, nil, fieldError("stream_limit", "must be between 0 (default rule) and %d", maxStreamLimit)
		}
		if *p.StreamLimit != next.StreamLimit {
			diff["stream_limit"] = FieldDiff{Before: next.StreamLimit, After: *p.StreamLimit}
			next.StreamLimit = *p.StreamLimit
		}
	}
	if p.No4KTranscode != nil && *p.No4KTranscode != next.No4KTranscode {
		diff["no_4k_transcode"] = FieldDiff{Before: next.No4KTranscode, After: *p.No4KTranscode}
		next.No4KTranscode = *p.No4KTranscode
	}
	if len(next.Shares) == 0 {
		next.Shares = nil
	}
	return next, diff, nil
}

// librariesValue is a share's libraries as a diff shows them: an EveryLibrary for a share of every
// library, else the list of library keys.
func librariesValue(sh storage.Share) any {
	if sh.AllLibraries {
		return EveryLibrary{All: true, Libraries: slices.Clone(sh.Libraries)}
	}
	return sh.Libraries
}

// validateFilters checks Plex restriction filters; the error names the field "filters".
func validateFilters(f storage.Filters) error {
	pf := plex.Filters{Movies: f.Movies, Television: f.Television, Music: f.Music}
	if err := pf.Validate(); err != nil {
		return fieldError("filters", "%v", err)
	}
	return nil
}

// defaultDownloads is the download setting of a user's other shares (for a newly added server).
func defaultDownloads(u storage.User) bool {
	for _, srv := range sortedKeys(u.Shares) {
		return u.Shares[srv].AllowDownloads
	}
	return false
}

// defaultFilters is the filter setting of a user's other shares (for a newly added server).
func defaultFilters(u storage.User) storage.Filters {
	for _, srv := range sortedKeys(u.Shares) {
		return u.Shares[srv].Filters
	}
	return storage.Filters{}
}

// timesEqual compares two optional times.
func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// windowsEqual compares two window maps.
func windowsEqual(a, b map[string]storage.Window) bool {
	if len(a) != len(b) {
		return false
	}
	for k, w := range a {
		o, ok := b[k]
		if !ok || !timesEqual(w.StartsAt, o.StartsAt) || !timesEqual(w.ExpiresAt, o.ExpiresAt) {
			return false
		}
	}
	return true
}
