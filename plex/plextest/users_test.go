package plextest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// TestAPIUsersMatchesShares checks that every User of GET /api/users has
// exactly its shares as Server children, in Shares() order (server, then
// id), with a seed where accounts share several servers.
func TestAPIUsersMatchesShares(t *testing.T) {
	f := newFake(t, Options{Seed: SeedDemo(DemoOptions{Servers: 3, Friends: 12, HistoryDays: 1, Seed: 5,
		Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})})
	want := map[string][]string{}
	for _, s := range f.Shares() {
		if s.UserID != 0 {
			want[itoa(s.UserID)] = append(want[itoa(s.UserID)], itoa(s.ID))
		}
	}
	multi := 0
	for _, ids := range want {
		if len(ids) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("the seed has no account with shares on several servers; the test proves nothing")
	}
	users := decodeXML(t, do(t, f, req{method: "GET", path: "/api/users", token: owner}))
	seen := 0
	for _, u := range users.all("User") {
		var got []string
		for _, s := range u.all("Server") {
			got = append(got, s.attr("id"))
		}
		if !slices.Equal(got, want[u.attr("id")]) {
			t.Errorf("user %s: servers %v, want %v", u.attr("id"), got, want[u.attr("id")])
		}
		if len(got) > 0 {
			seen++
		}
	}
	if seen != len(want) {
		t.Errorf("%d users with shares listed, %d have shares", seen, len(want))
	}
}

// BenchmarkAPIUsers measures the fake alone answering GET /api/users with
// n accounts sharing three servers (the plex client's BenchmarkUsers adds
// the client's decoding and the other requests of a listing).
func BenchmarkAPIUsers(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			seed := SeedDemo(DemoOptions{Servers: 3, Friends: -1, HistoryDays: 1, Seed: 11})
			for i := range n {
				id := int64(70000000 + i)
				seed.Accounts = append(seed.Accounts, Account{ID: id, Username: fmt.Sprintf("user%04d", i)})
				for _, s := range seed.Servers {
					seed.Shares = append(seed.Shares, Share{MachineID: s.MachineID, UserID: id,
						SectionIDs: []int64{s.Libraries[0].SectionID}})
				}
			}
			f := New(Options{Seed: seed})
			r := httptest.NewRequest(http.MethodGet, "/api/users", nil)
			r.Header.Set("X-Plex-Token", "owner-token")
			for b.Loop() {
				w := httptest.NewRecorder()
				f.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				f.ResetCalls()
			}
		})
	}
}
