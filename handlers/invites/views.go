package invites

import (
	"cmp"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Invite states shown to admins.
const (
	stateActive   = "active"
	stateDisabled = "disabled"
	stateExpired  = "expired"
	stateUsedUp   = "used up"
)

// inviteState names why an invite can or cannot be used at now.
func inviteState(inv storage.Invite, now time.Time) string {
	switch {
	case !inv.Enabled:
		return stateDisabled
	case inv.ExpiresAt != nil && !now.Before(*inv.ExpiresAt):
		return stateExpired
	case inv.MaxUses > 0 && inv.Uses >= inv.MaxUses:
		return stateUsedUp
	}
	return stateActive
}

// libraryChoice is one library checkbox of the form (or one offered library).
type libraryChoice struct {
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
	// Unknown lists keys the invite names that the server no longer has.
	Unknown []string
}

// serverChoices lists the stored servers (by name) with their libraries (in the server's order),
// checking those in chosen. Servers the invite names that are no longer stored are listed last
// with their keys as unknown.
func serverChoices(servers []storage.Server, chosen map[string][]string) []serverChoice {
	out := make([]serverChoice, 0, len(servers))
	seen := map[string]bool{}
	for _, srv := range servers {
		seen[srv.ID] = true
		sc := serverChoice{ID: srv.ID, Name: cmp.Or(srv.Name, srv.ID), Online: srv.Online}
		keys := chosen[srv.ID]
		for _, l := range srv.Libraries {
			sc.Libraries = append(sc.Libraries, libraryChoice{Key: l.Key, Title: cmp.Or(l.Title, l.Key), Type: l.Type,
				Checked: slices.Contains(keys, l.Key)})
		}
		for _, k := range keys {
			if !slices.ContainsFunc(srv.Libraries, func(l storage.Library) bool { return l.Key == k }) {
				sc.Unknown = append(sc.Unknown, k)
			}
		}
		out = append(out, sc)
	}
	slices.SortStableFunc(out, func(a, b serverChoice) int { return cmp.Compare(a.Name, b.Name) })
	var missing []string
	for id := range chosen {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	for _, id := range missing {
		out = append(out, serverChoice{ID: id, Name: id, Unknown: slices.Clone(chosen[id])})
	}
	return out
}
