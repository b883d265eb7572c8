package storage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUserValidation(t *testing.T) {
	s := newMemStore(t)
	tests := []struct {
		name   string
		mutate func(*User)
	}{
		{"zero id", func(u *User) { u.ID = 0 }},
		{"empty kind", func(u *User) { u.Kind = "" }},
		{"unknown kind", func(u *User) { u.Kind = "stranger" }},
		{"unknown status", func(u *User) { u.Status = "banned" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := sampleUser(1, "alice")
			tt.mutate(&u)
			wantErr(t, s.PutUser(u), ErrInvalid, "PutUser")
		})
	}
	if n := len(keysUnder(t, s, "v1/")); n != 0 {
		t.Fatalf("invalid puts left %d keys", n)
	}
}

func TestUserCRUDAndLookups(t *testing.T) {
	s := newMemStore(t)
	alice := sampleUser(10, "Alice")
	alice.Email = "Alice@Example.COM"
	mustNil(t, s.PutUser(alice), "PutUser")

	got, err := s.GetUser(10)
	mustNil(t, err, "GetUser")
	if got.Username != "Alice" || got.Shares["srv1"].Libraries[1] != "2" {
		t.Fatalf("GetUser = %+v", got)
	}
	for _, name := range []string{"alice", "ALICE", "Alice"} {
		u, err := s.UserByUsername(name)
		mustNil(t, err, "UserByUsername "+name)
		if u.ID != 10 {
			t.Fatalf("UserByUsername(%q) = %d", name, u.ID)
		}
	}
	u, err := s.UserByEmail(" alice@example.com")
	mustNil(t, err, "UserByEmail")
	if u.ID != 10 {
		t.Fatalf("UserByEmail = %d", u.ID)
	}
	_, err = s.UserByUsername("bob")
	wantErr(t, err, ErrNotFound, "UserByUsername of a stranger")
	_, err = s.UserByUsername("")
	wantErr(t, err, ErrInvalid, "UserByUsername empty")
	_, err = s.GetUser(11)
	wantErr(t, err, ErrNotFound, "GetUser missing")
	wantErr(t, s.DeleteUser(11), ErrNotFound, "DeleteUser missing")

	// A user whose name extends alice's behind a slash must not be found as "alice".
	tricky := sampleUser(12, "alice/x")
	tricky.Email = ""
	mustNil(t, s.PutUser(tricky), "PutUser tricky")
	u, err = s.UserByUsername("alice")
	mustNil(t, err, "UserByUsername after tricky")
	if u.ID != 10 {
		t.Fatalf("UserByUsername(alice) = %d, want 10", u.ID)
	}
	u, err = s.UserByUsername("alice/x")
	mustNil(t, err, "UserByUsername alice/x")
	if u.ID != 12 {
		t.Fatalf("UserByUsername(alice/x) = %d, want 12", u.ID)
	}

	mustNil(t, s.DeleteUser(10), "DeleteUser")
	_, err = s.UserByUsername("alice")
	wantErr(t, err, ErrNotFound, "UserByUsername after delete")
	if keys := keysUnder(t, s, "v1/idx/user/email/"); len(keys) != 0 {
		t.Fatalf("email index left after delete: %v", keys)
	}
}

func TestUserLookupPrefersRealAccountOverPending(t *testing.T) {
	s := newMemStore(t)
	pendingID := PendingUserID("carol@example.com")
	pending := User{ID: pendingID, Email: "carol@example.com", Kind: KindPending, Status: StatusPending}
	real := User{ID: 42, Username: "carol", Email: "Carol@example.com", Kind: KindFriend, Status: StatusActive}
	mustNil(t, s.PutUser(pending), "PutUser pending")
	u, err := s.UserByEmail("carol@example.com")
	mustNil(t, err, "UserByEmail")
	if u.ID != pendingID {
		t.Fatalf("UserByEmail = %d, want the pending %d", u.ID, pendingID)
	}
	mustNil(t, s.PutUser(real), "PutUser real")
	u, err = s.UserByEmail("carol@example.com")
	mustNil(t, err, "UserByEmail")
	if u.ID != 42 {
		t.Fatalf("UserByEmail = %d, want the real account 42", u.ID)
	}
}

// userIndexSnapshot lists every user index key without the layout prefix.
func userIndexSnapshot(t *testing.T, s *Store) []string {
	keys := keysUnder(t, s, "v1/idx/user/")
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, "v1/idx/user/")
	}
	return keys
}

