package storage

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// listFixture stores a small, varied set of users.
func listFixture(t *testing.T) *Store {
	s := newMemStore(t)
	at := func(h int) *time.Time { return tp(base.Add(time.Duration(h) * time.Hour)) }
	users := []User{
		{ID: 1, Username: "alice", Email: "alice@example.com", Title: "Alice A", Kind: KindFriend, Status: StatusActive,
			ExpiresAt: at(30), LastActivityAt: at(-1), CreatedAt: base.Add(1 * time.Hour),
			Shares: map[string]Share{"s1": {Libraries: []string{"1", "2"}}, "s2": {AllLibraries: true}}},
		{ID: 2, Username: "bob", Email: "bob@corp.io", Title: "Zed Bob", Kind: KindFriend, Status: StatusExpired,
			ExpiresAt: at(-5), CreatedAt: base.Add(2 * time.Hour), Notes: "paid by PayPal",
			Shares: map[string]Share{"s1": {Libraries: []string{"3"}}}},
		{ID: 3, Username: "carol", Email: "carol@example.com", Title: "Carol", Kind: KindHome, Status: StatusActive,
			LastActivityAt: at(-10), CreatedAt: base.Add(3 * time.Hour),
			Shares: map[string]Share{"s2": {Libraries: []string{"9"}}}},
		{ID: 4, Username: "", Email: "", Title: "Kid", Kind: KindManaged, Status: StatusActive,
			ExpiresAt: at(10), CreatedAt: base.Add(4 * time.Hour)},
		{ID: -5, Email: "dave@example.com", Kind: KindPending, Status: StatusPending, CreatedAt: base.Add(5 * time.Hour),
			Shares: map[string]Share{"s1": {Libraries: []string{"1"}, Pending: true}}},
		{ID: 6, Username: "Erin", Email: "erin@example.com", Title: "erin", Kind: KindFriend, Status: StatusScheduled,
			StartsAt: at(50), LastActivityAt: at(-3), CreatedAt: base.Add(6 * time.Hour)},
	}
	for _, u := range users {
		mustNil(t, s.PutUser(u), "PutUser")
	}
	return s
}

// ids returns the ids of a page.
func ids(p UserPage) []int64 {
	out := make([]int64, len(p.Users))
	for i, u := range p.Users {
		out[i] = u.ID
	}
	return out
}

func TestListUsersFiltersSortsPages(t *testing.T) {
	s := listFixture(t)
	tests := []struct {
		name  string
		q     UserQuery
		want  []int64
		total int
	}{
		{"all by username (else title, else email)", UserQuery{}, []int64{1, 2, 3, -5, 6, 4}, 6},
		{"by username desc", UserQuery{Desc: true}, []int64{4, 6, -5, 3, 2, 1}, 6},
		{"q matches email domain", UserQuery{Q: "EXAMPLE.com"}, []int64{1, 3, -5, 6}, 4},
		{"q matches notes", UserQuery{Q: "paypal"}, []int64{2}, 1},
		{"q matches title", UserQuery{Q: "kid"}, []int64{4}, 1},
		{"q with spaces trimmed", UserQuery{Q: "  zed "}, []int64{2}, 1},
		{"q matches nothing", UserQuery{Q: "nobody"}, []int64{}, 0},
		{"status", UserQuery{Status: StatusActive}, []int64{1, 3, 4}, 3},
		{"kind", UserQuery{Kind: KindPending}, []int64{-5}, 1},
		{"server", UserQuery{ServerID: "s1"}, []int64{1, 2, -5}, 3},
		{"server and library", UserQuery{ServerID: "s1", Library: "1"}, []int64{1, -5}, 2},
		{"all-libraries share matches any library", UserQuery{ServerID: "s2", Library: "77"}, []int64{1}, 1},
		{"server and status", UserQuery{ServerID: "s1", Status: StatusExpired}, []int64{2}, 1},
		{"sort title", UserQuery{Sort: "title"}, []int64{1, 3, -5, 6, 4, 2}, 6},
		{"sort status", UserQuery{Sort: "status"}, []int64{1, 3, 4, 2, -5, 6}, 6},
		{"sort expires_at: no expiry last", UserQuery{Sort: "expires_at"}, []int64{2, 4, 1, 3, -5, 6}, 6},
		{"sort expires_at desc", UserQuery{Sort: "expires_at", Desc: true}, []int64{6, -5, 3, 1, 4, 2}, 6},
		{"sort last_activity_at: never first", UserQuery{Sort: "last_activity_at"}, []int64{2, -5, 4, 3, 6, 1}, 6},
		{"sort created_at desc", UserQuery{Sort: "created_at", Desc: true}, []int64{6, -5, 4, 3, 2, 1}, 6},
		{"page 1 of 2", UserQuery{PerPage: 4}, []int64{1, 2, 3, -5}, 6},
		{"page 2 of 2", UserQuery{PerPage: 4, Page: 2}, []int64{6, 4}, 6},
		{"page past the end", UserQuery{PerPage: 4, Page: 3}, []int64{}, 6},
		{"huge page number", UserQuery{PerPage: 500, Page: 1 << 60}, []int64{}, 6},
		{"page 0 means 1", UserQuery{PerPage: 2, Page: 0}, []int64{1, 2}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.ListUsers(tt.q)
			mustNil(t, err, "ListUsers")
			if got := ids(p); !slices.Equal(got, tt.want) || p.Total != tt.total {
				t.Fatalf("ListUsers(%+v) = %v total %d, want %v total %d", tt.q, got, p.Total, tt.want, tt.total)
			}
		})
	}
}

