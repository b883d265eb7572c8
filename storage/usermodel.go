package storage

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// The user read model: every user kept in memory, pre-sorted for each ListUsers sort, so a filtered,
// sorted, paged listing of 10,000 users is one linear pass without decoding anything. A snapshot is
// immutable; a committed transaction that wrote users builds the next snapshot (copy-on-write) and
// publishes it atomically, so readers never lock and never see an uncommitted or aborted change.

// userSort identifies one ListUsers order.
type userSort int

// The ListUsers orders.
const (
	sortUsername userSort = iota
	sortTitle
	sortStatus
	sortExpiresAt
	sortLastActivityAt
	sortCreatedAt
	numUserSorts
)

// userSortNames maps UserQuery.Sort values to orders.
func userSortByName(name string) (userSort, bool) {
	switch name {
	case "", "username":
		return sortUsername, true
	case "title":
		return sortTitle, true
	case "status":
		return sortStatus, true
	case "expires_at":
		return sortExpiresAt, true
	case "last_activity_at":
		return sortLastActivityAt, true
	case "created_at":
		return sortCreatedAt, true
	}
	return 0, false
}

// userEntry is one user in the read model with its precomputed search and sort keys. To keep the
// model small (a Go map per user costs about a kilobyte) the shares live in a sorted slice and u.Shares
// is nil; user() puts them back.
type userEntry struct {
	u      User
	shares []serverShare
	// hay is the lower-cased username, email, title and notes, separated by NULs, for substring search.
	hay string
	// username and title are the lower-cased sort keys; each falls back to the other, then to the
	// email, so managed users (no username) and pending invitees (email only) sort by what is shown.
	username string
	title    string
	expires  int64 // Unix ns; no expiry sorts last
	activity int64 // Unix ns; never active sorts first
	created  int64 // Unix ns
}

// serverShare is one entry of User.Shares.
type serverShare struct {
	server string
	share  Share
}

// newUserEntry builds the entry of u; the entry takes ownership of u's memory.
func newUserEntry(u User) *userEntry {
	e := &userEntry{
		username: strings.ToLower(cmp.Or(u.Username, u.Title, u.Email)),
		title:    strings.ToLower(cmp.Or(u.Title, u.Username, u.Email)),
		expires:  math.MaxInt64,
		activity: math.MinInt64,
		created:  unixNanoClamped(u.CreatedAt),
		hay:      strings.ToLower(u.Username + "\x00" + u.Email + "\x00" + u.Title + "\x00" + u.Notes),
	}
	if u.ExpiresAt != nil {
		e.expires = unixNanoClamped(*u.ExpiresAt)
	}
	if u.LastActivityAt != nil {
		e.activity = unixNanoClamped(*u.LastActivityAt)
	}
	if len(u.Shares) > 0 {
		e.shares = make([]serverShare, 0, len(u.Shares))
		for server, sh := range u.Shares {
			e.shares = append(e.shares, serverShare{server: server, share: sh})
		}
		slices.SortFunc(e.shares, func(a, b serverShare) int { return cmp.Compare(a.server, b.server) })
	}
	u.Shares = nil
	e.u = u
	return e
}

// user returns a deep copy of the entry's user, shares included.
func (e *userEntry) user() User {
	u := e.u.Clone()
	if len(e.shares) > 0 {
		u.Shares = make(map[string]Share, len(e.shares))
		for _, s := range e.shares {
			u.Shares[s.server] = cloneShare(s.share)
		}
	}
	return u
}

// share returns the user's share on server.
func (e *userEntry) share(server string) (Share, bool) {
	for i := range e.shares {
		if e.shares[i].server == server {
			return e.shares[i].share, true
		}
	}
	return Share{}, false
}

// compareUsers orders two entries by sort, ties broken by username then id, so every order is total.
func compareUsers(sort userSort, a, b *userEntry) int {
	var c int
	switch sort {
	case sortTitle:
		c = cmp.Compare(a.title, b.title)
	case sortStatus:
		c = cmp.Compare(a.u.Status, b.u.Status)
	case sortExpiresAt:
		c = cmp.Compare(a.expires, b.expires)
	case sortLastActivityAt:
		c = cmp.Compare(a.activity, b.activity)
	case sortCreatedAt:
		c = cmp.Compare(a.created, b.created)
	}
	if c != 0 {
		return c
	}
	if c = cmp.Compare(a.username, b.username); c != 0 {
		return c
	}
	return cmp.Compare(a.u.ID, b.u.ID)
}

