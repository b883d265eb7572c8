package plexmanager

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

// worker is one background loop of the app. run returns when ctx is cancelled.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// workerList returns the loops Start launches.
func (a *App) workerList() []worker {
	ws := []worker{
		{name: "store_gc", run: func(ctx context.Context) error { return a.store.store.RunGC(ctx, 10*time.Minute) }},
	}
	ws = append(ws, a.accessWorkers()...)
	ws = append(ws, a.refreshWorker())
	ws = append(ws, a.inviteWorkers()...)
	ws = append(ws, a.observabilityWorkers()...)
	return append(ws, a.extraWorkers...)
}

// startWorker runs w in a goroutine that recovers from panics (a panic in a background goroutine would
// otherwise take the whole server down) and restarts the loop after a pause, until ctx ends.
func (a *App) startWorker(ctx context.Context, w worker) {
	a.workers.Add(1)
	a.workersMu.Lock()
	a.running++
	a.workersMu.Unlock()
	go func() {
		defer func() {
			a.workersMu.Lock()
			a.running--
			a.workersMu.Unlock()
			a.workers.Done()
		}()
		for {
			err := runRecovered(ctx, w)
			if ctx.Err() != nil {
				return
			}
			a.logger.Error("plex_manager worker ended unexpectedly; restarting",
				zap.String("worker", w.name), zap.Error(err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
	}()
}

// runRecovered runs one worker loop and turns a panic into an error carrying the stack.
func runRecovered(ctx context.Context, w worker) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in worker %s: %v\n%s", w.name, p, debug.Stack())
		}
	}()
	return w.run(ctx)
}

// runningWorkers reports how many worker goroutines are alive.
func (a *App) runningWorkers() int {
	a.workersMu.Lock()
	defer a.workersMu.Unlock()
	return a.running
}
