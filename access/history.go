package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// watermarkKey is the setting holding, per server, the newest history entry already read.
const watermarkKey = "access.history_watermarks"

// ownerAccountID is the server account id of the owner on every Plex Media Server.
const ownerAccountID = 1

// HistoryPass reads every server's watch history since its watermark (the first pass reads
// HistoryLookback back), maps server accounts to users (account 1 is the owner, who is not a managed
// user; every other account id is the plex.tv id) and moves their last activity forward. A server
// that cannot be read keeps its watermark; the others go on. A pass whose ctx ends while a server is
// read (Caddy stopping or reloading) records nothing and is not stored. The pass makes no Plex change and last
// activity only ever moves forward, so it runs without the pass lock: a long or slow history read
// (bounded by DefaultHistoryReadTimeout) never holds up a sync, an enforcement pass or an edit.
func (s *Service) HistoryPass(ctx context.Context) (PassReport, error) {
	now := s.clock()
	rep := PassReport{ID: storage.NewID(), Kind: "history", Actor: ActorSystem, StartedAt: now, Planned: []Change{}, Changes: []Change{}}
	err := s.historyBody(ctx, now, &rep)
	if isStopped(err) {
		// Stopped while a server was read (Caddy stopping or reloading): no watermark moved, and a
		// pass cut short is neither a failed pass nor a finished one.
		rep.Error, rep.FinishedAt = Explain(err), s.clock()
		return rep, err
	}
	if err != nil {
		rep.Error = Explain(err)
	}
	rep.FinishedAt = s.clock()
	store := len(rep.Changes) > 0 || err != nil
	if serr := s.savePass(EventPassHistory, ActorSystem, rep, store, passMessage("History", rep.Changes, err)); serr != nil && err == nil {
		err = serr
	}
	return rep, err
}

// historyBody reads each server and records activity.
func (s *Service) historyBody(ctx context.Context, now time.Time, rep *PassReport) error {
	servers, err := s.store.ListServers()
	if err != nil {
		return fmt.Errorf("reading servers: %w", err)
	}
	marks := map[string]time.Time{}
	if err := s.store.GetSetting(watermarkKey, &marks); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("reading history watermarks: %w", err)
	}
	seen := map[int64]time.Time{}
	var failures []error
	for _, srv := range servers {
		if srv.URL == "" {
			continue
		}
		since, ok := marks[srv.ID]
		if !ok {
			since = now.Add(-s.lookback)
		}
		items, err := s.gw.ServerHistory(ctx, srv.URL, plex.HistoryQuery{Since: since})
		if serr := stopped(ctx); err != nil && serr != nil {
			// The read was cut short: record nothing; the next pass reads from the same watermarks.
			return fmt.Errorf("server %s: %w", srv.Name, serr)
		}
		if err = s.observe(err); err != nil {
			failures = append(failures, fmt.Errorf("server %s: %w", srv.Name, err))
			rep.Changes = append(rep.Changes, Change{Action: "history", ServerID: srv.ID, Reason: "read the watch history",
				Result: ResultFailed, Error: Explain(err)})
			continue
		}
		newest := since
		for _, it := range items {
			if it.ViewedAt.After(newest) {
				newest = it.ViewedAt
			}
			if it.AccountID == ownerAccountID || it.AccountID <= 0 {
				continue
			}
			if it.ViewedAt.After(seen[it.AccountID]) {
				seen[it.AccountID] = it.ViewedAt
			}
		}
		marks[srv.ID] = newest.UTC()
	}
	moved, err := s.markActivity(seen)
	if err != nil {
		return err
	}
	if moved > 0 {
		rep.Changes = append(rep.Changes, Change{Action: "history", Reason: fmt.Sprintf("last activity moved forward for %d users", moved),
			Result: ResultDone})
	}
	if err := s.store.PutSetting(watermarkKey, marks); err != nil {
		return fmt.Errorf("storing history watermarks: %w", err)
	}
	return errors.Join(failures...)
}
