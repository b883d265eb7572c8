package access

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Per-library windows. A share's Libraries are the libraries it has on Plex (or, for a user whose access
// has not started, will have at the start); LibraryWindows limit single libraries in time:
//   - a library whose window has not started is NOT in Libraries; it is added when the window opens;
//   - a library whose window has ended is removed from Libraries and its window is dropped.
// reconcileLibraries computes the library list a share should have at a given time.

// windowOpen reports whether w contains t: started (or no start) and not ended (or no end).
func windowOpen(w storage.Window, t time.Time) bool {
	return (w.StartsAt == nil || !w.StartsAt.After(t)) && (w.ExpiresAt == nil || t.Before(*w.ExpiresAt))
}

// windowEnded reports whether w's end is at or before t.
func windowEnded(w storage.Window, t time.Time) bool {
	return w.ExpiresAt != nil && !t.Before(*w.ExpiresAt)
}

// windowNotStarted reports whether w starts after t.
func windowNotStarted(w storage.Window, t time.Time) bool {
	return w.StartsAt != nil && w.StartsAt.After(t)
}

// libraryShift is what reconcileLibraries changed.
type libraryShift struct {
	// Libraries is the new library list (sorted); Windows the windows still relevant (nil when none).
	Libraries []string
	Windows   map[string]storage.Window
	// Added and Removed are the libraries whose window opened or ended.
	Added   []string
	Removed []string
}

// changed reports whether the shift changes anything.
func (l libraryShift) changed() bool { return len(l.Added) > 0 || len(l.Removed) > 0 }

// reconcileLibraries returns the libraries sh should have at t: listed libraries whose window ended or
// has not started are taken out, windowed libraries whose window is open are put in, ended windows are
// dropped. It does not modify sh.
func reconcileLibraries(sh storage.Share, t time.Time) libraryShift {
	out := libraryShift{}
	have := map[string]bool{}
	for _, k := range sh.Libraries {
		w, windowed := sh.LibraryWindows[k]
		switch {
		case windowed && windowEnded(w, t):
			out.Removed = append(out.Removed, k)
		case windowed && windowNotStarted(w, t):
			out.Removed = append(out.Removed, k)
		default:
			if !have[k] {
				have[k] = true
				out.Libraries = append(out.Libraries, k)
			}
		}
	}
	for _, k := range sortedKeys(sh.LibraryWindows) {
		w := sh.LibraryWindows[k]
		if !windowEnded(w, t) {
			if out.Windows == nil {
				out.Windows = map[string]storage.Window{}
			}
			out.Windows[k] = cloneWindow(w)
		}
		if !have[k] && windowOpen(w, t) {
			have[k] = true
			out.Libraries = append(out.Libraries, k)
			out.Added = append(out.Added, k)
		}
	}
	sortLibraryKeys(out.Libraries)
	// A library taken out because its window has not started yet is not a removal when it was not on
	// Plex; callers compare with the share as it is. Keep Removed to what really ends or waits.
	return out
}

// nextLibraryBoundary returns the earliest time at which a window of sh changes the library list:
// the start of a window whose library is not in Libraries, or the end of any window. Zero when none.
func nextLibraryBoundary(sh storage.Share) time.Time {
	var next time.Time
	consider := func(t *time.Time) {
		if t != nil && (next.IsZero() || t.Before(next)) {
			next = *t
		}
	}
	for k, w := range sh.LibraryWindows {
		if !slices.Contains(sh.Libraries, k) {
			consider(w.StartsAt)
		}
		consider(w.ExpiresAt)
	}
	return next
}

// nextUserLibraryBoundary is the earliest nextLibraryBoundary over every share of u that is, or will
// be, on Plex (zero when none).
func nextUserLibraryBoundary(u storage.User) time.Time {
	if u.Status != storage.StatusActive && u.Status != storage.StatusPending {
		return time.Time{} // the user's own start applies the windows; expired and removed users have none
	}
	var next time.Time
	for _, sh := range u.Shares {
		if t := nextLibraryBoundary(sh); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// sortLibraryKeys sorts library keys numerically when they are numbers (Plex keys are), else by text.
func sortLibraryKeys(keys []string) {
	slices.SortFunc(keys, compareLibraryKeys)
}

// compareLibraryKeys orders numeric keys by value, before non-numeric ones.
func compareLibraryKeys(a, b string) int {
	ai, aerr := strconv.ParseInt(a, 10, 64)
	bi, berr := strconv.ParseInt(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		return cmp.Compare(ai, bi)
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// sameLibraries reports whether a and b hold the same keys (order and duplicates ignored).
func sameLibraries(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	sortLibraryKeys(x)
	sortLibraryKeys(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// sortedKeys returns a map's keys in library-key order.
func sortedKeys[V any](m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	sortLibraryKeys(keys)
	return keys
}

// cloneWindow copies a window.
func cloneWindow(w storage.Window) storage.Window {
	return storage.Window{StartsAt: cloneTime(w.StartsAt), ExpiresAt: cloneTime(w.ExpiresAt)}
}

// cloneTime copies a *time.Time, in UTC.
func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC()
	return &c
}

// utcPtr returns t in UTC as a pointer.
func utcPtr(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}
