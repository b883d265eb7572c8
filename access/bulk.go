package access

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// maxBulk bounds the users of one bulk operation.
const maxBulk = 1000

// BulkPreview returns, per user, what op would change — nothing is changed. Users for whom op is
// invalid (an unknown library…) get Result failed with the reason.
func (s *Service) BulkPreview(ctx context.Context, userIDs []int64, op BulkOp) (BulkReport, error) {
	ids, err := checkBulk(userIDs, op)
	if err != nil {
		return BulkReport{}, err
	}
	servers, err := s.serverMap()
	if err != nil {
		return BulkReport{}, err
	}
	now := s.clock()
	rep := BulkReport{Items: make([]BulkItem, 0, len(ids))}
	for _, id := range ids {
		it := BulkItem{UserID: id, Result: ResultPlanned}
		u, err := s.getUser(id)
		if err != nil {
			it.Result, it.Error = ResultFailed, Explain(err)
			rep.Failed++
			rep.Items = append(rep.Items, it)
			continue
		}
		it.Username = displayName(u)
		if op.Remove {
			it.Diff = map[string]FieldDiff{"status": {Before: u.Status, After: storage.StatusRemoved}}
			rep.Changed++
			rep.Items = append(rep.Items, it)
			continue
		}
		_, diff, err := applyPatch(u, bulkPatch(u, op, servers, now), servers)
		switch {
		case err != nil:
			it.Result, it.Error = ResultFailed, Explain(err)
			rep.Failed++
		case len(diff) == 0:
			it.Result = ResultSkipped
		default:
			it.Diff = diff
			rep.Changed++
		}
		rep.Items = append(rep.Items, it)
	}
	return rep, nil
}

// BulkApply applies op to every user, one at a time (each change is its own intent, pushed to Plex at
// once), and reports each user's diff and result. A failure for one user does not stop the others.
func (s *Service) BulkApply(ctx context.Context, actor string, userIDs []int64, op BulkOp) (BulkReport, error) {
	ids, err := checkBulk(userIDs, op)
	if err != nil {
		return BulkReport{}, err
	}
	servers, err := s.serverMap()
	if err != nil {
		return BulkReport{}, err
	}
	rep := BulkReport{Items: make([]BulkItem, 0, len(ids))}
	for _, id := range ids {
		it := BulkItem{UserID: id}
		if ctx.Err() != nil {
			it.Result, it.Error = ResultSkipped, "cancelled"
			rep.Items = append(rep.Items, it)
			continue
		}
		u, err := s.getUser(id)
		if err == nil {
			it.Username = displayName(u)
			if op.Remove {
				it.Diff = map[string]FieldDiff{"status": {Before: u.Status, After: storage.StatusRemoved}}
				err = s.RemoveUser(ctx, actor, id, cmpOr(op.Reason, "bulk removal"))
			} else {
				var before storage.User
				before, err = s.getUser(id)
				if err == nil {
					p := bulkPatch(before, op, servers, s.clock())
					p.Reason = cmpOr(op.Reason, "bulk edit")
					var after storage.User
					after, err = s.UpdateUser(ctx, actor, id, p)
					if err == nil {
						it.Diff = userDiff(before, after)
					}
				}
			}
		}
		it.Result, it.Error = resultOf(err)
		switch {
		case err != nil && it.Result == ResultFailed:
			rep.Failed++
		case err == nil && len(it.Diff) == 0:
			it.Result = ResultSkipped
		default:
			rep.Changed++
		}
		rep.Items = append(rep.Items, it)
	}
	return rep, nil
}

