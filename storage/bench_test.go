package storage

import (
	"fmt"
	"testing"
	"time"
)

// benchUsers fills an in-memory store with n varied users.
func benchUsers(b *testing.B, n int) *Store {
	b.Helper()
	s := newMemStore(b)
	statuses := []string{StatusActive, StatusActive, StatusActive, StatusExpired, StatusPending, StatusScheduled}
	const chunk = 500
	for start := 0; start < n; start += chunk {
		err := s.Update(func(tx *Tx) error {
			for i := start; i < min(start+chunk, n); i++ {
				u := realisticUser(i)
				u.Status = statuses[i%len(statuses)]
				if i%5 == 0 {
					u.LastActivityAt = tp(base.Add(-time.Duration(i) * time.Minute))
				}
				if i%7 == 0 {
					u.Notes = "pays yearly"
				}
				if i%3 == 0 {
					u.Shares["other-server"] = Share{Libraries: []string{"4"}}
				}
				if err := tx.Users().Put(u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkListUsers measures ListUsers over 10,000 users (target: well under 5 ms per call).
func BenchmarkListUsers(b *testing.B) {
	s := benchUsers(b, 10_000)
	queries := []struct {
		name string
		q    UserQuery
	}{
		{"first_page", UserQuery{}},
		{"search", UserQuery{Q: "viewer0042"}},
		{"search_notes", UserQuery{Q: "YEARLY", Sort: "title"}},
		{"status_expires_desc", UserQuery{Status: StatusActive, Sort: "expires_at", Desc: true}},
		{"server_library", UserQuery{ServerID: "other-server", Library: "4", Sort: "last_activity_at"}},
		{"deep_page", UserQuery{Sort: "created_at", Page: 150, PerPage: 50}},
		{"big_page", UserQuery{PerPage: MaxPerPage}},
	}
	for _, bq := range queries {
		b.Run(bq.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.ListUsers(bq.q)
				if err != nil || p.Total == 0 {
					b.Fatalf("ListUsers: %v, total %d", err, p.Total)
				}
			}
		})
	}
}

// BenchmarkPutUserWithReadModel measures one user write (Badger commit plus the copy-on-write read
// model update) with 10,000 users in the model.
func BenchmarkPutUserWithReadModel(b *testing.B) {
	s := benchUsers(b, 10_000)
	i := 0
	for b.Loop() {
		u := realisticUser(i % 10_000)
		u.Notes = fmt.Sprint("edit ", i)
		if err := s.PutUser(u); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
