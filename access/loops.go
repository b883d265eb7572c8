package access

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Default loop intervals (the Caddyfile's sync_every and enforce_every override the first two).
const (
	DefaultSyncEvery    = 15 * time.Minute // sync (with a server refresh)
	DefaultEnforceEvery = time.Minute      // enforcement and retries
	DefaultHistoryEvery = time.Hour        // watch history
	DefaultPurgeEvery   = 24 * time.Hour   // automatic purge (opt-in)
)

// Intervals are the periods of the background loops; zero fields take the defaults.
type Intervals struct {
	// Sync, Enforce, History and Purge are the periods of those loops.
	Sync    time.Duration
	Enforce time.Duration
	History time.Duration
	Purge   time.Duration
}

// Loop is one background loop: Run once per Every. Serve runs it until the context ends.
type Loop struct {
	// Name names the loop in logs ("access_sync", …).
	Name string
	// Every is the period between the end of one run and the start of the next.
	Every time.Duration
	// Run is one pass.
	Run func(ctx context.Context) error
	// log receives failed runs.
	log *zap.Logger
	// wake, when set, starts a run before Every has passed (see Service.notePlexTV).
	wake <-chan struct{}
}

// Loops returns the engine's background loops: enforce (also retries intents, woken at once when
// plex.tv answers again after a failure, and at most hourly deletes finished intents past their
// retention), sync (after refreshing the servers and their libraries), history and the opt-in automatic
// purge (a no-op unless the AutoPurge setting is on). The root runs each with Serve.
func (s *Service) Loops(iv Intervals) []Loop {
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	return []Loop{
		{Name: "access_enforce", Every: or(iv.Enforce, DefaultEnforceEvery), log: s.log, wake: s.wake, Run: func(ctx context.Context) error {
			_, err := s.Enforce(ctx, ActorSystem)
			if n, ran, serr := s.sweepIntents(); serr != nil {
				s.log.Warn("plex_manager: deleting old finished intents failed", zap.String("error", serr.Error()))
			} else if ran && n > 0 {
				s.log.Info("plex_manager: deleted finished intents past their retention", zap.Int("intents", n))
			}
			return err
		}},
		{Name: "access_sync", Every: or(iv.Sync, DefaultSyncEvery), log: s.log, Run: func(ctx context.Context) error {
			// Libraries added or renamed on a server are picked up before the users are read.
			if _, err := s.Servers(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("plex_manager: refreshing the servers failed", zap.String("error", Explain(err)))
			}
			_, err := s.Sync(ctx, ActorSystem)
			return err
		}},
		{Name: "access_history", Every: or(iv.History, DefaultHistoryEvery), log: s.log, Run: func(ctx context.Context) error {
			_, err := s.HistoryPass(ctx)
			return err
		}},
		{Name: "access_purge", Every: or(iv.Purge, DefaultPurgeEvery), log: s.log, Run: func(ctx context.Context) error {
			_, err := s.AutoPurge(ctx)
			return err
		}},
	}
}

// Serve runs the loop: once at once, then every Every (or sooner when the loop is woken), until ctx
// ends (it then returns nil). A failed run is logged and the loop goes on.
func (l Loop) Serve(ctx context.Context) error {
	log := l.log
	if log == nil {
		log = zap.NewNop()
	}
	every := l.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-l.wake: // a nil channel never wakes
		}
		if err := l.Run(ctx); err != nil && ctx.Err() == nil {
			log.Warn("plex_manager pass failed", zap.String("loop", l.Name), zap.String("error", Explain(err)))
		}
		t.Reset(every)
	}
}