func TestListUsersRejectsBadQueries(t *testing.T) {
	s := listFixture(t)
	for _, q := range []UserQuery{
		{Sort: "password"},
		{Status: "banned"},
		{Kind: "robot"},
		{Library: "1"},
	} {
		_, err := s.ListUsers(q)
		wantErr(t, err, ErrInvalid, fmt.Sprintf("ListUsers(%+v)", q))
	}
	p, err := s.ListUsers(UserQuery{PerPage: 100000})
	mustNil(t, err, "ListUsers")
	if p.PerPage != MaxPerPage || p.Page != 1 {
		t.Fatalf("paging not capped: %+v", p)
	}
	p, err = s.ListUsers(UserQuery{PerPage: -3})
	mustNil(t, err, "ListUsers")
	if p.PerPage != DefaultPerPage {
		t.Fatalf("default per page = %d", p.PerPage)
	}
}

// bruteList computes ListUsers the slow way from Badger, as the reference for the read model.
func bruteList(t *testing.T, s *Store, q UserQuery) UserPage {
	var all []User
	mustNil(t, s.View(func(tx *Tx) error {
		var err error
		all, err = tx.Users().List()
		return err
	}), "Users.List")
	sort, _ := userSortByName(q.Sort)
	var entries []*userEntry
	needle := strings.ToLower(strings.TrimSpace(q.Q))
	for _, u := range all {
		e := newUserEntry(u)
		if e.matches(q, needle) {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b *userEntry) int {
		c := compareUsers(sort, a, b)
		if q.Desc {
			return -c
		}
		return c
	})
	per := cmp.Or(q.PerPage, DefaultPerPage)
	page := max(q.Page, 1)
	out := UserPage{Total: len(entries), Page: page, PerPage: per}
	for i := (page - 1) * per; i < len(entries) && i < page*per; i++ {
		out.Users = append(out.Users, entries[i].u)
	}
	return out
}

func TestReadModelMatchesBadgerUnderRandomChanges(t *testing.T) {
	s := newMemStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []string{StatusActive, StatusPending, StatusScheduled, StatusExpired, StatusRemoved}
	randomUser := func(id int64) User {
		u := sampleUser(id, fmt.Sprintf("user%03d", rng.IntN(60)))
		u.Status = statuses[rng.IntN(len(statuses))]
		u.Title = fmt.Sprintf("T%d", rng.IntN(10))
		if rng.IntN(2) == 0 {
			u.ExpiresAt = tp(base.Add(time.Duration(rng.IntN(100)) * time.Hour))
		}
		if rng.IntN(2) == 0 {
			u.LastActivityAt = tp(base.Add(-time.Duration(rng.IntN(100)) * time.Hour))
		}
		u.CreatedAt = base.Add(time.Duration(rng.IntN(5)) * time.Hour)
		if rng.IntN(3) == 0 {
			u.Shares = map[string]Share{"srv2": {Libraries: []string{"7"}}}
		}
		return u
	}
	check := func(round int) {
		for _, q := range []UserQuery{
			{}, {Sort: "title", Desc: true}, {Sort: "expires_at"}, {Sort: "last_activity_at", Desc: true},
			{Sort: "status", Status: StatusActive}, {Q: "user01", Sort: "created_at"}, {ServerID: "srv2", Library: "7"},
			{PerPage: 7, Page: 3, Sort: "username", Desc: true},
		} {
			got, err := s.ListUsers(q)
			mustNil(t, err, "ListUsers")
			want := bruteList(t, s, q)
			if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total {
				t.Fatalf("round %d, query %+v:\n model %v (%d)\n badger %v (%d)", round, q, ids(got), got.Total, ids(want), want.Total)
			}
		}
	}
	for round := range 60 {
		// Mix small transactions (patched snapshots) and big ones (rebuilt snapshots).
		n := 1 + rng.IntN(5)
		if round%10 == 9 {
			n = incrementalLimit + 20
		}
		mustNil(t, s.Update(func(tx *Tx) error {
			for range n {
				id := int64(rng.IntN(300) + 1)
				if rng.IntN(4) == 0 {
					if err := tx.Users().Delete(id); err != nil && !errorsIsNotFound(err) {
						return err
					}
					continue
				}
				if err := tx.Users().Put(randomUser(id)); err != nil {
					return err
				}
			}
			return nil
		}), "random update")
		check(round)
	}
}

func TestListUsersConcurrentWithWrites(t *testing.T) {
	s := newMemStore(t)
	for i := range 200 {
		mustNil(t, s.PutUser(sampleUser(int64(i+1), fmt.Sprintf("u%03d", i))), "PutUser")
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p, err := s.ListUsers(UserQuery{Sort: "status", PerPage: 20})
				if err != nil {
					t.Error(err)
					return
				}
				if p.Total < 200 || p.Total > 300 {
					t.Errorf("total %d out of range", p.Total)
					return
				}
			}
		}()
	}
	for i := range 100 {
		u := sampleUser(int64(1000+i), fmt.Sprintf("new%03d", i))
		if err := s.PutUser(u); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	p, _ := s.ListUsers(UserQuery{})
	if p.Total != 300 {
		t.Fatalf("total %d, want 300", p.Total)
	}
}
