package access

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestGrantNewUserAcceptsOnTheirBehalf(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	res, err := h.svc.Grant(h.ctx, ActorUser(daveID), GrantRequest{UserID: daveID, Username: "dave", Email: "dave@example.com",
		Libraries: map[string][]string{srvID: {"1", "4"}}, MembershipDays: 7, InviteID: "inv9", DiscordID: "42",
		InviteeToken: "dave-token"})
	mustOK(t, err, "Grant")
	if !slices.Equal(res.Shared, []string{srvID}) || !slices.Equal(res.Accepted, []string{srvID}) {
		t.Fatalf("grant = %+v", res)
	}
	sh, ok := h.shareOf(daveID)
	if !ok || sh.Pending || !slices.Equal(sortedIDs(sh.SectionIDs), sections("1", "4")) {
		t.Fatalf("fake share = %+v", sh)
	}
	u := h.user(daveID)
	if u.Status != storage.StatusActive || u.Kind != storage.KindFriend || u.Shares[srvID].Pending || u.InviteID != "inv9" ||
		u.DiscordID != "42" || u.ExpiresAt == nil || !u.ExpiresAt.Equal(t0.AddDate(0, 0, 7)) {
		t.Fatalf("dave = %+v", u)
	}
	if len(h.events(EventUserJoined)) != 1 || len(h.events(EventUserAccepted)) != 1 {
		t.Fatal("missing events")
	}
	// Redeeming again with more libraries adds them and keeps the later expiry.
	res, err = h.svc.Grant(h.ctx, ActorUser(daveID), GrantRequest{UserID: daveID,
		Libraries: map[string][]string{srvID: {"8"}}, MembershipDays: 30})
	mustOK(t, err, "Grant again")
	if got := res.User.Shares[srvID].Libraries; !slices.Equal(got, []string{"1", "4", "8"}) {
		t.Fatalf("libraries %v", got)
	}
	if !res.User.ExpiresAt.Equal(t0.AddDate(0, 0, 30)) {
		t.Fatalf("expiry %v", res.User.ExpiresAt)
	}
}

func TestGrantValidation(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	past := t0.Add(-time.Hour)
	cases := []struct {
		name  string
		req   GrantRequest
		field string
	}{
		{"nobody", GrantRequest{Libraries: map[string][]string{srvID: {"4"}}}, "invitee"},
		{"no libraries", GrantRequest{UserID: daveID}, "libraries"},
		{"empty list", GrantRequest{UserID: daveID, Libraries: map[string][]string{srvID: {}}}, "libraries"},
		{"unknown key", GrantRequest{UserID: daveID, Libraries: map[string][]string{srvID: {"12"}}}, "libraries"},
		{"unknown server", GrantRequest{UserID: daveID, Libraries: map[string][]string{"nope": {"4"}}}, "libraries"},
		{"ended", GrantRequest{UserID: daveID, Libraries: map[string][]string{srvID: {"4"}}, ExpiresAt: &past}, "expires_at"},
		{"negative days", GrantRequest{UserID: daveID, Libraries: map[string][]string{srvID: {"4"}}, MembershipDays: -1}, "membership_days"},
		{"bad filters", GrantRequest{UserID: daveID, Libraries: map[string][]string{srvID: {"4"}}, Filters: storage.Filters{Movies: "x"}}, "filters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.Grant(h.ctx, "admin:root", tc.req)
			var fe *Error
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want field %q", err, tc.field)
			}
		})
	}
	if len(h.fake.Calls()) != 0 {
		t.Fatal("Plex was called")
	}
	if _, err := h.store.GetUser(daveID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("a user was stored")
	}
}

