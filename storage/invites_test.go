package storage

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sampleInvite returns a valid enabled invite.
func sampleInvite(id, code string, created time.Time) Invite {
	return Invite{ID: id, Code: code, Enabled: true, CreatedAt: created, Libraries: map[string][]string{"srv1": {"1"}}}
}

func TestInviteValidation(t *testing.T) {
	s := newMemStore(t)
	tests := []struct {
		name   string
		mutate func(*Invite)
	}{
		{"no id", func(i *Invite) { i.ID = "" }},
		{"slash in id", func(i *Invite) { i.ID = "a/b" }},
		{"no code", func(i *Invite) { i.Code = "" }},
		{"negative uses", func(i *Invite) { i.Uses = -1 }},
		{"negative max uses", func(i *Invite) { i.MaxUses = -1 }},
		{"unknown discord mode", func(i *Invite) { i.Discord = "maybe" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := sampleInvite("i1", "code1", base)
			tt.mutate(&inv)
			wantErr(t, s.PutInvite(inv), ErrInvalid, "PutInvite")
		})
	}
}

func TestInviteCodesAndIndexes(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutInvite(sampleInvite("i1", "Summer", base)), "PutInvite i1")
	mustNil(t, s.PutInvite(sampleInvite("i2", "winter", base.Add(time.Hour))), "PutInvite i2")

	for _, code := range []string{"summer", "SUMMER", "Summer"} {
		inv, err := s.InviteByCode(code)
		mustNil(t, err, "InviteByCode "+code)
		if inv.ID != "i1" {
			t.Fatalf("InviteByCode(%q) = %s", code, inv.ID)
		}
	}
	// Codes are unique case-insensitively.
	wantErr(t, s.PutInvite(sampleInvite("i3", "SUMMER", base)), ErrExists, "PutInvite clashing code")
	wantErr(t, s.PutInvite(sampleInvite("i2", "summer", base.Add(time.Hour))), ErrExists, "rename onto a taken code")
	// Changing the case of one's own code is fine.
	mustNil(t, s.PutInvite(sampleInvite("i1", "SUMMER", base)), "recase own code")

	// Renaming frees the old code.
	mustNil(t, s.PutInvite(sampleInvite("i1", "autumn", base)), "rename i1")
	_, err := s.InviteByCode("summer")
	wantErr(t, err, ErrNotFound, "old code after rename")
	mustNil(t, s.PutInvite(sampleInvite("i3", "summer", base.Add(2*time.Hour))), "reuse freed code")

	list, err := s.ListInvites()
	mustNil(t, err, "ListInvites")
	var got []string
	for _, inv := range list {
		got = append(got, inv.ID)
	}
	if !slices.Equal(got, []string{"i3", "i2", "i1"}) {
		t.Fatalf("ListInvites order = %v, want newest first", got)
	}

	// Changing CreatedAt moves the list entry instead of duplicating it.
	mustNil(t, s.PutInvite(sampleInvite("i1", "autumn", base.Add(3*time.Hour))), "move i1")
	if keys := keysUnder(t, s, "v1/idx/invite/created/"); len(keys) != 3 {
		t.Fatalf("created index has %d entries, want 3: %v", len(keys), keys)
	}

	mustNil(t, s.DeleteInvite("i1"), "DeleteInvite")
	_, err = s.InviteByCode("autumn")
	wantErr(t, err, ErrNotFound, "code of a deleted invite")
	wantErr(t, s.DeleteInvite("i1"), ErrNotFound, "second delete")
	if keys := keysUnder(t, s, "v1/idx/invite/"); len(keys) != 4 { // 2 codes + 2 created
		t.Fatalf("invite index keys after delete: %v", keys)
	}
	_, err = s.InviteByCode("")
	wantErr(t, err, ErrInvalid, "empty code")
}

