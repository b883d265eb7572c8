package access

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// SyncInput is what a sync decision depends on.
type SyncInput struct {
	// Now is the decision time.
	Now time.Time
	// Servers are the ids of the servers whose shares were read; shares of other servers in the store
	// are left alone. Libraries lists each server's library keys (for all-libraries shares).
	Servers   []string
	Libraries map[string][]string // see Servers
	// Stored are every user in the store.
	Stored []storage.User
	// Plex are the users plex.tv lists (friends, Home and managed users, pending invitees) with their
	// shares of Servers; Home the members of the owner's Home (the owner is recognised as its admin
	// and skipped).
	Plex []plex.User
	Home []plex.HomeUser // see Plex
	// Foreign are the servers shared with the owner; ForeignKnown says the list could be read.
	Foreign      []ForeignServer
	ForeignKnown bool // see Foreign
	// Busy users have a change waiting for a retry; sync leaves them alone.
	Busy map[int64]bool
	// Settings give the shrink threshold.
	Settings Settings
	// Confirm, when set, is a held change the admin confirmed: its users may be marked removed
	// whatever the threshold; no other removal is made in that sync.
	Confirm *HeldSync
}

// SyncPlan is a sync decision.
type SyncPlan struct {
	// Changes are the changes to record (adoptions, updates, removals) with ResultPlanned.
	Changes []Change
	// Held is set when the removals were held for confirmation.
	Held *HeldSync
	// Refused says why nothing at all is changed (an empty answer from Plex).
	Refused string

	writes  []storage.User
	deletes []int64
	events  []syncEvent
}

// syncEvent is an audit event of a sync change (the actor and time are added when applied).
type syncEvent struct {
	typ     string
	userID  int64
	server  string
	message string
	data    map[string]any
}

// mirrored is a Plex user as the store would record them.
type mirrored struct {
	id       int64
	user     plex.User
	kind     string
	status   string
	shares   map[string]storage.Share
	homeUser bool
}

