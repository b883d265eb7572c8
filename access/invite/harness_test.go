package invite

import (
	"context"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Accounts of plextest.SeedMinimal.
const (
	aliceID int64 = plextest.MinimalAliceID
	daveID  int64 = plextest.MinimalDaveID
	erinID  int64 = plextest.MinimalErinID
	srvID         = plextest.MinimalMachineID
)

// harness is the invite service on the real access service, the real plex client and plextest.
type harness struct {
	t      testing.TB
	ctx    context.Context
	clock  *testclock.Clock
	fake   *plextest.Fake
	client *plex.Client
	store  *storage.Store
	access *access.Service
	svc    *Service
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessOn(t, storetest.Memory(t))
}

// newHarnessOn is newHarness on store st (closed at the end of the test).
func newHarnessOn(t testing.TB, st *storage.Store) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clock: testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))}
	h.fake = plextest.NewServer(t, plextest.Options{Now: h.clock.Now, PINPollInterval: time.Millisecond})
	t.Cleanup(func() { _ = st.Close() })
	h.store = st
	var err error
	h.client, err = plex.New(plex.Config{TVURL: h.fake.URL(), AuthURL: h.fake.AuthURL(), ClientID: "invite-test",
		Retries: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.storeServers()
	token := h.fake.OwnerToken()
	h.access, err = access.New(access.Options{Store: st, Plex: access.NewPlexGateway(h.client, func() string { return token }), Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.svc, err = New(Options{Store: st, Access: h.access, Now: h.clock.Now, LinkBase: func() string { return "https://join.example.com" },
		DiscordEnabled: func() bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// storeServers copies the fake's servers (with their plex.tv section ids) into the store.
func (h *harness) storeServers() {
	h.t.Helper()
	for _, fs := range h.fake.Servers() {
		srv := storage.Server{ID: fs.MachineID, Name: fs.Name, URL: fs.URL, Online: true}
		for _, l := range fs.Libraries {
			srv.Libraries = append(srv.Libraries, storage.Library{Key: l.Key, SectionID: l.SectionID, Title: l.Title, Type: l.Type})
		}
		if err := h.store.PutServer(srv); err != nil {
			h.t.Fatal(err)
		}
	}
}

// create stores an invite (libraries default to Movies and TV Shows of Basement).
func (h *harness) create(spec Spec) storage.Invite {
	h.t.Helper()
	if spec.Libraries == nil {
		spec.Libraries = map[string][]string{srvID: {"4", "8"}}
	}
	inv, err := h.svc.Create(h.ctx, "admin:test", spec)
	if err != nil {
		h.t.Fatalf("creating invite: %v", err)
	}
	return inv
}

// account returns the invite Account and token of a fake account.
func (h *harness) account(id int64) (Account, string) {
	h.t.Helper()
	a, ok := h.fake.Account(id)
	if !ok {
		h.t.Fatalf("no fake account %d", id)
	}
	return Account{ID: a.ID, UUID: a.UUID, Username: a.Username, Email: a.Email, Title: a.Title}, a.Token
}

// redeem redeems inv as account id.
func (h *harness) redeem(inv storage.Invite, id int64, discord *DiscordIdentity) (Result, error) {
	acct, token := h.account(id)
	return h.svc.Redeem(h.ctx, RedeemRequest{InviteID: inv.ID, Account: acct, Token: token, Discord: discord, IP: "203.0.113.7"})
}

// invite re-reads an invite.
func (h *harness) invite(id string) storage.Invite {
	h.t.Helper()
	inv, err := h.store.GetInvite(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inv
}

// redemptions lists an invite's redemptions.
func (h *harness) redemptions(id string) []storage.Redemption {
	h.t.Helper()
	list, err := h.store.RedemptionsByInvite(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}

// eventCount counts the events of a type about an invite.
func (h *harness) eventCount(inviteID, typ string) int {
	h.t.Helper()
	evs, err := h.store.ListEvents(storage.EventQuery{InviteID: inviteID, Type: typ})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(evs)
}
