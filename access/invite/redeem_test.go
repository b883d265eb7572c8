package invite

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestRedeemSharesExactlyWhatTheInviteSays(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true, AllowDownloads: true, MembershipDays: 30, Libraries: map[string][]string{srvID: {"8", "4"}},
		Filters: storage.Filters{Movies: "contentRating=G%2CPG|label!=adult", Television: "label=kids", Music: "label=ok"}})
	res, err := h.redeem(inv, daveID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeJoined || res.Scheduled || res.Queued || len(res.Pending) != 0 {
		t.Fatalf("result %+v", res)
	}
	sh, ok := h.fake.ShareOf(srvID, daveID)
	if !ok {
		t.Fatal("no share in the fake")
	}
	if !slices.Equal(sh.SectionIDs, []int64{plextest.SectionMovies, plextest.SectionTVShows}) || !sh.AllowSync ||
		sh.FilterMovies != "contentRating=G%2CPG|label!=adult" || sh.FilterTelevision != "label=kids" || sh.FilterMusic != "label=ok" ||
		sh.AllLibraries || sh.Pending {
		t.Fatalf("fake share %+v", sh)
	}
	u, err := h.store.GetUser(daveID)
	if err != nil {
		t.Fatal(err)
	}
	wantExp := h.clock.Now().AddDate(0, 0, 30)
	if u.InviteID != inv.ID || u.ExpiresAt == nil || !u.ExpiresAt.Equal(wantExp) || u.Status != storage.StatusActive ||
		u.Shares[srvID].ShareID != sh.ID || u.Shares[srvID].Pending {
		t.Fatalf("user %+v", u)
	}
	if got := h.invite(inv.ID); got.Uses != 1 {
		t.Fatalf("uses %d", got.Uses)
	}
	reds := h.redemptions(inv.ID)
	if len(reds) != 1 || reds[0].Outcome != storage.OutcomeJoined || reds[0].UserID != daveID || reds[0].IP != "203.0.113.7" || reds[0].Username != "dave" {
		t.Fatalf("redemptions %+v", reds)
	}
	if h.eventCount(inv.ID, EventRedeemed) != 1 {
		t.Fatal("no invite.redeemed event")
	}
}

func TestRedeemTwoServers(t *testing.T) {
	h := newHarness(t)
	attic := h.fake.AddServer(plextest.Server{Name: "Attic"})
	h.storeServers()
	if len(attic.Libraries) == 0 {
		t.Fatal("the added server has no libraries")
	}
	lib := attic.Libraries[len(attic.Libraries)-1]
	inv := h.create(Spec{Enabled: true, Libraries: map[string][]string{srvID: {"1"}, attic.MachineID: {lib.Key}}})
	if _, err := h.redeem(inv, daveID, nil); err != nil {
		t.Fatal(err)
	}
	a, okA := h.fake.ShareOf(srvID, daveID)
	b, okB := h.fake.ShareOf(attic.MachineID, daveID)
	if !okA || !okB || !slices.Equal(a.SectionIDs, []int64{plextest.SectionMusic}) || !slices.Equal(b.SectionIDs, []int64{lib.SectionID}) {
		t.Fatalf("shares %+v %+v", a, b)
	}
}

func TestRedeemRefusesUnusableInvites(t *testing.T) {
	h := newHarness(t)
	exp := h.clock.Now().Add(time.Hour)
	disabled := h.create(Spec{Enabled: false})
	expired := h.create(Spec{Enabled: true, ExpiresAt: &exp})
	usedUp := h.create(Spec{Enabled: true, MaxUses: 1})
	if _, err := h.redeem(usedUp, aliceID, nil); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(2 * time.Hour)
	for name, inv := range map[string]storage.Invite{"disabled": disabled, "expired": expired, "used up": usedUp} {
		_, err := h.redeem(inv, daveID, nil)
		var rerr *RedeemError
		if !errors.Is(err, ErrUnusable) || !errors.As(err, &rerr) || rerr.Reason == "" {
			t.Errorf("%s: got %v, want ErrUnusable with a reason", name, err)
		}
		reds := h.redemptions(inv.ID)
		if last := reds[len(reds)-1]; last.Outcome != storage.OutcomeFailed || last.UserID != daveID {
			t.Errorf("%s: last redemption %+v", name, last)
		}
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); ok {
		t.Fatal("an unusable invite shared")
	}
	if _, err := h.svc.Redeem(h.ctx, RedeemRequest{InviteID: "missing", Account: Account{ID: daveID}}); !errors.Is(err, ErrUnusable) {
		t.Fatalf("unknown invite: %v", err)
	}
	if got := h.invite(usedUp.ID).Uses; got != 1 {
		t.Fatalf("used-up invite has %d uses", got)
	}
}