// PlanSync decides how the store follows Plex. It is a pure function of its input:
//   - users Plex lists that the store does not know are adopted (kind friend, home, managed or pending;
//     status active or pending); an invitee who accepted an email invitation takes over the pending
//     record (window, notes, invite); an adopted user's join date (CreatedAt) is when Plex says they
//     accepted (invited, while pending), never later than a merged record's;
//   - known users follow Plex: names, kind, shares of the servers read (libraries, downloads, filters,
//     pending), status (pending → active when accepted; an expired or removed user shared again in
//     Plex comes back); every difference is recorded as drift;
//   - users who share a server back with the owner are flagged (when that list could be read);
//   - active or pending users Plex no longer lists are marked removed, and shares Plex no longer has
//     are dropped — but never on an empty answer, and when that shrink is larger than the threshold
//     (ShrinkPercent % of the active users and at least ShrinkMinUsers) it is held for confirmation.
func PlanSync(in SyncInput) SyncPlan {
	var plan SyncPlan
	now := in.Now.UTC()
	read := map[string]bool{}
	for _, s := range in.Servers {
		read[s] = true
	}
	ownerID := int64(0)
	home := map[int64]plex.HomeUser{}
	for _, hu := range in.Home {
		if hu.Admin {
			ownerID = hu.ID
			continue
		}
		if hu.Guest || hu.ID <= 0 {
			continue
		}
		home[hu.ID] = hu
	}
	shareBack := map[int64]bool{}
	for _, f := range in.Foreign {
		if f.OwnerID > 0 {
			shareBack[f.OwnerID] = true
		}
	}

	// What Plex says, keyed like the store.
	listed := map[int64]*mirrored{}
	var order []int64
	for _, pu := range in.Plex {
		id := pu.ID
		if id <= 0 {
			if strings.TrimSpace(pu.Email) == "" {
				continue
			}
			id = storage.PendingUserID(pu.Email)
		}
		if id == ownerID && ownerID != 0 {
			continue
		}
		if _, dup := listed[id]; dup {
			continue
		}
		m := mirrorUser(pu, id, home, read, in.Libraries)
		listed[id] = m
		order = append(order, id)
	}
	for _, id := range slices.Sorted(maps.Keys(home)) {
		if _, ok := listed[id]; ok {
			continue
		}
		hu := home[id]
		pu := plex.User{ID: hu.ID, UUID: hu.UUID, Username: hu.Username, Email: hu.Email, Title: hu.Title, Thumb: hu.Thumb,
			Home: true, Managed: hu.Managed}
		listed[id] = mirrorUser(pu, id, home, read, in.Libraries)
		order = append(order, id)
	}

	stored := map[int64]storage.User{}
	pendingByEmail := map[string]storage.User{}
	active := 0
	for _, u := range in.Stored {
		stored[u.ID] = u
		if u.Status == storage.StatusActive || u.Status == storage.StatusPending {
			active++
		}
		if u.ID < 0 {
			for _, login := range []string{u.Email, u.Username} {
				if login != "" {
					pendingByEmail[normaliseLogin(login)] = u
				}
			}
		}
	}
	if len(listed) == 0 && active > 0 {
		plan.Refused = fmt.Sprintf("Plex listed no users while the store has %d active ones: nothing was changed", active)
		return plan
	}

	// Adoptions and updates.
	type pendingWrite struct {
		u       storage.User
		change  Change
		events  []syncEvent
		shrinks bool
	}
	var writes []pendingWrite
	merged := map[int64]bool{}
	for _, id := range order {
		m := listed[id]
		if in.Busy[id] {
			continue
		}
		cur, known := stored[id]
		if !known {
			u, c, evs, mergedID := adopt(m, pendingByEmail, now, in.ForeignKnown, shareBack)
			if mergedID != 0 {
				if in.Busy[mergedID] {
					continue
				}
				merged[mergedID] = true
				plan.deletes = append(plan.deletes, mergedID)
			}
			writes = append(writes, pendingWrite{u: u, change: c, events: evs})
			continue
		}
		next, c, evs, shrinks, changed := follow(cur, m, now, read, in.ForeignKnown, shareBack)
		if changed {
			writes = append(writes, pendingWrite{u: next, change: c, events: evs, shrinks: shrinks})
		}
	}

	// Users Plex no longer lists.
	var gone []pendingWrite
	for _, u := range in.Stored {
		if _, ok := listed[u.ID]; ok || merged[u.ID] || in.Busy[u.ID] {
			continue
		}
		if u.Status != storage.StatusActive && u.Status != storage.StatusPending {
			continue
		}
		next := u.Clone()
		next.Status, next.RemovedAt, next.Shares = storage.StatusRemoved, utcPtr(now), nil
		next.UpdatedAt = now
		c := Change{Action: ActionMarkRemoved, UserID: u.ID, Username: displayName(u),
			Reason: "Plex no longer lists the user", Result: ResultPlanned,
			Before: map[string]any{"status": u.Status, "shares": shareSummary(u.Shares)}, After: map[string]any{"status": storage.StatusRemoved}}
		ev := syncEvent{typ: EventUserRemovedInPlex, userID: u.ID,
			message: fmt.Sprintf("%s is no longer in Plex: marked removed", cmpOr(displayName(u), fmt.Sprint(u.ID))),
			data:    map[string]any{"before": c.Before}}
		gone = append(gone, pendingWrite{u: next, change: c, events: []syncEvent{ev}, shrinks: true})
	}

	// The shrink rule.
	var shrinking []int64
	for _, w := range slices.Concat(writes, gone) {
		if w.shrinks {
			shrinking = append(shrinking, w.u.ID)
		}
	}
	slices.Sort(shrinking)
	allow := func(id int64) bool { return true }
	switch {
	case in.Confirm != nil:
		ok := map[int64]bool{}
		for _, id := range in.Confirm.UserIDs {
			ok[id] = true
		}
		allow = func(id int64) bool { return ok[id] }
	case len(shrinking) >= max(in.Settings.ShrinkMinUsers, 1) && len(shrinking)*100 > in.Settings.ShrinkPercent*active:
		plan.Held = &HeldSync{ID: storage.NewID(), At: now, UserIDs: shrinking, Active: active,
			Reason: fmt.Sprintf("Plex's answer would remove access of %d of %d active users (more than %d%%)",
				len(shrinking), active, in.Settings.ShrinkPercent)}
		allow = func(int64) bool { return false }
	}
	for _, w := range slices.Concat(writes, gone) {
		if w.shrinks && !allow(w.u.ID) {
			continue
		}
		plan.writes = append(plan.writes, w.u)
		plan.Changes = append(plan.Changes, w.change)
		plan.events = append(plan.events, w.events...)
	}
	return plan
}