func TestInviteDirectEmailWithoutAccountThenSyncMerges(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	res, err := h.svc.InviteDirect(h.ctx, "admin:root", "newbie@example.com", map[string][]string{srvID: {"4"}},
		InviteSettings{MembershipDays: 10, Notes: "friend of alice"})
	mustOK(t, err, "InviteDirect")
	id := storage.PendingUserID("newbie@example.com")
	if res.User.ID != id || res.User.Kind != storage.KindPending || res.User.Status != storage.StatusPending || res.User.Notes != "friend of alice" {
		t.Fatalf("user = %+v", res.User)
	}
	shares := h.fake.SharesFor(srvID)
	i := slices.IndexFunc(shares, func(s plextest.Share) bool { return s.InvitedEmail == "newbie@example.com" })
	if i < 0 || !shares[i].Pending || shares[i].UserID != 0 {
		t.Fatalf("fake shares = %+v", shares)
	}
	invites, err := h.svc.PendingInvites(h.ctx)
	mustOK(t, err, "PendingInvites")
	if len(invites) != 1 || invites[0].UserID != id || invites[0].ServerID != srvID || !slices.Equal(invites[0].Libraries, []string{"4"}) {
		t.Fatalf("invites = %+v", invites)
	}
	// The invitee signs up and accepts: the next sync moves the record to the real account.
	acc := h.fake.AddAccount(plextest.Account{Username: "newbie", Email: "newbie@example.com"})
	_, err = h.gw.AcceptInvite(h.ctx, acc.Token, srvID)
	mustOK(t, err, "accept")
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	u := h.user(acc.ID)
	if u.Status != storage.StatusActive || u.Notes != "friend of alice" || u.ExpiresAt == nil || !u.ExpiresAt.Equal(t0.AddDate(0, 0, 10)) {
		t.Fatalf("merged user = %+v", u)
	}
	if _, err := h.store.GetUser(id); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the pending record is still there: %v", err)
	}
}