func TestRedeemTwiceUsesOneSlot(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true, MaxUses: 2})
	if _, err := h.redeem(inv, daveID, nil); err != nil {
		t.Fatal(err)
	}
	calls := h.fake.CallCount("POST /api/v2/shared_servers")
	res, err := h.redeem(inv, daveID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeAlready {
		t.Fatalf("second redemption outcome %q", res.Outcome)
	}
	if got := h.invite(inv.ID).Uses; got != 1 {
		t.Fatalf("uses %d after the same person redeemed twice", got)
	}
	if h.fake.CallCount("POST /api/v2/shared_servers") != calls {
		t.Fatal("the second redemption called Plex")
	}
	// The other slot is still there for someone else.
	if _, err := h.redeem(inv, erinID, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRedeemStartDateSchedules(t *testing.T) {
	h := newHarness(t)
	start := h.clock.Now().Add(72 * time.Hour)
	inv := h.create(Spec{Enabled: true, StartsAt: &start, MembershipDays: 10})
	res, err := h.redeem(inv, daveID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Scheduled || res.StartsAt == nil || !res.StartsAt.Equal(start) || res.ExpiresAt == nil || !res.ExpiresAt.Equal(start.AddDate(0, 0, 10)) {
		t.Fatalf("result %+v", res)
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); ok {
		t.Fatal("shared before the start date")
	}
	u, _ := h.store.GetUser(daveID)
	if u.Status != storage.StatusScheduled || !slices.Equal(u.Shares[srvID].Libraries, []string{"4", "8"}) {
		t.Fatalf("scheduled user %+v", u)
	}
	h.clock.Add(73 * time.Hour)
	if _, err := h.access.Enforce(h.ctx, "system"); err != nil {
		t.Fatal(err)
	}
	sh, ok := h.fake.ShareOf(srvID, daveID)
	if !ok || !slices.Equal(sh.SectionIDs, []int64{plextest.SectionMovies, plextest.SectionTVShows}) {
		t.Fatalf("after the start: share %+v (found %t)", sh, ok)
	}
}

func TestRedeemKnownUserIsUpdatedNotShortened(t *testing.T) {
	h := newHarness(t)
	if _, err := h.access.Sync(h.ctx, "system"); err != nil {
		t.Fatal(err)
	}
	before, err := h.store.GetUser(aliceID)
	if err != nil {
		t.Fatalf("alice not synced: %v", err)
	}
	inv := h.create(Spec{Enabled: true, MembershipDays: 5, Libraries: map[string][]string{srvID: {"1"}}})
	res, err := h.redeem(inv, aliceID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeUpdated {
		t.Fatalf("outcome %q, want updated", res.Outcome)
	}
	sh, _ := h.fake.ShareOf(srvID, aliceID)
	if !slices.Contains(sh.SectionIDs, plextest.SectionMusic) || !slices.Contains(sh.SectionIDs, plextest.SectionMovies) {
		t.Fatalf("alice's share %v lost libraries or lacks the new one", sh.SectionIDs)
	}
	u, _ := h.store.GetUser(aliceID)
	if before.ExpiresAt == nil && u.ExpiresAt != nil {
		t.Fatalf("an open-ended user got an expiry %v from the invite", u.ExpiresAt)
	}
}

func TestRedeemDiscordRules(t *testing.T) {
	h := newHarness(t)
	const guild = "300000000000000001"
	req := h.create(Spec{Enabled: true, Discord: storage.DiscordRequired, DiscordGuildID: guild})
	opt := h.create(Spec{Enabled: true, Discord: storage.DiscordOptional})
	if _, err := h.redeem(req, daveID, nil); !errors.Is(err, ErrDiscordRequired) {
		t.Fatalf("required without Discord: %v", err)
	}
	if _, err := h.redeem(req, daveID, &DiscordIdentity{ID: "200000000000000009", Guilds: []string{"300000000000000002"}}); !errors.Is(err, ErrNotInGuild) {
		t.Fatalf("not in guild: %v", err)
	}
	if got := h.invite(req.ID).Uses; got != 0 {
		t.Fatalf("refused attempts took %d uses", got)
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); ok {
		t.Fatal("shared without the required Discord")
	}
	if _, err := h.redeem(req, daveID, &DiscordIdentity{ID: "200000000000000009", Name: "Dave#1", Guilds: []string{guild}}); err != nil {
		t.Fatalf("required with guild: %v", err)
	}
	u, _ := h.store.GetUser(daveID)
	if u.DiscordID != "200000000000000009" || u.DiscordName != "Dave#1" {
		t.Fatalf("Discord link not recorded: %+v", u)
	}
	if _, err := h.redeem(opt, erinID, nil); err != nil {
		t.Fatalf("optional without Discord: %v", err)
	}
}

func TestRedeemPlexRefusalRollsBack(t *testing.T) {
	h := newHarness(t)
	attic := h.fake.AddServer(plextest.Server{Name: "Attic"})
	h.storeServers()
	inv := h.create(Spec{Enabled: true, MaxUses: 3, Libraries: map[string][]string{srvID: {"4"}, attic.MachineID: {attic.Libraries[0].Key}}})
	// The first share call succeeds (after a delay), the second is refused: the first must be
	// undone.
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Latency: time.Millisecond, Count: 1})
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 400, Body: `{"errors":[{"code":1001,"message":"refused"}]}`, Count: 1})
	_, err := h.redeem(inv, daveID, nil)
	var rerr *RedeemError
	if err == nil || !errors.As(err, &rerr) || rerr.Reason == "" {
		t.Fatalf("got %v, want a RedeemError", err)
	}
	if h.fake.CallCount("POST /api/v2/shared_servers") != 2 || deletes(h.fake.Calls()) != 1 {
		t.Fatalf("want two share calls and one removal, calls: %d shares, %d removals",
			h.fake.CallCount("POST /api/v2/shared_servers"), deletes(h.fake.Calls()))
	}
	for _, m := range []string{srvID, attic.MachineID} {
		if sh, ok := h.fake.ShareOf(m, daveID); ok {
			t.Fatalf("a share on %s survived the failed redemption: %+v", m, sh)
		}
	}
	if got := h.invite(inv.ID).Uses; got != 0 {
		t.Fatalf("the use was not released: %d", got)
	}
	reds := h.redemptions(inv.ID)
	if len(reds) != 1 || reds[0].Outcome != storage.OutcomeFailed || reds[0].Reason == "" {
		t.Fatalf("redemptions %+v", reds)
	}
	if h.eventCount(inv.ID, EventFailed) != 1 {
		t.Fatal("no invite.failed event")
	}
	u, err := h.store.GetUser(daveID)
	if err == nil && (u.Status == storage.StatusActive || u.Status == storage.StatusScheduled) {
		t.Fatalf("the user is left %s after a failed first redemption", u.Status)
	}
	// Nothing blocks a later attempt once Plex agrees.
	if _, err := h.redeem(inv, daveID, nil); err != nil {
		t.Fatalf("retry after the refusal: %v", err)
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); !ok {
		t.Fatal("the retry did not share")
	}
}