// mirrorUser turns a Plex user into the fields the store keeps.
func mirrorUser(pu plex.User, id int64, home map[int64]plex.HomeUser, read map[string]bool, libs map[string][]string) *mirrored {
	m := &mirrored{id: id, user: pu, shares: map[string]storage.Share{}}
	hu, inHome := home[pu.ID]
	m.homeUser = inHome || pu.Home || pu.Managed
	for srv, us := range pu.Shares {
		if !read[srv] {
			continue
		}
		sh := storage.Share{ShareID: us.ShareID, Libraries: slices.Clone(us.LibraryKeys), AllLibraries: us.AllLibraries,
			AllowDownloads: us.AllowSync, Pending: us.Pending,
			Filters: storage.Filters{Movies: us.Filters.Movies, Television: us.Filters.Television, Music: us.Filters.Music}}
		if us.AllLibraries && len(sh.Libraries) == 0 {
			sh.Libraries = slices.Clone(libs[srv])
		}
		sortLibraryKeys(sh.Libraries)
		m.shares[srv] = sh
	}
	anyAccepted, anyPending := false, false
	for _, sh := range m.shares {
		if sh.Pending {
			anyPending = true
		} else {
			anyAccepted = true
		}
	}
	switch {
	case (inHome && hu.Managed) || pu.Managed:
		m.kind = storage.KindManaged
	case m.homeUser:
		m.kind = storage.KindHome
	case anyPending && !anyAccepted:
		m.kind = storage.KindPending
	default:
		m.kind = storage.KindFriend
	}
	m.status = storage.StatusActive
	if !m.homeUser && anyPending && !anyAccepted {
		m.status = storage.StatusPending
	}
	return m
}

// adopt builds the record of a user new to the store. An invitee known by email (a pending record
// with a synthetic id) who now has an account is merged: the returned id is the record to delete.
func adopt(m *mirrored, pendingByEmail map[string]storage.User, now time.Time, foreignKnown bool, shareBack map[int64]bool) (storage.User, Change, []syncEvent, int64) {
	u := storage.User{ID: m.id, CreatedAt: now, UpdatedAt: now}
	var mergedID int64
	reason := "found in Plex"
	if m.id > 0 {
		p, ok := pendingByEmail[normaliseLogin(m.user.Email)]
		if !ok && m.user.Username != "" {
			p, ok = pendingByEmail[normaliseLogin(m.user.Username)]
		}
		if ok && (m.user.Email != "" || m.user.Username != "") {
			u = p.Clone()
			u.ID, u.UpdatedAt, u.RemovedAt = m.id, now, nil
			mergedID = p.ID
			reason = "accepted the invitation sent to " + cmpOr(p.Email, p.Username)
		}
	}
	u.UUID, u.Username, u.Email, u.Title, u.Thumb = m.user.UUID, m.user.Username, cmpOr(m.user.Email, u.Email), m.user.Title, m.user.Thumb
	u.Kind, u.Status = m.kind, m.status
	if len(m.shares) > 0 {
		shares := map[string]storage.Share{}
		for srv, sh := range m.shares {
			if old, ok := u.Shares[srv]; ok {
				sh.LibraryWindows = keepWindows(old.LibraryWindows, sh.Libraries, now)
			}
			shares[srv] = sh
		}
		u.Shares = shares
	} else {
		u.Shares = nil
	}
	if foreignKnown {
		u.SharesBack = shareBack[u.ID]
	}
	// The join date is when Plex says the user accepted (or was invited), so the purge counts a fresh
	// install's users from when they really joined; it only ever moves a record's date earlier.
	if joined, ok := plexJoinDate(m, now); ok && joined.Before(u.CreatedAt) {
		u.CreatedAt = joined
	}
	c := Change{Action: ActionAdopt, UserID: u.ID, Username: displayName(u), Reason: reason, Result: ResultPlanned,
		After: map[string]any{"kind": u.Kind, "status": u.Status, "shares": shareSummary(u.Shares)}}
	typ, msg := EventUserAdopted, fmt.Sprintf("%s found in Plex: adopted as %s (%s)", cmpOr(displayName(u), fmt.Sprint(u.ID)), u.Kind, u.Status)
	if mergedID != 0 {
		typ, msg = EventUserAccepted, fmt.Sprintf("%s accepted the invitation (record %d merged)", cmpOr(displayName(u), fmt.Sprint(u.ID)), mergedID)
	}
	return u, c, []syncEvent{{typ: typ, userID: u.ID, message: msg, data: map[string]any{"after": c.After, "reason": reason}}}, mergedID
}

