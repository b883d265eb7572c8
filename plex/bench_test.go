package plex_test

import (
	"fmt"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// usersSeed is a demo seed with three servers and n extra accounts, each
// sharing two libraries of every server.
func usersSeed(n int) plextest.Seed {
	seed := plextest.SeedDemo(plextest.DemoOptions{Servers: 3, Friends: -1, HistoryDays: 1, Seed: 11})
	for i := range n {
		id := int64(70000000 + i)
		seed.Accounts = append(seed.Accounts, plextest.Account{
			ID: id, Username: fmt.Sprintf("user%04d", i), Email: fmt.Sprintf("user%04d@example.com", i),
			Title: fmt.Sprintf("user%04d", i), Token: fmt.Sprintf("user-token-%d", i),
		})
		for _, s := range seed.Servers {
			seed.Shares = append(seed.Shares, plextest.Share{MachineID: s.MachineID, UserID: id,
				SectionIDs: []int64{s.Libraries[0].SectionID, s.Libraries[1].SectionID}, AllowSync: i%2 == 0})
		}
	}
	return seed
}

// BenchmarkUsers lists users with their shares on three servers and reports
// the HTTP requests per listing: it must not grow with the number of users.
func BenchmarkUsers(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			e := newEnv(b, plextest.Options{Seed: usersSeed(n)})
			e.fake.ResetCalls()
			requests, listings := 0, 0
			for b.Loop() {
				users, err := e.client.Users(ctx(b), e.token)
				if err != nil {
					b.Fatal(err)
				}
				if len(users) < n {
					b.Fatalf("listed %d users, seeded %d", len(users), n)
				}
				requests += len(e.fake.Calls())
				e.fake.ResetCalls()
				listings++
			}
			perOp := float64(requests) / float64(listings)
			if perOp != 5 {
				b.Fatalf("%.1f requests per listing, want 5 (users, pending, 3 servers)", perOp)
			}
			b.ReportMetric(perOp, "requests/op")
		})
	}
}
