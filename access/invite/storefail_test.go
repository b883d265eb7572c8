package invite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestLookupStoreFailure checks that a store that cannot be read is reported as such by Lookup and
// LookupOffer, never as ErrUnusable: the public page must say "try again later", not that the
// invite is invalid. A code that cannot be one is still ErrUnusable (the store is not asked).
func TestLookupStoreFailure(t *testing.T) {
	for _, counted := range []bool{false, true} {
		e := newOfferEnv(t, counted)
		e.put(t, storage.Invite{Code: "good-code", Enabled: true})
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"good-code", "unknown-code"} {
			lookups := map[string]error{}
			_, lookups["Lookup"] = e.svc.Lookup(code)
			_, _, lookups["LookupOffer"] = e.svc.LookupOffer(code)
			for name, err := range lookups {
				if errors.Is(err, ErrUnusable) || !errors.Is(err, storage.ErrClosed) {
					t.Errorf("counted=%v: %s(%q) on a closed store = %v, want a store failure wrapping storage.ErrClosed", counted, name, code, err)
				}
			}
		}
		if _, err := e.svc.Lookup("no"); !errors.Is(err, ErrUnusable) {
			t.Errorf("counted=%v: Lookup of an implausible code = %v, want ErrUnusable", counted, err)
		}
		if _, _, err := e.svc.LookupOffer("no"); !errors.Is(err, ErrUnusable) {
			t.Errorf("counted=%v: LookupOffer of an implausible code = %v, want ErrUnusable", counted, err)
		}
	}
}

// plexRefused is the start of Explain's text for a refusal by Plex.
const plexRefused = "Plex refused"

// TestExplainStoreFailures checks the invitee's text for a store that refuses work: it says to try
// again later and what happened to the access, never that Plex refused to share.
func TestExplainStoreFailures(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"full disk", fmt.Errorf("reserving a use: %w", storage.ErrDiskFull),
			[]string{"storage is full", "Nothing was changed", "try again later"}},
		{"closed store", fmt.Errorf("reading invite: %w", storage.ErrClosed),
			[]string{"restarting", "Nothing was changed", "try again"}},
		{"full disk while sharing", fmt.Errorf("%w: %w", errShareNotRecorded, fmt.Errorf("recording the share: %w", storage.ErrDiskFull)),
			[]string{"storage is full", "may already show you an invitation", "finishes or undoes it by itself", "check again later"}},
		{"Plex offline wins over a full disk", fmt.Errorf("%w (and recording it: %w)", plex.ErrOffline, storage.ErrDiskFull),
			[]string{"Plex could not be reached", "Nothing was changed"}},
	}
	for _, tt := range tests {
		got := Explain(tt.err)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: Explain = %q, want it to say %q", tt.name, got, w)
			}
		}
		if strings.HasPrefix(got, plexRefused) {
			t.Errorf("%s: Explain = %q", tt.name, got)
		}
	}
}

// TestRedeemOnFullDisk redeems on a store whose data disk is full: the use cannot be reserved, so
// nothing is shared and the invitee is told to try again later (it said Plex refused to share).
func TestRedeemOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(storage.Options{Dir: dir, ReserveBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessOn(t, st)
	inv := h.create(Spec{Enabled: true, MaxUses: 3})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	full := storetest.FullDisk(t, dir)
	token := h.fake.OwnerToken()
	acc, err := access.New(access.Options{Store: full, Plex: access.NewPlexGateway(h.client, func() string { return token }), Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Options{Store: full, Access: acc, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	acct, acctToken := h.account(daveID)
	_, err = svc.Redeem(h.ctx, RedeemRequest{InviteID: inv.ID, Account: acct, Token: acctToken, IP: "203.0.113.7"})
	var rerr *RedeemError
	if !errors.As(err, &rerr) || !errors.Is(err, storage.ErrDiskFull) {
		t.Fatalf("Redeem on a full disk = %v, want a RedeemError wrapping storage.ErrDiskFull", err)
	}
	if rerr.Reason != Explain(storage.ErrDiskFull) || strings.HasPrefix(rerr.Reason, plexRefused) {
		t.Errorf("reason = %q, want %q", rerr.Reason, Explain(storage.ErrDiskFull))
	}
	if n := h.fake.CallCount("POST /api/v2/shared_servers"); n != 0 {
		t.Errorf("%d share calls on a full disk, want none", n)
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); ok {
		t.Error("shared on a full disk")
	}
	if got, err := full.GetInvite(inv.ID); err != nil || got.Uses != 0 {
		t.Errorf("invite after the refusal: uses %d, %v", got.Uses, err)
	}
}

// storeFailsDuringShare is an access engine whose store refuses the grant (the disk filled up, or
// the store closed, while the shares were being made).
type storeFailsDuringShare struct {
	Access
	cause error
}

func (a storeFailsDuringShare) Grant(ctx context.Context, actor string, req access.GrantRequest) (access.GrantResult, error) {
	return access.GrantResult{}, fmt.Errorf("recording the share of user %d: %w", req.UserID, a.cause)
}

// TestRedeemStoreFailsDuringShare: a store failure while the engine makes the shares is not a
// refusal by Plex; the invitee is told what may have happened and that it settles by itself.
func TestRedeemStoreFailsDuringShare(t *testing.T) {
	for _, cause := range []error{storage.ErrDiskFull, storage.ErrClosed} {
		h := newHarness(t)
		inv := h.create(Spec{Enabled: true, MaxUses: 3})
		svc, err := New(Options{Store: h.store, Access: storeFailsDuringShare{Access: h.access, cause: cause}, Now: h.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		acct, token := h.account(daveID)
		_, err = svc.Redeem(h.ctx, RedeemRequest{InviteID: inv.ID, Account: acct, Token: token})
		var rerr *RedeemError
		if !errors.As(err, &rerr) || !errors.Is(err, cause) || rerr.Reason != shareNotRecordedReason {
			t.Errorf("%v during the share: %v, want the reason %q", cause, err, shareNotRecordedReason)
		}
		// The store took writes again here: the use is released and the attempt recorded.
		if got := h.invite(inv.ID).Uses; got != 0 {
			t.Errorf("%v: uses %d after the failed redemption", cause, got)
		}
		if reds := h.redemptions(inv.ID); len(reds) != 1 || reds[0].Outcome != storage.OutcomeFailed || reds[0].Reason != shareNotRecordedReason {
			t.Errorf("%v: redemptions %+v", cause, reds)
		}
	}
}

// TestRedeemClosedStore: a store closed by a restart is "try again", not an unusable invite.
func TestRedeemClosedStore(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true})
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.redeem(inv, daveID, nil)
	var rerr *RedeemError
	if !errors.As(err, &rerr) || errors.Is(err, ErrUnusable) || !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Redeem on a closed store = %v, want a RedeemError wrapping storage.ErrClosed", err)
	}
	if rerr.Reason != Explain(storage.ErrClosed) {
		t.Errorf("reason = %q, want %q", rerr.Reason, Explain(storage.ErrClosed))
	}
	if h.fake.CallCount("POST /api/v2/shared_servers") != 0 {
		t.Error("shared on a closed store")
	}
}
