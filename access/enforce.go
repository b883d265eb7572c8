package access

import (
	"context"
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// EnforceOptions change one enforcement pass.
type EnforceOptions struct {
	// IgnoreCap lets an admin run a pass whose removals exceed the cap.
	IgnoreCap bool `json:"ignore_cap,omitempty"`
}

// Enforce runs one enforcement pass: first the intents waiting for a retry whose backoff has passed,
// then every due start, expiry and library window (PlanEnforce), each as an intent. Above the removal
// cap no removal is made, an enforce.capped event is recorded and the report says so. The report is
// stored (RecentPasses) when the pass did or skipped anything.
func (s *Service) Enforce(ctx context.Context, actor string) (PassReport, error) {
	return s.EnforceWith(ctx, actor, EnforceOptions{})
}

// EnforceWith is Enforce with options.
func (s *Service) EnforceWith(ctx context.Context, actor string, o EnforceOptions) (PassReport, error) {
	if err := s.lockCtx(ctx); err != nil {
		return PassReport{}, err
	}
	defer s.lock.Unlock()
	now := s.clock()
	rep := PassReport{ID: storage.NewID(), Kind: "enforce", Actor: cmpOr(actor, ActorSystem), StartedAt: now,
		Planned: []Change{}, Changes: []Change{}}
	err := s.enforceLocked(ctx, o, &rep)
	if err != nil {
		rep.Error = Explain(err)
	}
	rep.FinishedAt = s.clock()
	// Passes that only found users waiting for their retry are not stored (one a minute during an outage).
	if serr := s.savePass(EventPassEnforce, rep.Actor, rep, len(rep.Planned)+rep.Retried > 0 || rep.Capped || err != nil,
		passMessage("Enforcement", rep.Changes, err)); serr != nil && err == nil {
		err = serr
	}
	return rep, err
}

// enforceLocked is the body of an enforcement pass; the caller holds the lock.
func (s *Service) enforceLocked(ctx context.Context, o EnforceOptions, rep *PassReport) error {
	now := rep.StartedAt
	retried, down, err := s.retryDue(ctx, now, false)
	rep.Retried = len(retried)
	rep.Changes = append(rep.Changes, retried...)
	if err != nil {
		return err
	}
	settings, err := s.Settings()
	if err != nil {
		return err
	}
	rep.Cap = settings.RemovalCap
	plan, err := s.planEnforce(now, settings.RemovalCap, o.IgnoreCap)
	if err != nil {
		return err
	}
	rep.Planned = append(rep.Planned, plan.Planned...)
	rep.Changes = append(rep.Changes, plan.Skipped...)
	rep.Capped = plan.Capped
	if plan.Capped {
		if err := s.Record(newEvent(now, EventEnforceCapped, rep.Actor, 0, "",
			fmt.Sprintf("Enforcement held back %d removals: more than the cap of %d per pass; review them and run the pass with the cap lifted",
				plan.Removals, settings.RemovalCap),
			map[string]any{"removals": plan.Removals, "cap": settings.RemovalCap, "users": changeUsers(plan.Skipped)})); err != nil {
			return err
		}
	}
	for i, op := range plan.ops {
		switch {
		case ctx.Err() != nil:
			rep.Changes = append(rep.Changes, op.change(ResultSkipped, "the pass was cancelled"))
			continue
		case down && len(op.Steps) > 0:
			rep.Changes = append(rep.Changes, op.change(ResultSkipped, "Plex is unreachable; the next pass tries again"))
			continue
		}
		stored := plan.stored[i]
		stored.UpdatedAt = now
		err := s.runOp(ctx, op, func(tx *storage.Tx) error { return putUser(tx, stored) })
		result, msg := resultOf(err)
		rep.Changes = append(rep.Changes, op.change(result, msg))
		down = down || plexDown(err)
	}
	return nil
}

// planEnforce gathers the due users and runs PlanEnforce.
func (s *Service) planEnforce(now time.Time, cap int, ignoreCap bool) (EnforcePlan, error) {
	starts, err := s.store.DueStarts(now)
	if err != nil {
		return EnforcePlan{}, fmt.Errorf("reading due starts: %w", err)
	}
	expiries, err := s.store.DueExpiries(now)
	if err != nil {
		return EnforcePlan{}, fmt.Errorf("reading due expiries: %w", err)
	}
	libs, _, err := s.dueLibraryUsers(now)
	if err != nil {
		return EnforcePlan{}, err
	}
	ids := append(append(expiries, starts...), libs...)
	if len(ids) == 0 {
		return EnforcePlan{}, nil
	}
	due, err := s.getUsers(ids)
	if err != nil {
		return EnforcePlan{}, err
	}
	servers, err := s.serverMap()
	if err != nil {
		return EnforcePlan{}, err
	}
	busy, err := s.busyUsers()
	if err != nil {
		return EnforcePlan{}, err
	}
	cooldown, err := s.cooldowns()
	if err != nil {
		return EnforcePlan{}, err
	}
	return PlanEnforce(EnforceInput{Now: now, Due: due, Servers: servers, Busy: busy, Cooldown: cooldown, Cap: cap, IgnoreCap: ignoreCap}), nil
}

// changeUsers lists the user ids of changes.
func changeUsers(cs []Change) []int64 {
	out := make([]int64, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.UserID)
	}
	return out
}

// passMessage summarises a pass for its stored report.
func passMessage(what string, changes []Change, err error) string {
	done, failed, retry, skipped := 0, 0, 0, 0
	for _, c := range changes {
		switch c.Result {
		case ResultDone:
			done++
		case ResultFailed:
			failed++
		case ResultRetry:
			retry++
		case ResultSkipped:
			skipped++
		}
	}
	msg := fmt.Sprintf("%s: %d done, %d failed, %d to retry, %d skipped", what, done, failed, retry, skipped)
	if err != nil {
		msg += "; stopped: " + Explain(err)
	}
	return msg
}
