package storage

import (
	"testing"
	"time"
)

func TestRedemptionValidation(t *testing.T) {
	s := newMemStore(t)
	good := Redemption{ID: "r1", InviteID: "i1", At: base, Outcome: OutcomeJoined}
	tests := []struct {
		name   string
		mutate func(*Redemption)
	}{
		{"no invite", func(r *Redemption) { r.InviteID = "" }},
		{"slash in invite", func(r *Redemption) { r.InviteID = "a/b" }},
		{"no time", func(r *Redemption) { r.At = time.Time{} }},
		{"unknown outcome", func(r *Redemption) { r.Outcome = "maybe" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.mutate(&r)
			_, err := s.PutRedemption(r)
			wantErr(t, err, ErrInvalid, "PutRedemption")
		})
	}
	r, err := s.PutRedemption(Redemption{InviteID: "i1", At: base, Outcome: OutcomeReserved})
	mustNil(t, err, "PutRedemption without id")
	if r.ID == "" {
		t.Fatal("no id assigned")
	}
}

func TestRedemptionsListAndUniqueUser(t *testing.T) {
	s := newMemStore(t)
	put := func(r Redemption) error { _, err := s.PutRedemption(r); return err }
	mustNil(t, put(Redemption{ID: "r2", InviteID: "i1", UserID: 2, At: base.Add(2 * time.Minute), Outcome: OutcomeJoined}), "r2")
	mustNil(t, put(Redemption{ID: "r1", InviteID: "i1", UserID: 1, At: base.Add(time.Minute), Outcome: OutcomeJoined}), "r1")
	mustNil(t, put(Redemption{ID: "r3", InviteID: "i2", UserID: 1, At: base, Outcome: OutcomeJoined}), "r3 other invite")

	list, err := s.RedemptionsByInvite("i1")
	mustNil(t, err, "RedemptionsByInvite")
	if len(list) != 2 || list[0].ID != "r1" || list[1].ID != "r2" {
		t.Fatalf("RedemptionsByInvite = %+v, want r1, r2 in time order", list)
	}

	// The same person redeeming the same invite twice.
	err = put(Redemption{ID: "r4", InviteID: "i1", UserID: 1, At: base.Add(3 * time.Minute), Outcome: OutcomeJoined})
	wantErr(t, err, ErrExists, "second redemption by user 1")
	got, err := s.RedemptionForUser("i1", 1)
	mustNil(t, err, "RedemptionForUser")
	if got.ID != "r1" {
		t.Fatalf("RedemptionForUser = %s, want r1", got.ID)
	}
	_, err = s.RedemptionForUser("i1", 99)
	wantErr(t, err, ErrNotFound, "RedemptionForUser stranger")

	// A failed attempt does not claim the pair, so a retry can succeed.
	mustNil(t, put(Redemption{ID: "f1", InviteID: "i1", UserID: 5, At: base, Outcome: OutcomeFailed, Reason: "plex said no"}), "failed")
	_, err = s.RedemptionForUser("i1", 5)
	wantErr(t, err, ErrNotFound, "failed attempt does not count")
	mustNil(t, put(Redemption{ID: "ok5", InviteID: "i1", UserID: 5, At: base.Add(time.Hour), Outcome: OutcomeJoined}), "retry")

	// Reserved → joined keeps the claim; moving to failed releases it.
	mustNil(t, put(Redemption{ID: "r6", InviteID: "i1", UserID: 6, At: base, Outcome: OutcomeReserved}), "reserve 6")
	mustNil(t, put(Redemption{ID: "r6", InviteID: "i1", UserID: 6, At: base.Add(time.Second), Outcome: OutcomeJoined}), "join 6")
	got, err = s.RedemptionForUser("i1", 6)
	mustNil(t, err, "RedemptionForUser 6")
	if got.Outcome != OutcomeJoined {
		t.Fatalf("outcome %s", got.Outcome)
	}
	mustNil(t, put(Redemption{ID: "r6", InviteID: "i1", UserID: 6, At: base.Add(time.Second), Outcome: OutcomeFailed}), "fail 6")
	_, err = s.RedemptionForUser("i1", 6)
	wantErr(t, err, ErrNotFound, "claim released on failure")
	if n := len(keysUnder(t, s, "v1/idx/redemption/invite/i1/")); n != 5 {
		t.Fatalf("per-invite index has %d entries, want 5 (r1 r2 f1 ok5 r6, r6 moved not duplicated)", n)
	}

	// The invite of a redemption cannot change.
	wantErr(t, put(Redemption{ID: "r1", InviteID: "i2", UserID: 1, At: base, Outcome: OutcomeJoined}), ErrInvalid, "moving r1")
	_, err = s.RedemptionsByInvite("")
	wantErr(t, err, ErrInvalid, "RedemptionsByInvite empty")
}