// earliestPlexUnix (2007-01-01, Unix seconds) is older than any date plex.tv can give for a share;
// earlier dates are taken as unknown (a zero or garbled Unix time).
const earliestPlexUnix = 1167609600

// plexJoinDate is when a user joined according to Plex: the earliest acceptance among the shares of
// the servers read or, when Plex gives no acceptance date, the earliest invitation. Dates in the future
// (clock skew) or before plex.tv existed are ignored; ok is false when none is left.
func plexJoinDate(m *mirrored, now time.Time) (time.Time, bool) {
	var accepted, invited time.Time
	earliest := func(cur *time.Time, t time.Time) {
		t = t.UTC()
		if t.Unix() < earliestPlexUnix || t.After(now) {
			return
		}
		if cur.IsZero() || t.Before(*cur) {
			*cur = t
		}
	}
	for srv, us := range m.user.Shares {
		if _, ok := m.shares[srv]; !ok {
			continue // a server not read this time
		}
		earliest(&accepted, us.AcceptedAt)
		earliest(&invited, us.InvitedAt)
	}
	if !accepted.IsZero() {
		return accepted, true
	}
	return invited, !invited.IsZero()
}

// follow makes a known user follow Plex. shrinks is set when access is taken away (a share Plex no
// longer has); changed is false when the record already matches.
func follow(cur storage.User, m *mirrored, now time.Time, read map[string]bool, foreignKnown bool, shareBack map[int64]bool) (storage.User, Change, []syncEvent, bool, bool) {
	next := cur.Clone()
	before, after := map[string]any{}, map[string]any{}
	var evs []syncEvent
	shrinks := false
	name := cmpOr(displayName(cur), fmt.Sprint(cur.ID))

	set := func(field string, dst *string, v string) {
		if v != "" && *dst != v {
			before[field], after[field] = *dst, v
			*dst = v
		}
	}
	set("username", &next.Username, m.user.Username)
	set("email", &next.Email, m.user.Email)
	set("title", &next.Title, m.user.Title)
	set("thumb", &next.Thumb, m.user.Thumb)
	set("uuid", &next.UUID, m.user.UUID)

	hasPlexShares := len(m.shares) > 0
	inactive := cur.Status == storage.StatusExpired || cur.Status == storage.StatusRemoved || cur.Status == storage.StatusScheduled
	follows := !inactive || hasPlexShares || m.homeUser

	if follows {
		shares := map[string]storage.Share{}
		for srv, sh := range cur.Shares {
			if !read[srv] {
				shares[srv] = sh // a server not read this time
			}
		}
		for _, srv := range slices.Sorted(maps.Keys(read)) {
			old, had := cur.Shares[srv]
			nw, has := m.shares[srv]
			switch {
			case has && had:
				nw.LibraryWindows = keepWindows(old.LibraryWindows, nw.Libraries, now)
				if !sameShare(old, nw) {
					evs = append(evs, shareEvent(cur.ID, name, srv, old, nw, true))
					before["shares."+srv], after["shares."+srv] = shareSummary1(old), shareSummary1(nw)
				}
				shares[srv] = nw
			case has:
				evs = append(evs, shareEvent(cur.ID, name, srv, storage.Share{}, nw, false))
				before["shares."+srv], after["shares."+srv] = nil, shareSummary1(nw)
				shares[srv] = nw
			case had:
				if old.ShareID > 0 {
					shrinks = true
					evs = append(evs, syncEvent{typ: EventUserShareChanged, userID: cur.ID, server: srv,
						message: fmt.Sprintf("%s no longer has a share of this server in Plex", name),
						data:    map[string]any{"before": shareSummary1(old), "after": nil}})
					before["shares."+srv], after["shares."+srv] = shareSummary1(old), nil
				} else if !inactive {
					before["shares."+srv], after["shares."+srv] = shareSummary1(old), nil
				} else {
					shares[srv] = old
				}
			}
		}
		if len(shares) == 0 {
			shares = nil
		}
		next.Shares = shares
		if next.Kind != m.kind {
			before["kind"], after["kind"] = cur.Kind, m.kind
			if cur.Kind == storage.KindPending && m.kind == storage.KindFriend {
				evs = append(evs, syncEvent{typ: EventUserAccepted, userID: cur.ID,
					message: fmt.Sprintf("%s accepted the invitation", name)})
			}
			next.Kind = m.kind
		}
		status := m.status
		if next.Status != status {
			before["status"], after["status"] = cur.Status, status
			if inactive && cur.Status != storage.StatusScheduled {
				data := map[string]any{"before": cur.Status}
				if next.ExpiresAt != nil && !now.Before(*next.ExpiresAt) {
					data["cleared_expires_at"] = next.ExpiresAt
					before["expires_at"], after["expires_at"] = next.ExpiresAt, nil
					next.ExpiresAt = nil
				}
				evs = append(evs, syncEvent{typ: EventUserBackInPlex, userID: cur.ID,
					message: fmt.Sprintf("%s has access in Plex again (shared outside this manager)", name), data: data})
			}
			next.Status = status
			next.RemovedAt = nil
		}
	}
	if foreignKnown && next.SharesBack != shareBack[cur.ID] {
		before["shares_back"], after["shares_back"] = next.SharesBack, shareBack[cur.ID]
		next.SharesBack = shareBack[cur.ID]
		if next.SharesBack {
			evs = append(evs, syncEvent{typ: EventUserSharesBack, userID: cur.ID,
				message: fmt.Sprintf("%s shares a server with you", name)})
		}
	}
	if len(before) == 0 && len(after) == 0 {
		return cur, Change{}, nil, false, false
	}
	next.UpdatedAt = now
	if !slices.ContainsFunc(evs, func(e syncEvent) bool { return e.typ != EventUserSharesBack }) {
		evs = append(evs, syncEvent{typ: EventUserUpdated, userID: cur.ID,
			message: fmt.Sprintf("%s changed in Plex", name), data: map[string]any{"before": before, "after": after}})
	}
	c := Change{Action: ActionUpdate, UserID: cur.ID, Username: displayName(next), Reason: "Plex differs from the store",
		Before: before, After: after, Result: ResultPlanned}
	return next, c, evs, shrinks, true
}