// checkBulk validates a bulk request and de-duplicates the ids.
func checkBulk(userIDs []int64, op BulkOp) ([]int64, error) {
	switch {
	case len(userIDs) == 0:
		return nil, fieldError("user_ids", "choose at least one user")
	case len(userIDs) > maxBulk:
		return nil, fieldError("user_ids", "at most %d users at once", maxBulk)
	}
	edits := len(op.Libraries) > 0 || len(op.AddLibraries) > 0 || len(op.RemoveLibraries) > 0 || op.AllowDownloads != nil ||
		op.StartsAt != nil || op.ClearStartsAt || op.ExpiresAt != nil || op.ClearExpiresAt || op.ExtendDays != 0 || op.Whitelisted != nil
	switch {
	case op.Remove && edits:
		return nil, fieldError("remove", "a removal cannot be combined with edits")
	case !op.Remove && !edits:
		return nil, fieldError("operation", "nothing to change")
	case op.ExtendDays != 0 && (op.ExpiresAt != nil || op.ClearExpiresAt):
		return nil, fieldError("extend_days", "give an expiry or a number of days to extend by, not both")
	case op.ExtendDays < -maxMembershipDays || op.ExtendDays > maxMembershipDays:
		return nil, fieldError("extend_days", "must be between -%d and %d", maxMembershipDays, maxMembershipDays)
	}
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// bulkPatch is the UserPatch op means for u. ExtendDays moves an existing expiry (users without one
// keep none). Adding libraries to a share of every library changes nothing: it covers them already,
// and libraries added later too (a list would lose those). servers tells known library keys.
func bulkPatch(u storage.User, op BulkOp, servers map[string]storage.Server, now time.Time) UserPatch {
	p := UserPatch{AllowDownloads: op.AllowDownloads, Whitelisted: op.Whitelisted, StartsAt: op.StartsAt,
		ClearStartsAt: op.ClearStartsAt, ExpiresAt: op.ExpiresAt, ClearExpiresAt: op.ClearExpiresAt, Reason: op.Reason}
	libs := map[string][]string{}
	for srv, keys := range op.Libraries {
		libs[srv] = slices.Clone(keys)
	}
	for srv, keys := range op.AddLibraries {
		base, ok := libs[srv]
		if !ok {
			if u.Shares[srv].AllLibraries && hasLibraries(servers[srv], keys) {
				continue
			}
			base = slices.Clone(u.Shares[srv].Libraries)
		}
		libs[srv] = append(base, keys...)
	}
	for srv, keys := range op.RemoveLibraries {
		base, ok := libs[srv]
		if !ok {
			base = slices.Clone(u.Shares[srv].Libraries)
		}
		libs[srv] = slices.DeleteFunc(base, func(k string) bool { return slices.Contains(keys, k) })
	}
	if len(libs) > 0 {
		p.Libraries = libs
	}
	if op.ExtendDays != 0 && u.ExpiresAt != nil {
		p.ExpiresAt = utcPtr(u.ExpiresAt.AddDate(0, 0, op.ExtendDays))
	}
	return p
}

// hasLibraries reports whether srv has a library of every key (an unknown key is left to applyPatch,
// which names it).
func hasLibraries(srv storage.Server, keys []string) bool {
	for _, k := range keys {
		if !slices.ContainsFunc(srv.Libraries, func(l storage.Library) bool { return l.Key == k }) {
			return false
		}
	}
	return true
}

// userDiff compares the admin-visible fields of two versions of a user.
func userDiff(a, b storage.User) map[string]FieldDiff {
	d := map[string]FieldDiff{}
	if a.Status != b.Status {
		d["status"] = FieldDiff{a.Status, b.Status}
	}
	if !timesEqual(a.StartsAt, b.StartsAt) {
		d["starts_at"] = FieldDiff{a.StartsAt, b.StartsAt}
	}
	if !timesEqual(a.ExpiresAt, b.ExpiresAt) {
		d["expires_at"] = FieldDiff{a.ExpiresAt, b.ExpiresAt}
	}
	if a.Whitelisted != b.Whitelisted {
		d["whitelisted"] = FieldDiff{a.Whitelisted, b.Whitelisted}
	}
	for _, srv := range slices.Sorted(maps.Keys(unionShares(a.Shares, b.Shares))) {
		x, y := a.Shares[srv], b.Shares[srv]
		if !sameLibraries(x.Libraries, y.Libraries) || x.AllLibraries != y.AllLibraries {
			d["libraries."+srv] = FieldDiff{librariesValue(x), librariesValue(y)}
		}
		if x.AllowDownloads != y.AllowDownloads {
			d["allow_downloads."+srv] = FieldDiff{x.AllowDownloads, y.AllowDownloads}
		}
	}
	return d
}

// unionShares returns a set of the servers of two share maps.
func unionShares(a, b map[string]storage.Share) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
