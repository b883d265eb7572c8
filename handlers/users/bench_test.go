package users

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// benchUsers is the size of the user base of the benchmarks.
const benchUsers = 10_000

// p95Budget is the most one users page may take at the 95th percentile (server time).
const p95Budget = 25 * time.Millisecond

// fillUsers stores n users with varied statuses, shares, windows, notes and activity.
func fillUsers(b testing.TB, st *storage.Store, n int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	statusPool := []string{storage.StatusActive, storage.StatusActive, storage.StatusActive, storage.StatusPending,
		storage.StatusScheduled, storage.StatusExpired, storage.StatusRemoved}
	const chunk = 500
	for start := 0; start < n; start += chunk {
		err := st.Update(func(tx *storage.Tx) error {
			for i := start; i < min(start+chunk, n); i++ {
				u := storage.User{ID: int64(100000 + i), Username: fmt.Sprintf("user%05d", i), Email: fmt.Sprintf("user%05d@example.com", i),
					Title: fmt.Sprintf("User %d", i), Kind: storage.KindFriend, Status: statusPool[rng.IntN(len(statusPool))],
					CreatedAt: t0.Add(-time.Duration(rng.IntN(1000)) * time.Hour), UpdatedAt: t0}
				libs := []string{"4"}
				if rng.IntN(2) == 0 {
					libs = append(libs, "8")
				}
				if rng.IntN(4) == 0 {
					libs = append([]string{"1"}, libs...)
				}
				u.Shares = map[string]storage.Share{srvID: {ShareID: int64(500000 + i), Libraries: libs, AllowDownloads: rng.IntN(2) == 0}}
				if rng.IntN(3) == 0 {
					exp := t0.Add(time.Duration(rng.IntN(2000)) * time.Hour)
					u.ExpiresAt = &exp
				}
				if rng.IntN(2) == 0 {
					seen := t0.Add(-time.Duration(rng.IntN(2000)) * time.Hour)
					u.LastActivityAt = &seen
				}
				if rng.IntN(10) == 0 {
					u.Notes = "pays yearly; family of " + fmt.Sprint(rng.IntN(5)+1)
				}
				if err := tx.Users().Put(u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("storing users: %v", err)
		}
	}
}

// benchQueries are the list requests measured: pages deep and shallow, every filter, every sort,
// searches, and the htmx fragment.
func benchQueries(rng *rand.Rand) string {
	pages := benchUsers / storage.DefaultPerPage
	switch rng.IntN(10) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("?page=%d", rng.IntN(pages)+1)
	case 2:
		return fmt.Sprintf("?status=active&sort=-expires_at&page=%d", rng.IntN(pages/3)+1)
	case 3:
		return fmt.Sprintf("?q=user%d", rng.IntN(1000))
	case 4:
		return "?q=yearly&sort=last_activity_at"
	case 5:
		return fmt.Sprintf("?library=%s/8&sort=-last_activity_at&page=%d", srvID, rng.IntN(50)+1)
	case 6:
		return fmt.Sprintf("?kind=friend&per_page=100&page=%d", rng.IntN(benchUsers/100)+1)
	case 7:
		return fmt.Sprintf("?server=%s&library=1&sort=created_at&page=%d", srvID, rng.IntN(20)+1)
	case 8:
		return fmt.Sprintf("?status=expired&sort=-title&page=%d", rng.IntN(5)+1)
	}
	return "?q=nobody-matches-this"
}

// p95 returns the 95th percentile of durations.
func p95(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}

// benchList measures list requests against 10,000 users and reports the p95 server time.
func benchList(b *testing.B, api bool) {
	e := newEnv(b, envOptions{noSync: true})
	fillUsers(b, e.store, benchUsers)
	if _, total, _ := e.store.CountUsers(); total != benchUsers {
		b.Fatalf("stored %d users", total)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		q := benchQueries(rng)
		start := time.Now()
		var code int
		switch {
		case api:
			code = e.srv.API("GET", "/users"+q, web.RoleAuditor, "").Code
		case rng.IntN(2) == 0:
			code = e.srv.Do("GET", "/users"+q, web.RoleAuditor, nil, "HX-Request", "true", "HX-Target", resultsTarget).Code
		default:
			code = e.srv.Do("GET", "/users"+q, web.RoleAuditor, nil).Code
		}
		times = append(times, time.Since(start))
		if code != http.StatusOK {
			b.Fatalf("GET /users%s: %d", q, code)
		}
	}
	b.StopTimer()
	p := p95(times)
	b.ReportMetric(float64(p.Microseconds())/1000, "p95-ms")
	if len(times) >= 100 && p > p95Budget {
		b.Errorf("p95 %v over %d requests exceeds %v", p, len(times), p95Budget)
	}
}

// BenchmarkUsersPage10k is the users page (full pages and htmx fragments) with 10,000 users.
func BenchmarkUsersPage10k(b *testing.B) { benchList(b, false) }

// BenchmarkUsersAPI10k is GET /api/v1/users with 10,000 users.
func BenchmarkUsersAPI10k(b *testing.B) { benchList(b, true) }
