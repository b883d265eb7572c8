package storage

import (
	"slices"
	"time"
)

// Deep copies, so records handed out or kept in the read model share no memory with the caller.

// clonePtrTime copies a *time.Time.
func clonePtrTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// cloneWindow copies a Window.
func cloneWindow(w Window) Window {
	return Window{StartsAt: clonePtrTime(w.StartsAt), ExpiresAt: clonePtrTime(w.ExpiresAt)}
}

// cloneShare copies a Share.
func cloneShare(s Share) Share {
	c := s
	c.Libraries = slices.Clone(s.Libraries)
	if s.LibraryWindows != nil {
		c.LibraryWindows = make(map[string]Window, len(s.LibraryWindows))
		for k, w := range s.LibraryWindows {
			c.LibraryWindows[k] = cloneWindow(w)
		}
	}
	return c
}

// Clone returns a deep copy of u.
func (u User) Clone() User {
	c := u
	if u.Shares != nil {
		c.Shares = make(map[string]Share, len(u.Shares))
		for k, s := range u.Shares {
			c.Shares[k] = cloneShare(s)
		}
	}
	c.StartsAt = clonePtrTime(u.StartsAt)
	c.ExpiresAt = clonePtrTime(u.ExpiresAt)
	c.LastActivityAt = clonePtrTime(u.LastActivityAt)
	c.RemovedAt = clonePtrTime(u.RemovedAt)
	return c
}

// Clone returns a deep copy of inv.
func (inv Invite) Clone() Invite {
	c := inv
	c.ExpiresAt = clonePtrTime(inv.ExpiresAt)
	c.StartsAt = clonePtrTime(inv.StartsAt)
	if inv.Libraries != nil {
		c.Libraries = make(map[string][]string, len(inv.Libraries))
		for k, v := range inv.Libraries {
			c.Libraries[k] = slices.Clone(v)
		}
	}
	return c
}
