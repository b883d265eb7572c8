package access

import (
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// transition is what it takes to move a user from cur to next (the same user after an edit) at a
// given time: the Plex steps, the status once they are done, and the record to store with the intent.
type transition struct {
	Steps []step
	// Final is the status the operation sets (finalKeep, finalDerive, scheduled, expired).
	Final string
	// Stored is the record written with the intent: next's plain fields and, for every server whose
	// share a step changes on Plex, the share as Plex has it now (the step records the new one).
	Stored storage.User
}

// planTransition decides the Plex changes that bring a user from cur to next at now. It is a pure
// function: the access window decides whether the user should have shares on Plex at all (before the
// start and after the expiry they are taken off, their libraries remembered), and within the window
// every server's share is created, updated or removed to match next's libraries as the per-library
// windows allow at now. servers supplies the library maps; a library unknown to its server is an
// *Error.
func planTransition(cur, next storage.User, servers map[string]storage.Server, now time.Time) (transition, error) {
	t := transition{Final: finalKeep}
	started := next.StartsAt == nil || !next.StartsAt.After(now)
	ended := next.ExpiresAt != nil && !now.Before(*next.ExpiresAt)
	inactive := cur.Status == storage.StatusScheduled || cur.Status == storage.StatusExpired || cur.Status == storage.StatusRemoved
	stepFor := map[string]step{}
	effFor := map[string]libraryShift{}

	switch {
	case ended || !started:
		for _, srv := range sortedKeys(cur.Shares) {
			if c := cur.Shares[srv]; c.ShareID > 0 {
				_, stays := next.Shares[srv]
				st := removeStep(cur, srv, stays)
				t.Steps = append(t.Steps, st)
				stepFor[srv] = st
			}
		}
		switch {
		case ended && cur.Status != storage.StatusExpired && cur.Status != storage.StatusRemoved:
			t.Final = storage.StatusExpired
		case !ended && cur.Status != storage.StatusScheduled:
			t.Final = storage.StatusScheduled
		}
	default:
		for _, srvID := range unionKeys(cur.Shares, next.Shares) {
			c, had := cur.Shares[srvID]
			n, wanted := next.Shares[srvID]
			if !wanted {
				if had && c.ShareID > 0 {
					st := removeStep(cur, srvID, false)
					t.Steps = append(t.Steps, st)
					stepFor[srvID] = st
				}
				continue
			}
			eff := reconcileLibraries(n, now)
			effFor[srvID] = eff
			if len(eff.Libraries) == 0 {
				if had && c.ShareID > 0 {
					st := removeStep(cur, srvID, true)
					t.Steps = append(t.Steps, st)
					stepFor[srvID] = st
				}
				continue
			}
			// A share of every library stays one (libraries added later included) unless windows
			// limit single libraries.
			all := n.AllLibraries && len(eff.Windows) == 0
			onPlex := had && c.ShareID > 0
			sameScope := c.AllLibraries == all && (all || sameLibraries(c.Libraries, eff.Libraries))
			if onPlex && sameScope && c.AllowDownloads == n.AllowDownloads && c.Filters == n.Filters {
				continue
			}
			srv, ok := servers[srvID]
			if !ok {
				return transition{}, fieldError("libraries", "unknown server %q", srvID)
			}
			var st step
			if all {
				st = shareAllStep(cur, srvID, eff.Libraries, n.AllowDownloads, n.Filters)
			} else {
				var err error
				if st, err = shareStep(cur, srv, eff.Libraries, n.AllowDownloads, n.Filters, eff.Windows); err != nil {
					return transition{}, err
				}
			}
			st.InviteeID, st.Invitee, st.Email, st.Login = 0, "", "", ""
			inviteeOf(&st, next) // a new user's identity is in next
			t.Steps = append(t.Steps, st)
			stepFor[srvID] = st
		}
		if inactive {
			t.Final = finalDerive
		}
	}

	stored := next.Clone()
	stored.Status, stored.RemovedAt = cur.Status, cloneTime(cur.RemovedAt)
	stored.Shares = map[string]storage.Share{}
	for _, srvID := range unionKeys(cur.Shares, next.Shares) {
		c, had := cur.Shares[srvID]
		n, wanted := next.Shares[srvID]
		st, stepped := stepFor[srvID]
		switch {
		case stepped && (st.Call == callShare || st.Call == callUpdateShare || !st.Keep):
			if had {
				stored.Shares[srvID] = c // the step records the new share once Plex has it
			}
		case wanted:
			n.ShareID, n.Pending = c.ShareID, c.Pending
			if !had {
				n.ShareID, n.Pending = 0, false
			}
			if eff, ok := effFor[srvID]; ok {
				// Within the window: the record follows the library windows at now.
				n.Libraries, n.LibraryWindows = eff.Libraries, eff.Windows
			}
			stored.Shares[srvID] = n
		}
	}
	if len(stored.Shares) == 0 {
		stored.Shares = nil
	}
	t.Stored = stored
	return t, nil
}

// unionKeys returns the keys of two share maps, sorted.
func unionKeys(a, b map[string]storage.Share) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
