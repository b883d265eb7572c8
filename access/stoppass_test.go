package access

import (
	"errors"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestSyncStoppedMidReadRecordsNothing: a sync whose Plex reads are cut short by a stop changes
// nothing and stores no pass (no "failed" report, no pass time).
func TestSyncStoppedMidReadRecordsNothing(t *testing.T) {
	for _, route := range []string{"GET /api/users", "GET /api/home/users", "GET /api/v2/resources"} {
		for _, sk := range stopKinds {
			t.Run(route+"/"+sk.name, func(t *testing.T) {
				h := newHarness(t, plextest.Seed{})
				h.seedUsers()
				events := len(h.events(""))

				st := h.stopDuring(route, sk.deadline)
				_, err := h.svc.Sync(st.ctx, ActorSystem)
				h.reached(st)
				st.check(t, err)
				if n := len(h.events(EventPassSync)); n != 0 {
					t.Errorf("%d pass.sync events after a stopped sync", n)
				}
				last, err := h.svc.lastPasses()
				mustOK(t, err, "pass times")
				if _, ok := last[EventPassSync]; ok {
					t.Error("a stopped sync was noted as a finished pass")
				}
				if n := len(h.events("")); n != events {
					t.Errorf("%d events after the stopped sync, %d before", n, events)
				}
				if h.svc.outageNoted() {
					t.Error("a stop was noted as a plex.tv outage")
				}
			})
		}
	}
}

// TestHistoryPassStoppedMidReadRecordsNothing: a history pass whose read is cut short by a stop
// records no failure, moves no watermark and stores no pass.
func TestHistoryPassStoppedMidReadRecordsNothing(t *testing.T) {
	for _, sk := range stopKinds {
		t.Run(sk.name, func(t *testing.T) {
			h := newHarness(t, plextest.Seed{})
			h.seedUsers()
			st := h.stopDuring("GET /status/sessions/history/all", sk.deadline)
			_, err := h.svc.HistoryPass(st.ctx)
			h.reached(st)
			st.check(t, err)
			if n := len(h.events(EventPassHistory)); n != 0 {
				t.Errorf("%d pass.history events after a stopped pass", n)
			}
			var marks map[string]time.Time
			if err := h.store.GetSetting(watermarkKey, &marks); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("watermarks after a stopped pass = %v (%v), want none stored", marks, err)
			}
			last, err := h.svc.lastPasses()
			mustOK(t, err, "pass times")
			if _, ok := last[EventPassHistory]; ok {
				t.Error("a stopped history pass was noted as a finished pass")
			}
		})
	}
}

// TestStoppedPassExplainsItself: the report a stopped pass returns (not stored) says it was stopped,
// not that Plex could not be reached.
func TestStoppedPassExplainsItself(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	st := h.stopDuring("GET /api/users", false)
	rep, err := h.svc.Sync(st.ctx, ActorSystem)
	h.reached(st)
	st.check(t, err)
	if !contains(rep.Error, "Stopped before Plex answered") || contains(rep.Error, "could not be reached") {
		t.Errorf("report error = %q", rep.Error)
	}
}
