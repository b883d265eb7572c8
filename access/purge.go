package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// day is the purge's unit of inactivity.
const day = 24 * time.Hour

// PurgeInput is what a purge decision depends on.
type PurgeInput struct {
	// Now is the decision time, Users every stored user, Settings the purge settings.
	Now      time.Time
	Users    []storage.User
	Settings Settings
}

// PlanPurge decides who a purge removes. It is a pure function of its input. A user qualifies when
// they are active and have not watched anything for Settings.InactiveDays days (last activity from
// live sessions and the servers' history); a user who never watched qualifies once they joined that
// long ago (or at once with PurgeNeverWatched). Home and managed users, users who share a server
// back, whitelisted users and users who joined less than InactiveDays ago are kept, with why; pending
// invitations are kept too (they have not joined).
func PlanPurge(in PurgeInput) PurgePlan {
	now := in.Now.UTC()
	n := in.Settings.InactiveDays
	limit := time.Duration(n) * day
	plan := PurgePlan{At: now, InactiveDays: n, NeverWatched: in.Settings.PurgeNeverWatched,
		Candidates: []PurgeCandidate{}, Excluded: []PurgeExclusion{}}
	users := slices.Clone(in.Users)
	slices.SortFunc(users, func(a, b storage.User) int { return cmp.Compare(a.ID, b.ID) })
	for _, u := range users {
		if u.Status != storage.StatusActive && u.Status != storage.StatusPending {
			continue
		}
		var since time.Time
		var reason string
		if u.LastActivityAt != nil {
			since = *u.LastActivityAt
			reason = fmt.Sprintf("no activity since %s", since.Format("2006-01-02"))
		} else {
			since = u.CreatedAt
			reason = fmt.Sprintf("never watched since joining on %s", since.Format("2006-01-02"))
		}
		idle := now.Sub(since)
		never := u.LastActivityAt == nil
		if idle < limit && !(never && in.Settings.PurgeNeverWatched) {
			continue // active enough
		}
		ex := func(why string) {
			plan.Excluded = append(plan.Excluded, PurgeExclusion{UserID: u.ID, Username: displayName(u), Reason: why})
		}
		switch {
		case u.Kind == storage.KindHome:
			ex("Plex Home member")
		case u.Kind == storage.KindManaged:
			ex("managed user")
		case u.SharesBack:
			ex("shares a server with you")
		case u.Whitelisted:
			ex("whitelisted")
		case u.Status == storage.StatusPending:
			ex("invitation not accepted yet")
		case now.Sub(u.CreatedAt) < limit && !(never && in.Settings.PurgeNeverWatched):
			ex(fmt.Sprintf("joined less than %d days ago", n))
		default:
			plan.Candidates = append(plan.Candidates, PurgeCandidate{UserID: u.ID, Username: displayName(u),
				LastActivityAt: cloneTime(u.LastActivityAt), InactiveDays: int(idle / day), Reason: reason})
		}
	}
	return plan
}

// PurgePreview returns who a purge would remove now and who it keeps, with why. It changes nothing.
func (s *Service) PurgePreview(ctx context.Context) (PurgePlan, error) {
	return s.purgePlan()
}

// purgePlan runs PlanPurge on the current users.
func (s *Service) purgePlan() (PurgePlan, error) {
	settings, err := s.Settings()
	if err != nil {
		return PurgePlan{}, err
	}
	var users []storage.User
	if err := s.store.View(func(tx *storage.Tx) error {
		var err error
		users, err = tx.Users().List()
		return err
	}); err != nil {
		return PurgePlan{}, fmt.Errorf("reading users: %w", err)
	}
	return PlanPurge(PurgeInput{Now: s.clock(), Users: users, Settings: settings}), nil
}

// Purge removes exactly the given users that a purge would still remove now (typically the ids a
// preview showed): each is revoked on Plex and recorded as purged (user.purged). Users no longer
// eligible — they watched since, were whitelisted… — are skipped with why. The report is stored.
func (s *Service) Purge(ctx context.Context, actor string, userIDs []int64) (PurgeReport, error) {
	if err := s.lockCtx(ctx); err != nil {
		return PurgeReport{}, err
	}
	defer s.lock.Unlock()
	return s.purgeLocked(ctx, cmpOr(actor, ActorSystem), userIDs, false)
}

// AutoPurge is the scheduled purge: a no-op unless the AutoPurge setting is on; then every eligible
// user is removed — unless they are more than the removal cap, when nothing is removed and a
// purge.capped event is recorded. It also waits (removes nobody, the report's Error says why) until
// the watch history of every server has been read once: before that everyone looks as if they never
// watched, and join dates come from Plex, so a fresh install would see most users as inactive.
func (s *Service) AutoPurge(ctx context.Context) (PurgeReport, error) {
	settings, err := s.Settings()
	if err != nil {
		return PurgeReport{}, err
	}
	idle := PurgeReport{PassReport: PassReport{Kind: "purge", Actor: ActorSystem, Planned: []Change{}, Changes: []Change{}},
		Removed: []int64{}, Skipped: []PurgeExclusion{}}
	if !settings.AutoPurge {
		return idle, nil
	}
	unread, err := s.historyUnread()
	if err != nil {
		return PurgeReport{}, err
	}
	if len(unread) > 0 {
		idle.Error = fmt.Sprintf("the watch history of %s has not been read yet; the automatic purge waits for it",
			strings.Join(unread, ", "))
		s.log.Info("plex_manager: automatic purge skipped", zap.String("reason", idle.Error))
		return idle, nil
	}
	if err := s.lockCtx(ctx); err != nil {
		return PurgeReport{}, err
	}
	defer s.lock.Unlock()
	return s.purgeLocked(ctx, ActorSystem, nil, true)
}

