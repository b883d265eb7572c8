package invite

import (
	"errors"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestReservationStateMachine(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true, MaxUses: 2})
	acct, _ := h.account(daveID)
	req := RedeemRequest{InviteID: inv.ID, Account: acct, IP: "192.0.2.1"}

	// A reservation left by a crash (reserved, never finished).
	red, already, err := h.svc.reserve(inv.ID, req, h.clock.Now())
	if err != nil || already != nil || red.Outcome != storage.OutcomeReserved {
		t.Fatalf("reserve: %+v %v %v", red, already, err)
	}
	if got := h.invite(inv.ID).Uses; got != 1 {
		t.Fatalf("uses %d after a reservation", got)
	}
	// While fresh, a second attempt by the same account is "in progress" and takes no use.
	if _, err := h.redeem(inv, daveID, nil); !errors.Is(err, ErrInProgress) {
		t.Fatalf("second attempt while reserved: %v", err)
	}
	if got := h.invite(inv.ID).Uses; got != 1 {
		t.Fatalf("uses %d", got)
	}
	// The sweep leaves fresh reservations alone.
	if n, err := h.svc.SweepStale(h.ctx); err != nil || n != 0 {
		t.Fatalf("sweep of a fresh reservation: %d %v", n, err)
	}
	// Once stale, the sweep releases the use and records the failure.
	h.clock.Add(16 * time.Minute)
	if n, err := h.svc.SweepStale(h.ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if got := h.invite(inv.ID).Uses; got != 0 {
		t.Fatalf("uses %d after the sweep", got)
	}
	reds := h.redemptions(inv.ID)
	if len(reds) != 1 || reds[0].Outcome != storage.OutcomeFailed || reds[0].Reason != abandonedReason {
		t.Fatalf("redemptions %+v", reds)
	}
	if n, _ := h.svc.SweepStale(h.ctx); n != 0 {
		t.Fatal("the sweep is not idempotent")
	}
	// The person can now join normally.
	if _, err := h.redeem(inv, daveID, nil); err != nil {
		t.Fatal(err)
	}
}

func TestStaleReservationTakenOverBySamePerson(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true, MaxUses: 1})
	acct, _ := h.account(daveID)
	if _, _, err := h.svc.reserve(inv.ID, RedeemRequest{InviteID: inv.ID, Account: acct}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(20 * time.Minute)
	// The only use is held by dave's stale reservation: dave's new attempt reuses it.
	res, err := h.redeem(inv, daveID, nil)
	if err != nil || res.Outcome != OutcomeJoined {
		t.Fatalf("%+v %v", res, err)
	}
	if got := h.invite(inv.ID).Uses; got != 1 {
		t.Fatalf("uses %d", got)
	}
	reds := h.redemptions(inv.ID)
	if len(reds) != 1 || reds[0].Outcome != storage.OutcomeJoined {
		t.Fatalf("redemptions %+v", reds)
	}
}

func TestSweepRecordsInterruptedButGrantedAsJoined(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true})
	acct, _ := h.account(daveID)
	if _, _, err := h.svc.reserve(inv.ID, RedeemRequest{InviteID: inv.ID, Account: acct}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The grant happened, then the process stopped before recording the outcome.
	if _, err := h.svc.share(h.ctx, inv, RedeemRequest{InviteID: inv.ID, Account: acct}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Hour)
	if n, err := h.svc.SweepStale(h.ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	reds := h.redemptions(inv.ID)
	if reds[0].Outcome != storage.OutcomeJoined || h.invite(inv.ID).Uses != 1 {
		t.Fatalf("redemption %+v, uses %d", reds[0], h.invite(inv.ID).Uses)
	}
}