func TestReserveUse(t *testing.T) {
	now := base
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	tests := []struct {
		name     string
		inv      Invite
		want     error
		wantUses int
	}{
		{"unlimited", Invite{Enabled: true, Uses: 100}, nil, 101},
		{"below max", Invite{Enabled: true, MaxUses: 2, Uses: 1}, nil, 2},
		{"used up", Invite{Enabled: true, MaxUses: 2, Uses: 2}, ErrInviteUsedUp, 2},
		{"disabled", Invite{Enabled: false, MaxUses: 2}, ErrInviteDisabled, 0},
		{"expired", Invite{Enabled: true, ExpiresAt: &past}, ErrInviteExpired, 0},
		{"expires exactly now", Invite{Enabled: true, ExpiresAt: &now}, ErrInviteExpired, 0},
		{"expires later", Invite{Enabled: true, ExpiresAt: &future}, nil, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore(t)
			inv := tt.inv
			inv.ID, inv.Code = fmt.Sprint("i", i), fmt.Sprint("c", i)
			mustNil(t, s.PutInvite(inv), "PutInvite")
			got, err := s.ReserveInviteUse(inv.ID, now)
			if tt.want == nil {
				mustNil(t, err, "ReserveInviteUse")
				if got.Uses != tt.wantUses {
					t.Fatalf("returned Uses = %d, want %d", got.Uses, tt.wantUses)
				}
			} else {
				wantErr(t, err, tt.want, "ReserveInviteUse")
			}
			stored, err := s.GetInvite(inv.ID)
			mustNil(t, err, "GetInvite")
			if stored.Uses != tt.wantUses {
				t.Fatalf("stored Uses = %d, want %d", stored.Uses, tt.wantUses)
			}
		})
	}
	s := newMemStore(t)
	_, err := s.ReserveInviteUse("missing", now)
	wantErr(t, err, ErrNotFound, "ReserveInviteUse missing")
}

func TestReleaseUse(t *testing.T) {
	s := newMemStore(t)
	inv := sampleInvite("i1", "c", base)
	inv.Uses = 1
	mustNil(t, s.PutInvite(inv), "PutInvite")
	got, err := s.ReleaseInviteUse("i1")
	mustNil(t, err, "ReleaseInviteUse")
	if got.Uses != 0 {
		t.Fatalf("Uses = %d", got.Uses)
	}
	got, err = s.ReleaseInviteUse("i1")
	mustNil(t, err, "ReleaseInviteUse at zero")
	if got.Uses != 0 {
		t.Fatalf("Uses went below zero: %d", got.Uses)
	}
	_, err = s.ReleaseInviteUse("nope")
	wantErr(t, err, ErrNotFound, "ReleaseInviteUse missing")
}

func TestConcurrentReserveUseSharesExactlyMaxUses(t *testing.T) {
	s := newMemStore(t)
	inv := sampleInvite("i1", "five", base)
	inv.MaxUses = 5
	mustNil(t, s.PutInvite(inv), "PutInvite")

	const workers = 40
	var ok, usedUp atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.ReserveInviteUse("i1", base)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrInviteUsedUp):
				usedUp.Add(1)
			default:
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 5 || usedUp.Load() != workers-5 {
		t.Fatalf("%d reservations succeeded and %d were refused, want 5 and %d", ok.Load(), usedUp.Load(), workers-5)
	}
	stored, _ := s.GetInvite("i1")
	if stored.Uses != 5 {
		t.Fatalf("stored Uses = %d, want 5", stored.Uses)
	}
}

func TestInviteCloneIsDeep(t *testing.T) {
	exp := base
	inv := Invite{Libraries: map[string][]string{"s": {"1"}}, ExpiresAt: &exp}
	c := inv.Clone()
	c.Libraries["s"][0] = "x"
	*c.ExpiresAt = base.Add(time.Hour)
	if inv.Libraries["s"][0] != "1" || !inv.ExpiresAt.Equal(base) {
		t.Fatal("Invite.Clone shares memory")
	}
}