// historyUnread names the servers (with a URL) whose watch history no history pass has read yet.
func (s *Service) historyUnread() ([]string, error) {
	servers, err := s.store.ListServers()
	if err != nil {
		return nil, fmt.Errorf("reading servers: %w", err)
	}
	marks := map[string]time.Time{}
	if err := s.store.GetSetting(watermarkKey, &marks); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("reading history watermarks: %w", err)
	}
	var out []string
	for _, srv := range servers {
		if _, read := marks[srv.ID]; srv.URL != "" && !read {
			out = append(out, cmpOr(srv.Name, srv.ID))
		}
	}
	return out, nil
}

// purgeLocked removes the requested users that are eligible (all eligible users when auto is set,
// within the cap). The caller holds the lock.
func (s *Service) purgeLocked(ctx context.Context, actor string, userIDs []int64, auto bool) (PurgeReport, error) {
	now := s.clock()
	rep := PurgeReport{PassReport: PassReport{ID: storage.NewID(), Kind: "purge", Actor: actor, StartedAt: now,
		Planned: []Change{}, Changes: []Change{}}, Removed: []int64{}, Skipped: []PurgeExclusion{}}
	err := s.purgeBody(ctx, userIDs, auto, &rep)
	if err != nil {
		rep.Error = Explain(err)
	}
	rep.FinishedAt = s.clock()
	store := len(rep.Planned)+len(rep.Skipped) > 0 || rep.Capped || err != nil
	if serr := s.savePass(EventPassPurge, actor, rep, store, passMessage("Purge", rep.Changes, err)); serr != nil && err == nil {
		err = serr
	}
	return rep, err
}

// purgeBody plans and removes.
func (s *Service) purgeBody(ctx context.Context, userIDs []int64, auto bool, rep *PurgeReport) error {
	plan, err := s.purgePlan()
	if err != nil {
		return err
	}
	settings, err := s.Settings()
	if err != nil {
		return err
	}
	rep.Cap = settings.RemovalCap
	eligible := map[int64]PurgeCandidate{}
	for _, c := range plan.Candidates {
		eligible[c.UserID] = c
	}
	excluded := map[int64]string{}
	for _, e := range plan.Excluded {
		excluded[e.UserID] = e.Reason
	}
	var targets []PurgeCandidate
	if auto {
		targets = plan.Candidates
		if len(targets) > settings.RemovalCap {
			rep.Capped = true
			for _, c := range targets {
				rep.Skipped = append(rep.Skipped, PurgeExclusion{UserID: c.UserID, Username: c.Username,
					Reason: fmt.Sprintf("held back: %d users exceed the cap of %d per pass", len(targets), settings.RemovalCap)})
			}
			return s.Record(newEvent(rep.StartedAt, EventPurgeCapped, rep.Actor, 0, "",
				fmt.Sprintf("The automatic purge held back %d removals (cap %d): review the purge preview", len(targets), settings.RemovalCap),
				map[string]any{"users": len(targets), "cap": settings.RemovalCap}))
		}
	} else {
		seen := map[int64]bool{}
		for _, id := range userIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			c, ok := eligible[id]
			if !ok {
				why := excluded[id]
				if why == "" {
					why = "not eligible for the purge (recently active, or not an active user)"
				}
				rep.Skipped = append(rep.Skipped, PurgeExclusion{UserID: id, Reason: why})
				continue
			}
			targets = append(targets, c)
		}
	}
	down := false
	for _, c := range targets {
		ch := Change{Action: ActionPurge, UserID: c.UserID, Username: c.Username, Reason: "inactive: " + c.Reason, Result: ResultPlanned}
		rep.Planned = append(rep.Planned, ch)
		switch {
		case ctx.Err() != nil:
			ch.Result, ch.Error = ResultSkipped, "the purge was cancelled"
			rep.Changes = append(rep.Changes, ch)
			continue
		case down:
			ch.Result, ch.Error = ResultSkipped, "Plex is unreachable; purge again later"
			rep.Changes = append(rep.Changes, ch)
			continue
		}
		err := s.removeUserLocked(ctx, rep.Actor, c.UserID, ch.Reason, ActionPurge, EventUserPurged)
		down = plexDown(err)
		ch.Result, ch.Error = resultOf(err)
		if err == nil {
			rep.Removed = append(rep.Removed, c.UserID)
		}
		rep.Changes = append(rep.Changes, ch)
	}
	return nil
}
