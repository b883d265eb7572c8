package access

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// libraryDueKey is the setting holding the per-library window index: for every user with library
// windows, the next time one of them changes the user's libraries. The storage due-indexes cover the
// user-level window; this small index covers the per-library ones, so no pass scans every user.
const libraryDueKey = "access.library_due"

// libraryDue is one entry of the per-library window index.
type libraryDue struct {
	UserID int64     `json:"user_id"`
	At     time.Time `json:"at"`
}

// readLibraryDue reads the index (empty when unset).
func readLibraryDue(tx *storage.Tx) ([]libraryDue, error) {
	var list []libraryDue
	err := tx.Settings().Get(libraryDueKey, &list)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("reading the library window index: %w", err)
	}
	return list, nil
}

// putUser writes u (times normalised to UTC, last activity never moved back) and keeps the library
// window index in step, in tx.
func putUser(tx *storage.Tx, u storage.User) error {
	u = u.Clone()
	normaliseUser(&u)
	// Last activity has its own writer (MarkActivity, outside the pass lock): a record planned from an
	// older read must not move it back.
	if cur, err := tx.Users().Get(u.ID); err == nil && cur.LastActivityAt != nil &&
		(u.LastActivityAt == nil || cur.LastActivityAt.After(*u.LastActivityAt)) {
		u.LastActivityAt = cloneTime(cur.LastActivityAt)
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("reading user %d: %w", u.ID, err)
	}
	if err := tx.Users().Put(u); err != nil {
		return fmt.Errorf("storing user %d: %w", u.ID, err)
	}
	return setLibraryDue(tx, u.ID, nextUserLibraryBoundary(u))
}

// setLibraryDue sets (zero: removes) a user's entry in the library window index.
func setLibraryDue(tx *storage.Tx, id int64, next time.Time) error {
	list, err := readLibraryDue(tx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(d libraryDue) bool { return d.UserID == id })
	switch {
	case i < 0 && next.IsZero():
		return nil
	case i >= 0 && !next.IsZero() && list[i].At.Equal(next):
		return nil
	case i >= 0:
		list = slices.Delete(list, i, i+1)
	}
	if !next.IsZero() {
		list = append(list, libraryDue{UserID: id, At: next.UTC()})
		slices.SortFunc(list, func(a, b libraryDue) int { return a.At.Compare(b.At) })
	}
	if len(list) == 0 {
		return tx.Settings().Delete(libraryDueKey)
	}
	return tx.Settings().Put(libraryDueKey, list)
}

// dueLibraryUsers returns the ids of users with a library window change at or before until, in time
// order.
func (s *Service) dueLibraryUsers(until time.Time) ([]int64, []libraryDue, error) {
	var list []libraryDue
	err := s.store.View(func(tx *storage.Tx) error {
		var err error
		list, err = readLibraryDue(tx)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	for _, d := range list {
		if d.At.After(until) {
			break
		}
		ids = append(ids, d.UserID)
	}
	return ids, list, nil
}

// normaliseUser puts every time of u in UTC.
func normaliseUser(u *storage.User) {
	u.StartsAt = cloneTime(u.StartsAt)
	u.ExpiresAt = cloneTime(u.ExpiresAt)
	u.LastActivityAt = cloneTime(u.LastActivityAt)
	u.RemovedAt = cloneTime(u.RemovedAt)
	u.CreatedAt = u.CreatedAt.UTC()
	u.UpdatedAt = u.UpdatedAt.UTC()
	for k, sh := range u.Shares {
		if len(sh.LibraryWindows) > 0 {
			w := make(map[string]storage.Window, len(sh.LibraryWindows))
			for lib, win := range sh.LibraryWindows {
				w[lib] = cloneWindow(win)
			}
			sh.LibraryWindows = w
		} else {
			sh.LibraryWindows = nil
		}
		u.Shares[k] = sh
	}
}

// getUser reads user id from the store, mapping absence to ErrUserNotFound.
func (s *Service) getUser(id int64) (storage.User, error) {
	u, err := s.store.GetUser(id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("user %d: %w", id, ErrUserNotFound)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("reading user %d: %w", id, err)
	}
	return u, nil
}

// getUsers reads several users in one transaction; missing ids are skipped.
func (s *Service) getUsers(ids []int64) ([]storage.User, error) {
	out := make([]storage.User, 0, len(ids))
	err := s.store.View(func(tx *storage.Tx) error {
		for _, id := range ids {
			u, err := tx.Users().Get(id)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	return out, nil
}

// serverMap reads the stored servers by id.
func (s *Service) serverMap() (map[string]storage.Server, error) {
	list, err := s.store.ListServers()
	if err != nil {
		return nil, fmt.Errorf("reading servers: %w", err)
	}
	m := make(map[string]storage.Server, len(list))
	for _, srv := range list {
		m[srv.ID] = srv
	}
	return m, nil
}

// busyUsers returns the users with a pending intent (a change waiting for Plex).
func (s *Service) busyUsers() (map[int64]bool, error) {
	pending, err := s.store.PendingIntents()
	if err != nil {
		return nil, fmt.Errorf("reading pending intents: %w", err)
	}
	busy := make(map[int64]bool, len(pending))
	for _, in := range pending {
		if in.UserID != 0 {
			busy[in.UserID] = true
		}
	}
	return busy, nil
}

// cooldownKey is the setting holding users whose automatic change Plex refused, with when to try again.
const cooldownKey = "access.cooldown"

// refusedCooldown is how long a refused automatic change waits before the next attempt.
const refusedCooldown = 6 * time.Hour

// setCooldown sets (zero: clears) a user's cooldown in tx; expired entries are dropped.
func setCooldown(tx *storage.Tx, userID int64, until time.Time) error {
	m := map[int64]time.Time{}
	err := tx.Settings().Get(cooldownKey, &m)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("reading cooldowns: %w", err)
	}
	_, had := m[userID]
	if !had && until.IsZero() {
		return nil
	}
	for id, t := range m {
		if !until.IsZero() && t.Before(until.Add(-refusedCooldown)) {
			delete(m, id) // long over
		}
	}
	if until.IsZero() {
		delete(m, userID)
	} else {
		m[userID] = until.UTC()
	}
	if len(m) == 0 {
		return tx.Settings().Delete(cooldownKey)
	}
	return tx.Settings().Put(cooldownKey, m)
}

// cooldowns reads the users whose automatic change waits after a refusal.
func (s *Service) cooldowns() (map[int64]time.Time, error) {
	m := map[int64]time.Time{}
	if err := s.store.GetSetting(cooldownKey, &m); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("reading cooldowns: %w", err)
	}
	return m, nil
}