// keepWindows keeps the library windows that still mean something next to a share's libraries:
// windows of listed libraries, and windows that will add a library later.
func keepWindows(windows map[string]storage.Window, libs []string, now time.Time) map[string]storage.Window {
	var out map[string]storage.Window
	for k, w := range windows {
		if windowEnded(w, now) {
			continue
		}
		if slices.Contains(libs, k) || windowNotStarted(w, now) {
			if out == nil {
				out = map[string]storage.Window{}
			}
			out[k] = cloneWindow(w)
		}
	}
	return out
}

// sameShare compares what Plex holds of two shares.
func sameShare(a, b storage.Share) bool {
	return a.ShareID == b.ShareID && sameLibraries(a.Libraries, b.Libraries) && a.AllLibraries == b.AllLibraries &&
		a.AllowDownloads == b.AllowDownloads && a.Filters == b.Filters && a.Pending == b.Pending
}

// shareEvent is the drift event of a share that changed or appeared in Plex.
func shareEvent(userID int64, name, srv string, old, nw storage.Share, had bool) syncEvent {
	msg := fmt.Sprintf("The share of %s changed in Plex", name)
	if !had {
		msg = fmt.Sprintf("%s got a share of this server in Plex", name)
	}
	return syncEvent{typ: EventUserShareChanged, userID: userID, server: srv, message: msg,
		data: map[string]any{"before": shareSummary1(old), "after": shareSummary1(nw)}}
}

// shareSummary describes shares for reports and events.
func shareSummary(shares map[string]storage.Share) map[string]any {
	out := map[string]any{}
	for srv, sh := range shares {
		out[srv] = shareSummary1(sh)
	}
	return out
}

// shareSummary1 describes one share.
func shareSummary1(sh storage.Share) map[string]any {
	return map[string]any{"share_id": sh.ShareID, "libraries": sh.Libraries, "all_libraries": sh.AllLibraries,
		"allow_downloads": sh.AllowDownloads, "filters": sh.Filters, "pending": sh.Pending}
}