func TestUserIndexConsistencyAfterUpdates(t *testing.T) {
	s := newMemStore(t)
	id := intKey(7)
	start, exp := base.Add(24*time.Hour), base.Add(48*time.Hour)
	steps := []struct {
		name string
		user User
		want []string
	}{
		{
			"scheduled with a window",
			User{ID: 7, Username: "Dave", Email: "d@x.io", Kind: KindFriend, Status: StatusScheduled, StartsAt: &start, ExpiresAt: &exp},
			[]string{
				"email/d@x.io/" + id,
				"expires/" + timeKey(exp) + "/" + id,
				"starts/" + timeKey(start) + "/" + id,
				"status/scheduled/" + id,
				"username/dave/" + id,
			},
		},
		{
			"active after the start: starts index dropped, rename moves the username index",
			User{ID: 7, Username: "David", Email: "d@x.io", Kind: KindFriend, Status: StatusActive, StartsAt: &start, ExpiresAt: &exp},
			[]string{
				"email/d@x.io/" + id,
				"expires/" + timeKey(exp) + "/" + id,
				"status/active/" + id,
				"username/david/" + id,
			},
		},
		{
			"expired: expiry index dropped, email cleared",
			User{ID: 7, Username: "David", Kind: KindFriend, Status: StatusExpired, StartsAt: &start, ExpiresAt: &exp},
			[]string{
				"status/expired/" + id,
				"username/david/" + id,
			},
		},
	}
	for _, st := range steps {
		mustNil(t, s.PutUser(st.user), st.name)
		got := userIndexSnapshot(t, s)
		slices.Sort(st.want)
		if !slices.Equal(got, st.want) {
			t.Fatalf("%s: index keys\n got %v\nwant %v", st.name, got, st.want)
		}
	}
	mustNil(t, s.DeleteUser(7), "DeleteUser")
	if got := userIndexSnapshot(t, s); len(got) != 0 {
		t.Fatalf("index keys after delete: %v", got)
	}
}