// userSnapshot is one immutable version of the read model.
type userSnapshot struct {
	byID   []*userEntry // ascending id
	orders [numUserSorts][]*userEntry
	counts map[string]int // users per status
}

// incrementalLimit is the change count above which a snapshot is rebuilt (sorting everything) rather
// than patched (two memmoves per order per change).
const incrementalLimit = 128

// buildUserSnapshot builds a snapshot of entries (in any order).
func buildUserSnapshot(entries []*userEntry) *userSnapshot {
	s := &userSnapshot{byID: entries, counts: make(map[string]int)}
	slices.SortFunc(s.byID, func(a, b *userEntry) int { return cmp.Compare(a.u.ID, b.u.ID) })
	for o := range numUserSorts {
		order := slices.Clone(s.byID)
		slices.SortFunc(order, func(a, b *userEntry) int { return compareUsers(o, a, b) })
		s.orders[o] = order
	}
	for _, e := range s.byID {
		s.counts[e.u.Status]++
	}
	return s
}

// findByID returns the position of id in byID and whether it is there.
func (s *userSnapshot) findByID(id int64) (int, bool) {
	return slices.BinarySearchFunc(s.byID, id, func(e *userEntry, id int64) int { return cmp.Compare(e.u.ID, id) })
}

// with returns a new snapshot with changes applied (nil value: deleted). s is not modified.
func (s *userSnapshot) with(changes map[int64]*User) *userSnapshot {
	if len(changes) > incrementalLimit {
		entries := make([]*userEntry, 0, len(s.byID)+len(changes))
		for _, e := range s.byID {
			if _, changed := changes[e.u.ID]; !changed {
				entries = append(entries, e)
			}
		}
		for _, u := range changes {
			if u != nil {
				entries = append(entries, newUserEntry(*u))
			}
		}
		return buildUserSnapshot(entries)
	}
	n := &userSnapshot{byID: slices.Clone(s.byID), counts: maps.Clone(s.counts)}
	for o := range numUserSorts {
		n.orders[o] = slices.Clone(s.orders[o])
	}
	ids := slices.Sorted(maps.Keys(changes))
	for _, id := range ids {
		u := changes[id]
		i, found := n.findByID(id)
		if found {
			old := n.byID[i]
			for o := range numUserSorts {
				n.orders[o] = removeEntry(n.orders[o], o, old)
			}
			n.counts[old.u.Status]--
			if n.counts[old.u.Status] == 0 {
				delete(n.counts, old.u.Status)
			}
			if u == nil {
				n.byID = slices.Delete(n.byID, i, i+1)
				continue
			}
		} else if u == nil {
			continue
		}
		e := newUserEntry(*u)
		if found {
			n.byID[i] = e
		} else {
			n.byID = slices.Insert(n.byID, i, e)
		}
		for o := range numUserSorts {
			j, _ := slices.BinarySearchFunc(n.orders[o], e, func(a, b *userEntry) int { return compareUsers(o, a, b) })
			n.orders[o] = slices.Insert(n.orders[o], j, e)
		}
		n.counts[e.u.Status]++
	}
	return n
}

// removeEntry removes e from an order sorted by o.
func removeEntry(order []*userEntry, o userSort, e *userEntry) []*userEntry {
	i, found := slices.BinarySearchFunc(order, e, func(a, b *userEntry) int { return compareUsers(o, a, b) })
	if found && order[i] == e {
		return slices.Delete(order, i, i+1)
	}
	// Unreachable while the order is total; stay correct anyway.
	if i := slices.Index(order, e); i >= 0 {
		return slices.Delete(order, i, i+1)
	}
	return order
}

// loadUsers builds the read model from every user record.
func (s *Store) loadUsers() error {
	var entries []*userEntry
	err := s.View(func(tx *Tx) error {
		return tx.scan(prefixOf("user"), nil, false, true, func(item *badger.Item) (bool, error) {
			var u User
			if err := decodeItem(item, &u); err != nil {
				return false, err
			}
			entries = append(entries, newUserEntry(u))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	s.users.Store(buildUserSnapshot(entries))
	return nil
}

// applyUserChanges publishes the snapshot with changes applied. The caller holds s.userMu and has
// committed the transaction that made the changes.
func (s *Store) applyUserChanges(changes map[int64]*User) {
	s.users.Store(s.users.Load().with(changes))
}