func TestRedeemPlexOutageIsQueued(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true, MaxUses: 1})
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 503})
	res, err := h.redeem(inv, daveID, nil)
	if err != nil {
		t.Fatalf("outage: %v", err)
	}
	if !res.Queued {
		t.Fatalf("result %+v, want queued", res)
	}
	if got := h.invite(inv.ID).Uses; got != 1 {
		t.Fatalf("uses %d", got)
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); ok {
		t.Fatal("shared during the outage")
	}
	h.fake.ClearFaults()
	h.clock.Add(2 * time.Hour)
	if _, err := h.access.Enforce(h.ctx, "system"); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.ShareOf(srvID, daveID); !ok {
		t.Fatal("the queued share was not made after the outage")
	}
}

func TestRedeemAcceptFailureLeavesPending(t *testing.T) {
	h := newHarness(t)
	inv := h.create(Spec{Enabled: true})
	res, err := h.redeem(inv, erinID, nil) // erin's email is not verified: accepting fails
	if err != nil {
		t.Fatal(err)
	}
	sh, ok := h.fake.ShareOf(srvID, erinID)
	if !ok || !sh.Pending || !slices.Equal(res.Pending, []string{srvID}) {
		t.Fatalf("share %+v (found %t), result pending %v", sh, ok, res.Pending)
	}
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers/{id}/accept", Status: 500})
	inv2 := h.create(Spec{Enabled: true})
	res, err = h.redeem(inv2, daveID, nil)
	if err != nil || len(res.Pending) != 1 {
		t.Fatalf("accept outage: %v %+v", err, res)
	}
}

func TestConcurrentRedemptionsNeverExceedMaxUses(t *testing.T) {
	h := newHarness(t)
	const n, max = 200, 5
	var ids []int64
	for i := range n {
		a := h.fake.AddAccount(plextest.Account{ID: int64(50000000 + i), Username: fmt.Sprintf("guest%03d", i),
			Email: fmt.Sprintf("guest%03d@example.com", i), Token: fmt.Sprintf("guest-token-%03d", i)})
		ids = append(ids, a.ID)
	}
	inv := h.create(Spec{Enabled: true, MaxUses: max})
	var wg sync.WaitGroup
	var mu sync.Mutex
	joined, unusable, other := 0, 0, []error{}
	for _, id := range ids {
		wg.Go(func() {
			_, err := h.redeem(inv, id, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				joined++
			case errors.Is(err, ErrUnusable):
				unusable++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if joined != max || unusable != n-max || len(other) != 0 {
		t.Fatalf("joined %d, unusable %d, other %v", joined, unusable, other)
	}
	if got := len(h.fake.SharesFor(srvID)); got != 3+max { // alice, bob and carol are seeded
		t.Fatalf("%d shares in the fake, want %d", got, 3+max)
	}
	if got := h.invite(inv.ID).Uses; got != max {
		t.Fatalf("uses %d", got)
	}
}

// deletes counts share removals among calls.
func deletes(calls []plextest.Call) int {
	n := 0
	for _, c := range calls {
		if c.Method == "DELETE" && strings.Contains(c.Route, "shared_servers") && c.Status < 300 {
			n++
		}
	}
	return n
}