func TestDueStartsAndExpiries(t *testing.T) {
	s := newMemStore(t)
	at := func(h int) *time.Time { return tp(base.Add(time.Duration(h) * time.Hour)) }
	users := []User{
		{ID: 1, Kind: KindFriend, Status: StatusScheduled, StartsAt: at(3)},
		{ID: 2, Kind: KindFriend, Status: StatusScheduled, StartsAt: at(1)},
		{ID: 3, Kind: KindFriend, Status: StatusScheduled, StartsAt: at(5)},
		{ID: 4, Kind: KindFriend, Status: StatusActive, StartsAt: at(0)}, // already started: not due
		{ID: -5, Kind: KindPending, Status: StatusPending, ExpiresAt: at(2)},
		{ID: 6, Kind: KindFriend, Status: StatusActive, ExpiresAt: at(1)},
		{ID: 7, Kind: KindFriend, Status: StatusActive, ExpiresAt: at(10)},
		{ID: 8, Kind: KindFriend, Status: StatusExpired, ExpiresAt: at(0)}, // done: not due
		{ID: 9, Kind: KindFriend, Status: StatusRemoved, ExpiresAt: at(0)}, // done: not due
		{ID: 10, Kind: KindFriend, Status: StatusActive, ExpiresAt: tp(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	for _, u := range users {
		mustNil(t, s.PutUser(u), "PutUser")
	}
	tests := []struct {
		name     string
		until    time.Time
		starts   []int64
		expiries []int64
	}{
		{"before everything", base.Add(-time.Hour), nil, []int64{10}},
		{"exactly at the first start (inclusive)", base.Add(time.Hour), []int64{2}, []int64{10, 6}},
		{"a nanosecond before the first start", base.Add(time.Hour - time.Nanosecond), nil, []int64{10}},
		{"midway", base.Add(3 * time.Hour), []int64{2, 1}, []int64{10, 6, -5}},
		{"far future", base.Add(1000 * time.Hour), []int64{2, 1, 3}, []int64{10, 6, -5, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			starts, err := s.DueStarts(tt.until)
			mustNil(t, err, "DueStarts")
			if !slices.Equal(starts, tt.starts) {
				t.Errorf("DueStarts = %v, want %v", starts, tt.starts)
			}
			exps, err := s.DueExpiries(tt.until)
			mustNil(t, err, "DueExpiries")
			if !slices.Equal(exps, tt.expiries) {
				t.Errorf("DueExpiries = %v, want %v", exps, tt.expiries)
			}
		})
	}
	// Moving an expiry moves the index entry.
	_, err := s.UpdateUser(6, func(u *User) error { u.ExpiresAt = at(20); return nil })
	mustNil(t, err, "UpdateUser")
	exps, err := s.DueExpiries(base.Add(3 * time.Hour))
	mustNil(t, err, "DueExpiries")
	if !slices.Equal(exps, []int64{10, -5}) {
		t.Fatalf("DueExpiries after moving 6 = %v", exps)
	}
}

func TestCountByStatusTxAndReadModel(t *testing.T) {
	s := newMemStore(t)
	statuses := []string{StatusActive, StatusActive, StatusPending, StatusExpired, StatusActive}
	for i, st := range statuses {
		u := sampleUser(int64(i+1), "u")
		u.Status = st
		mustNil(t, s.PutUser(u), "PutUser")
	}
	want := map[string]int{StatusActive: 3, StatusPending: 1, StatusExpired: 1}
	var fromTx map[string]int
	mustNil(t, s.View(func(tx *Tx) error {
		var err error
		fromTx, err = tx.Users().CountByStatus()
		return err
	}), "CountByStatus")
	fromModel, total, err := s.CountUsers()
	mustNil(t, err, "CountUsers")
	for st, n := range want {
		if fromTx[st] != n || fromModel[st] != n {
			t.Errorf("%s: tx %d, model %d, want %d", st, fromTx[st], fromModel[st], n)
		}
	}
	if total != 5 || len(fromTx) != 3 || len(fromModel) != 3 {
		t.Errorf("total %d, tx %v, model %v", total, fromTx, fromModel)
	}
}

func TestUpdateUserAndAbortedTxnLeaveReadModelConsistent(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutUser(sampleUser(1, "erin")), "PutUser")
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		u, err := tx.Users().Get(1)
		if err != nil {
			return err
		}
		u.Notes = "changed"
		if err := tx.Users().Put(u); err != nil {
			return err
		}
		if err := tx.Users().Put(sampleUser(2, "frank")); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom, "aborted Update")
	page, err := s.ListUsers(UserQuery{})
	mustNil(t, err, "ListUsers")
	if page.Total != 1 || page.Users[0].Notes != "" {
		t.Fatalf("read model shows an aborted transaction: %+v", page)
	}

	u, err := s.UpdateUser(1, func(u *User) error { u.Notes = "VIP"; return nil })
	mustNil(t, err, "UpdateUser")
	if u.Notes != "VIP" {
		t.Fatalf("UpdateUser returned %+v", u)
	}
	cached, err := s.CachedUser(1)
	mustNil(t, err, "CachedUser")
	if cached.Notes != "VIP" {
		t.Fatalf("read model not updated: %+v", cached)
	}
	_, err = s.UpdateUser(1, func(u *User) error { u.ID = 99; return nil })
	wantErr(t, err, ErrInvalid, "UpdateUser changing the id")
	_, err = s.UpdateUser(1, func(*User) error { return boom })
	wantErr(t, err, boom, "UpdateUser callback error")
	_, err = s.UpdateUser(404, func(*User) error { return nil })
	wantErr(t, err, ErrNotFound, "UpdateUser missing")
}

func TestReadModelCopiesAreIndependent(t *testing.T) {
	s := newMemStore(t)
	u := sampleUser(1, "gina")
	mustNil(t, s.PutUser(u), "PutUser")
	// Changing the caller's value after Put must not reach the model.
	u.Shares["srv1"].Libraries[0] = "hacked"
	page, err := s.ListUsers(UserQuery{})
	mustNil(t, err, "ListUsers")
	if page.Users[0].Shares["srv1"].Libraries[0] != "1" {
		t.Fatal("read model shares memory with the value given to Put")
	}
	// Changing a returned value must not reach the model either.
	page.Users[0].Shares["srv1"].Libraries[0] = "hacked"
	page.Users[0].Username = "x"
	again, _ := s.ListUsers(UserQuery{})
	if again.Users[0].Shares["srv1"].Libraries[0] != "1" || again.Users[0].Username != "gina" {
		t.Fatal("read model shares memory with ListUsers results")
	}
}
