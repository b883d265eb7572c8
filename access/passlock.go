package access

import (
	"context"
	"fmt"
)

// lockCtx takes the pass lock, or gives up when ctx ends first: an admin's edit then answers within
// its own time limit instead of queueing behind a pass that waits for a slow Plex. The error wraps
// ErrEngineBusy and ctx's error; nothing was changed. Callers unlock with s.lock.Unlock.
func (s *Service) lockCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrEngineBusy, err)
	}
	if ctx.Done() == nil {
		s.lock.Lock()
		return nil
	}
	if tl, ok := s.lock.(interface{ TryLock() bool }); ok && tl.TryLock() {
		return nil
	}
	acquired := make(chan struct{})
	abandoned := make(chan struct{})
	go func() {
		s.lock.Lock()
		select {
		case acquired <- struct{}{}: // the caller holds the lock now
		case <-abandoned:
			s.lock.Unlock()
		}
	}()
	select {
	case <-acquired:
		return nil
	case <-ctx.Done():
		// The send above cannot complete any more, so the goroutine unlocks once it gets the lock.
		close(abandoned)
		return fmt.Errorf("%w: %w", ErrEngineBusy, ctx.Err())
	}
}
