package access

import (
	"fmt"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// BenchmarkEnforce10kUsers100Due runs one enforcement pass over 10,000 users of whom 100 have a change
// due (50 scheduled starts, 50 expiries). Users are seeded into the store directly and their shares into
// the fake through its API. It checks — and reports — that the pass made exactly 100 share changes
// and no list calls (the store's due indexes, not a listing, find the work), and reports the CPU time
// of the pass.
func BenchmarkEnforce10kUsers100Due(b *testing.B) {
	const users, starts, expiries = 10000, 50, 50
	for range b.N { // not b.Loop: with this body it crashes the go1.26.8 compiler (internal compiler error in iter)
		b.StopTimer()
		seed := plextest.Seed{Owner: plextest.SeedMinimal().Owner, Servers: plextest.SeedMinimal().Servers}
		for i := range users {
			id := int64(80000000 + i)
			seed.Accounts = append(seed.Accounts, plextest.Account{ID: id, Username: fmt.Sprintf("user%05d", i),
				Email: fmt.Sprintf("user%05d@example.com", i)})
			if i >= starts {
				seed.Shares = append(seed.Shares, plextest.Share{ID: int64(1000000 + i), MachineID: srvID, UserID: id,
					SectionIDs: []int64{plextest.SectionMovies, plextest.SectionTVShows}})
			}
		}
		h := newHarness(b, seed)
		_, err := h.svc.PutSettings("bench", Settings{RemovalCap: expiries})
		mustOK(b, err, "settings")
		due := t0.Add(time.Hour)
		var batch []storage.User
		flush := func() {
			mustOK(b, h.store.Update(func(tx *storage.Tx) error {
				for _, u := range batch {
					if err := tx.Users().Put(u); err != nil {
						return err
					}
				}
				return nil
			}), "seeding users")
			batch = batch[:0]
		}
		for i := range users {
			acc := seed.Accounts[i]
			u := storage.User{ID: acc.ID, Username: acc.Username, Email: acc.Email, Kind: storage.KindFriend,
				Status: storage.StatusActive, CreatedAt: t0.Add(-100 * day)}
			switch {
			case i < starts:
				u.Status, u.StartsAt = storage.StatusScheduled, &due
				u.Shares = map[string]storage.Share{srvID: {Libraries: []string{"4"}}}
			default:
				u.Shares = map[string]storage.Share{srvID: {ShareID: int64(1000000 + i), Libraries: []string{"4", "8"}}}
				if i < starts+expiries {
					u.ExpiresAt = &due
				} else if i%3 == 0 {
					later := due.Add(time.Duration(i) * time.Hour)
					u.ExpiresAt = &later // not due yet: in the index, not touched
				}
			}
			batch = append(batch, u)
			if len(batch) == 200 {
				flush()
			}
		}
		flush()
		if n := len(h.fake.SharesFor(srvID)); n != users-starts {
			b.Fatalf("fake has %d shares, want %d", n, users-starts)
		}
		h.clock.Set(due)
		h.fake.ResetCalls()
		b.StartTimer()

		cpu0 := cpuTime()
		start := time.Now()
		rep, err := h.svc.Enforce(h.ctx, ActorSystem)
		wall := time.Since(start)
		cpu := cpuTime() - cpu0

		b.StopTimer()
		mustOK(b, err, "Enforce")
		changes, lists, other := 0, 0, 0
		for _, c := range h.fake.Calls() {
			switch {
			case c.Route == "POST /api/v2/shared_servers" || c.Route == "DELETE /api/v2/shared_servers/{id}" ||
				c.Route == "POST /api/v2/shared_servers/{id}":
				changes++
			case strings.HasPrefix(c.Route, "GET "):
				lists++
			default:
				other++
			}
		}
		if changes != starts+expiries || lists != 0 || other != 0 {
			b.Fatalf("pass made %d share changes, %d list calls and %d other calls; want %d, 0, 0 (report: %d changes)",
				changes, lists, other, starts+expiries, len(rep.Changes))
		}
		for _, c := range rep.Changes {
			if c.Result != ResultDone {
				b.Fatalf("change %+v", c)
			}
		}
		b.ReportMetric(float64(changes), "share-changes/op")
		b.ReportMetric(float64(lists), "list-calls/op")
		b.ReportMetric(float64(cpu.Milliseconds()), "cpu-ms/op")
		b.ReportMetric(float64(wall.Milliseconds()), "wall-ms/op")
		b.StartTimer()
	}
}

// cpuTime is the process's CPU time so far (the fake serves from the same process, so its share of the
// work is included).
func cpuTime() time.Duration {
	sample := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(sample[0].Value.Float64() * float64(time.Second))
}
