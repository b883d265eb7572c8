package streams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestTerminateOutcomes checks that Terminate tells a stream that was stopped but whose stop could
// not be recorded (the store refused the event) from a stream that was not stopped, and that
// Explain says which.
func TestTerminateOutcomes(t *testing.T) {
	storeFull := fmt.Errorf("appending event: %w", storage.ErrDiskFull)
	tests := []struct {
		name      string
		fo        plextest.Options
		recordErr error
		stopped   bool
		recorded  bool
		explain   []string
	}{
		{name: "stopped and recorded", stopped: true, recorded: true},
		{name: "stopped, the disk is full", recordErr: storeFull, stopped: true,
			explain: []string{"was stopped", "could not be written to the event log", "data disk is full"}},
		{name: "stopped, the store is closed", recordErr: fmt.Errorf("appending event: %w", storage.ErrClosed), stopped: true,
			explain: []string{"was stopped", "could not be written to the event log", "not available"}},
		{name: "not stopped: no Plex Pass", fo: plextest.Options{NoPlexPass: true}, recordErr: storeFull,
			explain: []string{"Plex Pass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.fo, func(o *Options) {
				if tt.recordErr != nil {
					o.Record = func(storage.Event) error { return tt.recordErr }
				}
			})
			s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Heat"})
			e.poll(t)
			err := e.poller.Terminate(context.Background(), "admin:root", machineID, s.ID, "bye")
			if got := len(e.fake.Terminations()) == 1; got != tt.stopped {
				t.Fatalf("terminations %+v, want stopped=%v", e.fake.Terminations(), tt.stopped)
			}
			if Stopped(err) != tt.stopped || (err == nil) != tt.recorded || errors.Is(err, ErrNotRecorded) != (tt.stopped && !tt.recorded) {
				t.Fatalf("Terminate = %v: Stopped %v, ErrNotRecorded %v; want stopped=%v recorded=%v",
					err, Stopped(err), errors.Is(err, ErrNotRecorded), tt.stopped, tt.recorded)
			}
			if tt.recordErr != nil && tt.stopped && !errors.Is(err, tt.recordErr) {
				t.Errorf("Terminate = %v, want it to wrap the store's error", err)
			}
			msg := Explain(err)
			for _, w := range tt.explain {
				if !strings.Contains(msg, w) {
					t.Errorf("Explain = %q, want it to say %q", msg, w)
				}
			}
			if !tt.stopped && strings.Contains(msg, "was stopped") {
				t.Errorf("Explain = %q for a stream that was not stopped", msg)
			}
		})
	}
}
