package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// Value-log GC settings.
const (
	gcDiscardRatio = 0.5
	gcMaxRounds    = 64 // rewrites per GC call, a bound against a pathological loop
	defaultGCEvery = 10 * time.Minute
)

// GC runs Badger's value-log garbage collection once: it rewrites value-log files while Badger finds
// one worth rewriting and stops at ErrNoRewrite (or when another GC is already running). It does
// nothing in memory. A panic inside Badger is returned as an error.
func (s *Store) GC() (err error) {
	if s.opts.InMemory {
		return nil
	}
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.guard.admit(); err != nil {
		return fmt.Errorf("value-log GC skipped: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("value-log GC panicked: %v", r)
		}
	}()
	for range gcMaxRounds {
		err := s.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return nil
		case isClosedErr(err):
			return ErrClosed
		default:
			return fmt.Errorf("value-log GC: %w", err)
		}
	}
	return nil
}

// RunGC runs GC every interval (every ≤ 0: ten minutes) until ctx is done, then returns nil. Failures
// are logged and retried at the next tick; in memory mode it only waits for ctx. It returns ErrClosed
// if the store is closed under it.
func (s *Store) RunGC(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = defaultGCEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if s.opts.InMemory {
			continue
		}
		err := s.GC()
		if errors.Is(err, ErrClosed) {
			return err
		}
		if err != nil {
			s.logger.Warn("storage value-log GC failed", zap.Error(err))
		}
	}
}
