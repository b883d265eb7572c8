package access

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// EnforceInput is what an enforcement decision depends on.
type EnforceInput struct {
	// Now is the decision time.
	Now time.Time
	// Due are the users with something due: a start (status scheduled, StartsAt ≤ Now), an expiry
	// (ExpiresAt ≤ Now) or a per-library window change. A user may appear more than once.
	Due []storage.User
	// Servers are the stored servers by id (library maps).
	Servers map[string]storage.Server
	// Busy users have a change waiting for a retry; they are left for that retry.
	Busy map[int64]bool
	// Cooldown holds users whose automatic change Plex refused, until when it is not tried again.
	Cooldown map[int64]time.Time
	// Cap is the most removals the pass may make; IgnoreCap lifts it (an admin's explicit run).
	Cap       int
	IgnoreCap bool // see Cap
}

// EnforcePlan is an enforcement decision.
type EnforcePlan struct {
	// Planned are the changes to make, in order.
	Planned []Change
	// Skipped are due changes not made now (busy users, the cap, unknown libraries), with why.
	Skipped []Change
	// Removals counts the planned changes that take access away.
	Removals int
	// Capped is true when Removals exceeded the cap: the removals are in Skipped, not Planned.
	Capped bool

	ops    []op
	stored []storage.User
}

// PlanEnforce decides one enforcement pass. It is a pure function of its input: for each due user,
// the transition from the record to itself at Now (see planTransition) — an ended window takes the
// shares off and marks the user expired, a started one shares the libraries, a library window that
// opened or ended updates (or, when no library would be left, removes) the share; Plex's "empty list
// means every library" is never sent. Removals above the cap are all held back.
func PlanEnforce(in EnforceInput) EnforcePlan {
	var p EnforcePlan
	seen := map[int64]bool{}
	type planned struct {
		o      op
		stored storage.User
	}
	var removals, others []planned
	for _, u := range in.Due {
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		if in.Busy[u.ID] {
			p.Skipped = append(p.Skipped, Change{Action: dueAction(u, in.Now), UserID: u.ID, Username: displayName(u),
				Reason: "due", Result: ResultSkipped, Error: "an earlier change for this user waits for a retry"})
			continue
		}
		if until, ok := in.Cooldown[u.ID]; ok && in.Now.Before(until) {
			p.Skipped = append(p.Skipped, Change{Action: dueAction(u, in.Now), UserID: u.ID, Username: displayName(u),
				Reason: "due", Result: ResultSkipped, Error: "Plex refused this change; it is tried again after " + until.UTC().Format(time.RFC3339)})
			continue
		}
		tr, err := planTransition(u, u, in.Servers, in.Now)
		if err != nil {
			p.Skipped = append(p.Skipped, Change{Action: dueAction(u, in.Now), UserID: u.ID, Username: displayName(u),
				Reason: "due", Result: ResultFailed, Error: Explain(err)})
			continue
		}
		o, ok := enforceOp(u, tr, in.Now)
		if !ok {
			continue
		}
		if o.removes() && len(o.Steps) > 0 {
			removals = append(removals, planned{o, tr.Stored})
		} else {
			others = append(others, planned{o, tr.Stored})
		}
	}
	p.Removals = len(removals)
	if !in.IgnoreCap && len(removals) > in.Cap {
		p.Capped = true
		for _, r := range removals {
			c := r.o.change(ResultSkipped, fmt.Sprintf("held back: %d removals exceed the cap of %d per pass", len(removals), in.Cap))
			p.Skipped = append(p.Skipped, c)
		}
		removals = nil
	}
	for _, x := range slices.Concat(removals, others) {
		p.ops = append(p.ops, x.o)
		p.stored = append(p.stored, x.stored)
		p.Planned = append(p.Planned, x.o.change(ResultPlanned, ""))
	}
	return p
}

// enforceOp turns the transition of a due user into an operation; false when nothing changes.
func enforceOp(u storage.User, tr transition, now time.Time) (op, bool) {
	o := op{UserID: u.ID, Username: displayName(u), Actor: ActorSystem, Steps: tr.Steps}
	switch tr.Final {
	case storage.StatusExpired:
		o.Kind, o.Reason = ActionExpire, "the access window ended at "+formatTime(u.ExpiresAt)
		o.Final = final{Status: storage.StatusExpired, Event: EventUserExpired,
			Message: fmt.Sprintf("Access of %s ended", cmpOr(displayName(u), fmt.Sprint(u.ID)))}
	case finalDerive:
		o.Kind, o.Reason = ActionStart, "the access window started at "+formatTime(u.StartsAt)
		o.Final = final{Status: finalDerive, Event: EventUserStarted,
			Message: fmt.Sprintf("Access of %s started", cmpOr(displayName(u), fmt.Sprint(u.ID)))}
	default:
		if len(tr.Steps) == 0 && storedEqual(u, tr.Stored) {
			return op{}, false
		}
		o.Kind, o.Reason = ActionLibraryStart, "a library window opened"
		o.Final = final{Status: tr.Final, Event: EventUserLibraryAdded,
			Message: fmt.Sprintf("Libraries of %s changed by their windows", cmpOr(displayName(u), fmt.Sprint(u.ID)))}
		if libraryLoss(u, tr, now) {
			o.Kind, o.Reason = ActionLibraryExpire, "a library window ended"
			o.Final.Event = EventUserLibraryEnded
		}
	}
	return o, true
}

// libraryLoss reports whether a library transition takes a library away from a share on Plex.
func libraryLoss(u storage.User, tr transition, now time.Time) bool {
	for _, st := range tr.Steps {
		if st.removes() {
			return true
		}
		if cur, ok := u.Shares[st.ServerID]; ok {
			for _, k := range cur.Libraries {
				if !slices.Contains(st.Libraries, k) {
					return true
				}
			}
		}
	}
	return false
}

// dueAction guesses the action of a due user for a skip report.
func dueAction(u storage.User, now time.Time) string {
	switch {
	case u.ExpiresAt != nil && !now.Before(*u.ExpiresAt):
		return ActionExpire
	case u.Status == storage.StatusScheduled:
		return ActionStart
	}
	return ActionLibraryStart
}

// storedEqual reports whether two records are the same apart from UpdatedAt.
func storedEqual(a, b storage.User) bool {
	a, b = a.Clone(), b.Clone()
	normaliseUser(&a)
	normaliseUser(&b)
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	if len(a.Shares) == 0 {
		a.Shares = nil
	}
	if len(b.Shares) == 0 {
		b.Shares = nil
	}
	return reflect.DeepEqual(a, b)
}

// formatTime formats an optional time for a reason.
func formatTime(t *time.Time) string {
	if t == nil {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339)
}
