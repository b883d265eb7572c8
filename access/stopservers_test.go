package access

import (
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// TestServersRefreshStoppedMidReadKeepsTheServer: a server refresh cut short by a stop marks no
// server offline and records no event.
func TestServersRefreshStoppedMidReadKeepsTheServer(t *testing.T) {
	for _, route := range []string{"GET /identity", "GET /{$}", "GET /library/sections", "GET /api/servers/{machineId}"} {
		for _, sk := range stopKinds {
			t.Run(route+"/"+sk.name, func(t *testing.T) {
				h := newHarness(t, plextest.Seed{})
				before, err := h.store.GetServer(srvID)
				mustOK(t, err, "server")
				st := h.stopDuring(route, sk.deadline)
				_, err = h.svc.Servers(st.ctx)
				h.reached(st)
				st.check(t, err)
				srv, err := h.store.GetServer(srvID)
				mustOK(t, err, "server")
				if !srv.Online || !srv.CheckedAt.Equal(before.CheckedAt) {
					t.Errorf("server after a stopped refresh = online %v, checked %s; want it as it was", srv.Online, srv.CheckedAt)
				}
				for _, typ := range []string{EventServerOffline, EventServerUpdated} {
					if n := len(h.events(typ)); n != 0 {
						t.Errorf("%d %s events after a stopped refresh", n, typ)
					}
				}
			})
		}
	}
}