func TestInviteDirectUnknownUsername(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	_, err := h.svc.InviteDirect(h.ctx, "admin:root", "nobody-here", map[string][]string{srvID: {"4"}}, InviteSettings{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Field != "invitee" {
		t.Fatalf("err = %v", err)
	}
	if _, err := h.svc.InviteDirect(h.ctx, "admin:root", "  ", nil, InviteSettings{}); !errors.As(err, &fe) || fe.Field != "invitee" {
		t.Fatalf("blank invitee: %v", err)
	}
	// A known username is invited by id.
	res, err := h.svc.InviteDirect(h.ctx, "admin:root", "dave", map[string][]string{srvID: {"8"}}, InviteSettings{AllowDownloads: true})
	mustOK(t, err, "invite dave")
	if res.User.ID != storage.PendingUserID("dave") && res.User.ID != daveID {
		t.Fatalf("user id %d", res.User.ID)
	}
	if sh, ok := h.shareOf(daveID); !ok || !sh.AllowSync {
		t.Fatalf("dave's share = %+v (%v)", sh, ok)
	}
}

func TestResendAndCancelInvite(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	_, err := h.svc.Grant(h.ctx, "admin:root", GrantRequest{UserID: daveID, Username: "dave", Libraries: map[string][]string{srvID: {"4"}}})
	mustOK(t, err, "Grant")
	first, _ := h.shareOf(daveID)
	mustOK(t, h.svc.ResendInvite(h.ctx, "admin:root", daveID, srvID), "ResendInvite")
	second, ok := h.shareOf(daveID)
	if !ok || second.ID == first.ID || !second.Pending || !slices.Equal(second.SectionIDs, sections("4")) {
		t.Fatalf("after resend: %+v (first %d)", second, first.ID)
	}
	if got := h.user(daveID).Shares[srvID].ShareID; got != second.ID {
		t.Fatalf("stored share id %d, want %d", got, second.ID)
	}
	mustOK(t, h.svc.CancelInvite(h.ctx, "admin:root", daveID, srvID), "CancelInvite")
	if _, ok := h.shareOf(daveID); ok {
		t.Fatal("invitation still there")
	}
	if u := h.user(daveID); u.Status != storage.StatusRemoved || len(u.Shares) != 0 {
		t.Fatalf("dave = %+v", u)
	}
	h.seedUsers()
	var fe *Error
	if err := h.svc.CancelInvite(h.ctx, "admin:root", aliceID, srvID); !errors.As(err, &fe) {
		t.Fatalf("cancelling an accepted share: %v", err)
	}
}

func TestManagedUsers(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	u, err := h.svc.CreateManagedUser(h.ctx, "admin:root", ManagedUserRequest{Name: "Kids", RestrictionProfile: "little_kid",
		Libraries: map[string][]string{srvID: {"8"}}})
	mustOK(t, err, "CreateManagedUser")
	if u.Kind != storage.KindManaged || u.Title != "Kids" || u.Status != storage.StatusActive || u.Shares[srvID].ShareID == 0 {
		t.Fatalf("managed = %+v", u)
	}
	acc, ok := h.fake.Account(u.ID)
	if !ok || !acc.Managed || acc.RestrictionProfile != "little_kid" {
		t.Fatalf("fake account = %+v", acc)
	}
	if sh, ok := h.shareOf(u.ID); !ok || sh.Pending || !slices.Equal(sh.SectionIDs, sections("8")) {
		t.Fatalf("fake share = %+v", sh)
	}
	members, err := h.svc.HomeMembers(h.ctx)
	mustOK(t, err, "HomeMembers")
	if !slices.ContainsFunc(members, func(m HomeMember) bool { return m.ID == u.ID && m.Managed }) {
		t.Fatalf("members = %+v", members)
	}
	var fe *Error
	if _, err := h.svc.CreateManagedUser(h.ctx, "admin:root", ManagedUserRequest{Name: "X", RestrictionProfile: "toddler"}); !errors.As(err, &fe) || fe.Field != "restriction_profile" {
		t.Fatalf("bad profile: %v", err)
	}
	if _, err := h.svc.CreateManagedUser(h.ctx, "admin:root", ManagedUserRequest{Name: "Y", Libraries: map[string][]string{srvID: {"99"}}}); !errors.As(err, &fe) || fe.Field != "libraries" {
		t.Fatalf("bad library: %v", err)
	}
	mustOK(t, h.svc.RemoveManagedUser(h.ctx, "admin:root", u.ID), "RemoveManagedUser")
	if acc, _ := h.fake.Account(u.ID); acc.Home {
		t.Fatal("still in the Home")
	}
	if got := h.user(u.ID); got.Status != storage.StatusRemoved {
		t.Fatalf("status %s", got.Status)
	}
	h.seedUsers()
	if err := h.svc.RemoveManagedUser(h.ctx, "admin:root", aliceID); !errors.As(err, &fe) {
		t.Fatalf("removing a friend from the Home: %v", err)
	}
}

func TestCreateManagedUserResumedAfterCrashIsNotDuplicated(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	o := op{Kind: "create_managed", Actor: "admin:root", Steps: []step{{Call: callCreateManaged, Name: "Teens", Profile: "teen"}},
		Final: final{Event: EventManagedCreated, Message: "Managed user Teens created"}}
	_, err := h.svc.writeIntent(o, nil)
	mustOK(t, err, "intent")
	// The creation reached Plex; the crash came before it was recorded.
	_, err = h.gw.CreateManagedUser(h.ctx, "Teens", "teen")
	mustOK(t, err, "create")
	mustOK(t, h.newService().ResumeIntents(h.ctx), "resume")
	n := 0
	for _, a := range h.fake.Accounts() {
		if a.Managed && a.Title == "Teens" {
			n++
			if u := h.user(a.ID); u.Kind != storage.KindManaged {
				t.Fatalf("record = %+v", u)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d managed users named Teens", n)
	}
}

func TestServersRefresh(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	mustOK(t, h.store.DeleteServer(srvID), "forget the server")
	second := h.fake.AddServer(plextest.Server{Name: "Attic"})
	svc := h.newService(func(o *Options) { o.ServerURLs = []string{h.fake.URL(), second.URL} })
	list, err := svc.Servers(h.ctx)
	mustOK(t, err, "Servers")
	if len(list) != 2 {
		t.Fatalf("servers = %+v", list)
	}
	for _, srv := range list {
		if !srv.Online || srv.Name == "" || len(srv.Libraries) != 3 {
			t.Fatalf("server = %+v", srv)
		}
		for _, l := range srv.Libraries {
			if l.SectionID == 0 {
				t.Fatalf("library without plex.tv id: %+v", l)
			}
		}
	}
	basement, err := h.store.GetServer(srvID)
	mustOK(t, err, "basement")
	if i := slices.IndexFunc(basement.Libraries, func(l storage.Library) bool { return l.Key == "4" }); i < 0 || basement.Libraries[i].SectionID != plextest.SectionMovies {
		t.Fatalf("libraries = %+v", basement.Libraries)
	}
	// The second server goes down: kept, marked offline, libraries remembered.
	h.fake.Inject(plextest.Fault{Route: "GET /pms/" + second.MachineID + "/identity", Status: 503})
	list, err = svc.Servers(h.ctx)
	if err == nil {
		t.Fatal("no error for an unreachable server")
	}
	i := slices.IndexFunc(list, func(s storage.Server) bool { return s.ID == second.MachineID })
	if i < 0 || list[i].Online || len(list[i].Libraries) != 3 {
		t.Fatalf("offline server = %+v", list)
	}
	if n := len(h.events(EventServerOffline)); n != 1 {
		t.Fatalf("%d offline events", n)
	}
	var fe *Error
	if _, err := svc.AddServer(h.ctx, "admin:root", "ftp://x"); !errors.As(err, &fe) || fe.Field != "url" {
		t.Fatalf("bad URL: %v", err)
	}
}

func TestBulkPreviewAndApply(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	yes := true
	op := BulkOp{AddLibraries: map[string][]string{srvID: {"1"}}, Whitelisted: &yes}
	prev, err := h.svc.BulkPreview(h.ctx, []int64{aliceID, carolID, 12345}, op)
	mustOK(t, err, "BulkPreview")
	if len(prev.Items) != 3 || prev.Changed != 2 || prev.Failed != 1 {
		t.Fatalf("preview = %+v", prev)
	}
	ai := slices.IndexFunc(prev.Items, func(it BulkItem) bool { return it.UserID == aliceID })
	if d, ok := prev.Items[ai].Diff["libraries."+srvID]; !ok || !slices.Equal(d.After.([]string), []string{"1", "4", "8"}) {
		t.Fatalf("alice diff = %+v", prev.Items[ai].Diff)
	}
	if len(h.fake.Calls()) != 0 || len(h.pending()) != 0 {
		t.Fatal("a preview changed something")
	}
	rep, err := h.svc.BulkApply(h.ctx, "admin:root", []int64{aliceID, carolID}, op)
	mustOK(t, err, "BulkApply")
	if rep.Changed != 2 || rep.Failed != 0 {
		t.Fatalf("apply = %+v", rep)
	}
	for _, id := range []int64{aliceID, carolID} {
		sh, _ := h.shareOf(id)
		if !slices.Contains(sh.SectionIDs, plextest.SectionMusic) || !h.user(id).Whitelisted {
			t.Fatalf("user %d not changed: %+v", id, sh)
		}
	}
	rep, err = h.svc.BulkApply(h.ctx, "admin:root", []int64{carolID}, BulkOp{Remove: true})
	mustOK(t, err, "bulk remove")
	if rep.Changed != 1 || h.user(carolID).Status != storage.StatusRemoved {
		t.Fatalf("remove = %+v", rep)
	}
	var fe *Error
	if _, err := h.svc.BulkPreview(h.ctx, []int64{aliceID}, BulkOp{Remove: true, Whitelisted: &yes}); !errors.As(err, &fe) || fe.Field != "remove" {
		t.Fatalf("remove with edits: %v", err)
	}
	if _, err := h.svc.BulkPreview(h.ctx, nil, op); !errors.As(err, &fe) || fe.Field != "user_ids" {
		t.Fatalf("no users: %v", err)
	}
	if _, err := h.svc.BulkPreview(h.ctx, []int64{aliceID}, BulkOp{}); !errors.As(err, &fe) {
		t.Fatalf("empty op: %v", err)
	}
}

func TestLibraryWindowsThroughTheService(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	soon, later := t0.Add(time.Hour), t0.Add(2*time.Hour)
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{LibraryWindows: map[string]map[string]storage.Window{
		srvID: {"8": {ExpiresAt: &soon}, "1": {StartsAt: &soon, ExpiresAt: &later}},
	}})
	mustOK(t, err, "windows")
	up, err := h.svc.Upcoming(10)
	mustOK(t, err, "Upcoming")
	if len(up) != 3 || up[0].Kind != "library_start" && up[0].Kind != "library_expiry" {
		t.Fatalf("upcoming = %+v", up)
	}
	h.clock.Set(soon)
	_, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce at the first boundary")
	sh, _ := h.shareOf(aliceID)
	if !slices.Equal(sortedIDs(sh.SectionIDs), sections("1", "4")) {
		t.Fatalf("after the first boundary: %v", sh.SectionIDs)
	}
	h.clock.Set(later)
	_, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce at the second boundary")
	sh, _ = h.shareOf(aliceID)
	if !slices.Equal(sh.SectionIDs, sections("4")) {
		t.Fatalf("after the second boundary: %v", sh.SectionIDs)
	}
	u := h.user(aliceID)
	if len(u.Shares[srvID].LibraryWindows) != 0 || !slices.Equal(u.Shares[srvID].Libraries, []string{"4"}) {
		t.Fatalf("alice = %+v", u.Shares)
	}
	// Nothing more is due: the index is empty.
	ids, _, err := h.svc.dueLibraryUsers(t0.Add(1000 * time.Hour))
	mustOK(t, err, "due")
	if len(ids) != 0 {
		t.Fatalf("still due: %v", ids)
	}
}

func TestSettingsAndExplain(t *testing.T) {
	h := newHarness(t, plextest.Seed{}, func(o *Options) { o.Defaults = Settings{InactiveDays: 60} })
	st, err := h.svc.Settings()
	mustOK(t, err, "Settings")
	if st.InactiveDays != 60 || st.RemovalCap != DefaultRemovalCap || st.ShrinkPercent != DefaultShrinkPercent {
		t.Fatalf("settings = %+v", st)
	}
	var fe *Error
	if _, err := h.svc.PutSettings("admin:root", Settings{ShrinkPercent: 101}); !errors.As(err, &fe) || fe.Field != "shrink_percent" {
		t.Fatalf("bad percent: %v", err)
	}
	st, err = h.svc.PutSettings("admin:root", Settings{RemovalCap: 4})
	mustOK(t, err, "PutSettings")
	if st.RemovalCap != 4 || st.InactiveDays != 60 {
		t.Fatalf("settings = %+v", st)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&plex.Error{Kind: plex.ErrUnauthorized}, "rejected the token"},
		{&plex.Error{Kind: plex.ErrOffline}, "retried"},
		{fieldError("libraries", "bad"), "libraries: bad"},
		{ErrBusy, "waiting"},
		{context.DeadlineExceeded, "retried"},
	} {
		if got := Explain(tc.err); !contains(got, tc.want) {
			t.Errorf("Explain(%v) = %q, want %q in it", tc.err, got, tc.want)
		}
	}
	if _, err := New(Options{Plex: h.gw}); err == nil {
		t.Fatal("New without a store")
	}
	if _, err := New(Options{Store: h.store}); err == nil {
		t.Fatal("New without Plex")
	}
}

func TestLoopServe(t *testing.T) {
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	l := Loop{Name: "t", Every: 5 * time.Millisecond, Run: func(context.Context) error {
		if runs.Add(1) == 3 {
			cancel()
		}
		return errors.New("failed runs do not stop the loop")
	}}
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	select {
	case err := <-done:
		if err != nil || runs.Load() < 3 {
			t.Fatalf("Serve = %v after %d runs", err, runs.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
	h := newHarness(t, plextest.Seed{})
	loops := h.svc.Loops(Intervals{Sync: time.Hour})
	names := []string{}
	for _, l := range loops {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, []string{"access_enforce", "access_sync", "access_history", "access_purge"}) || loops[1].Every != time.Hour || loops[0].Every != DefaultEnforceEvery {
		t.Fatalf("loops = %v", names)
	}
}

func TestMarkActivity(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	mustOK(t, h.svc.MarkActivity(aliceID, t0), "mark")
	mustOK(t, h.svc.MarkActivity(aliceID, t0.Add(30*time.Second)), "mark within a minute")
	if got := h.user(aliceID).LastActivityAt; got == nil || !got.Equal(t0) {
		t.Fatalf("last activity %v", got)
	}
	mustOK(t, h.svc.MarkActivity(aliceID, t0.Add(-time.Hour)), "older")
	mustOK(t, h.svc.MarkActivity(aliceID, t0.Add(2*time.Minute)), "newer")
	if got := h.user(aliceID).LastActivityAt; !got.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("last activity %v", got)
	}
	mustOK(t, h.svc.MarkActivity(plextest.MinimalOwnerID, t0), "the owner is ignored")
}

func TestNoTokenYetWaits(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	c, err := plex.New(plex.Config{TVURL: h.fake.URL(), ClientID: "access-test", Retries: -1})
	mustOK(t, err, "client")
	svc := h.newService(func(o *Options) { o.Plex = NewPlexGateway(c, func() string { return "" }) })
	_, err = svc.ApplyShare(h.ctx, "admin:root", aliceID, srvID, storage.Share{Libraries: []string{"4"}}, "")
	if !errors.Is(err, ErrRetryScheduled) || !errors.Is(err, ErrNoToken) {
		t.Fatalf("err = %v", err)
	}
	if _, err := svc.Sync(h.ctx, ActorSystem); !errors.Is(err, ErrNoToken) {
		t.Fatalf("sync err = %v", err)
	}
	if len(h.fake.Calls()) != 0 {
		t.Fatal("Plex was called without a token")
	}
	if msg := Explain(err); !contains(msg, "No Plex token") {
		t.Fatalf("explanation %q", msg)
	}
}

func TestRemoveUserSupersedesAWaitingChange(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers/{id}", Status: 503, Count: 1})
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{Libraries: map[string][]string{srvID: {"1", "4", "8"}}})
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v", err)
	}
	mustOK(t, h.svc.RemoveUser(h.ctx, "admin:root", aliceID, "leaving"), "RemoveUser")
	if len(h.pending()) != 0 || len(h.events(EventIntentRolledBack)) != 1 {
		t.Fatalf("pending %d, rolled back %d", len(h.pending()), len(h.events(EventIntentRolledBack)))
	}
	if _, ok := h.shareOf(aliceID); ok || h.user(aliceID).Status != storage.StatusRemoved {
		t.Fatal("alice not removed")
	}
	// The superseded change is not made later.
	h.fake.ResetCalls()
	h.clock.Add(time.Hour)
	_, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	if len(h.fake.Calls()) != 0 {
		t.Fatalf("calls after the removal: %+v", h.fake.Calls())
	}
}

func TestLoopsRunOnce(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	for _, l := range h.svc.Loops(Intervals{}) {
		if err := l.Run(h.ctx); err != nil {
			t.Fatalf("loop %s: %v", l.Name, err)
		}
	}
	if n := len(h.user(aliceID).Shares); n != 1 {
		t.Fatalf("the sync loop did not adopt alice: %d shares", n)
	}
	if h.fake.CallCount("GET /library/sections") == 0 {
		t.Fatal("the sync loop did not refresh the servers")
	}
}
