package access

import (
	"fmt"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// farFuture bounds the due-index reads of Upcoming.
const farFuture = 100 * 365 * 24 * time.Hour

// Upcoming lists the next scheduled changes — access starts, expiries and per-library window changes —
// soonest first, for the schedule page (limit ≤ 0 means 50). It reads the due indexes, not every user.
func (s *Service) Upcoming(limit int) ([]UpcomingItem, error) {
	if limit <= 0 {
		limit = 50
	}
	until := s.clock().Add(farFuture)
	starts, err := s.store.DueStarts(until)
	if err != nil {
		return nil, fmt.Errorf("reading scheduled starts: %w", err)
	}
	expiries, err := s.store.DueExpiries(until)
	if err != nil {
		return nil, fmt.Errorf("reading scheduled expiries: %w", err)
	}
	libIDs, _, err := s.dueLibraryUsers(until)
	if err != nil {
		return nil, err
	}
	starts, expiries, libIDs = starts[:min(limit, len(starts))], expiries[:min(limit, len(expiries))], libIDs[:min(limit, len(libIDs))]
	users, err := s.getUsers(slices.Concat(starts, expiries, libIDs))
	if err != nil {
		return nil, err
	}
	byID := map[int64]storage.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	var out []UpcomingItem
	for _, id := range starts {
		if u, ok := byID[id]; ok && u.StartsAt != nil {
			out = append(out, UpcomingItem{At: *u.StartsAt, Kind: "start", UserID: id, Username: displayName(u)})
		}
	}
	for _, id := range expiries {
		if u, ok := byID[id]; ok && u.ExpiresAt != nil {
			out = append(out, UpcomingItem{At: *u.ExpiresAt, Kind: "expiry", UserID: id, Username: displayName(u)})
		}
	}
	for _, id := range libIDs {
		u, ok := byID[id]
		if !ok {
			continue
		}
		for _, srv := range sortedKeys(u.Shares) {
			sh := u.Shares[srv]
			for _, lib := range sortedKeys(sh.LibraryWindows) {
				w := sh.LibraryWindows[lib]
				if w.StartsAt != nil && !slices.Contains(sh.Libraries, lib) {
					out = append(out, UpcomingItem{At: *w.StartsAt, Kind: "library_start", UserID: id, Username: displayName(u), ServerID: srv, Library: lib})
				}
				if w.ExpiresAt != nil {
					out = append(out, UpcomingItem{At: *w.ExpiresAt, Kind: "library_expiry", UserID: id, Username: displayName(u), ServerID: srv, Library: lib})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b UpcomingItem) int { return a.At.Compare(b.At) })
	return out[:min(limit, len(out))], nil
}
