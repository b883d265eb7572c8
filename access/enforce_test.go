package access

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestEnforceExpiryInOnePass(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{ExpiresAt: tptr(t0.Add(time.Hour))})
	mustOK(t, err, "set expiry")
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce before the expiry")
	if len(rep.Planned) != 0 {
		t.Fatalf("planned before the expiry: %+v", rep.Planned)
	}
	h.clock.Set(t0.Add(time.Hour))
	h.fake.ResetCalls()
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	if len(rep.Changes) != 1 || rep.Changes[0].Result != ResultDone || rep.Changes[0].Action != ActionExpire {
		t.Fatalf("report = %+v", rep)
	}
	if _, ok := h.shareOf(aliceID); ok {
		t.Fatal("alice still shared after her window ended")
	}
	if n := h.fake.CallCount("DELETE /api/v2/shared_servers/{id}"); n != 1 {
		t.Fatalf("%d share deletions, want 1", n)
	}
	u := h.user(aliceID)
	if u.Status != storage.StatusExpired || u.Shares[srvID].ShareID != 0 || !slices.Equal(u.Shares[srvID].Libraries, []string{"4", "8"}) {
		t.Fatalf("alice = %+v", u)
	}
	if evs := h.events(EventUserExpired); len(evs) != 1 || evs[0].Actor != ActorSystem || evs[0].Data["reason"] == "" {
		t.Fatalf("expired events = %+v", evs)
	}
	// A second pass has nothing to do (no duplicate removal).
	h.fake.ResetCalls()
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "second pass")
	if len(rep.Planned) != 0 || len(h.fake.Calls()) != 0 {
		t.Fatalf("second pass: %+v, calls %d", rep, len(h.fake.Calls()))
	}
	passes, err := h.svc.RecentPasses(5)
	mustOK(t, err, "RecentPasses")
	if len(passes) == 0 || passes[0].Kind != "enforce" {
		t.Fatalf("passes = %+v", passes)
	}
}

func TestEnforceScheduledStartSharesOnTime(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	start := t0.Add(2 * time.Hour)
	res, err := h.svc.Grant(h.ctx, ActorUser(daveID), GrantRequest{UserID: daveID, Username: "dave", Email: "dave@example.com",
		Libraries: map[string][]string{srvID: {"4", "8"}}, AllowDownloads: true, StartsAt: &start, MembershipDays: 30, InviteID: "inv1"})
	mustOK(t, err, "Grant")
	if !res.Scheduled || res.User.Status != storage.StatusScheduled || len(res.Shared) != 0 {
		t.Fatalf("grant = %+v", res)
	}
	if want := start.AddDate(0, 0, 30); res.User.ExpiresAt == nil || !res.User.ExpiresAt.Equal(want) {
		t.Fatalf("expiry %v, want start + 30 days %v", res.User.ExpiresAt, want)
	}
	if _, ok := h.shareOf(daveID); ok {
		t.Fatal("shared before the start")
	}
	up, err := h.svc.Upcoming(10)
	mustOK(t, err, "Upcoming")
	if len(up) != 2 || up[0].Kind != "start" || !up[0].At.Equal(start) || up[1].Kind != "expiry" {
		t.Fatalf("upcoming = %+v", up)
	}
	h.clock.Set(start.Add(-time.Second))
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce early")
	if len(rep.Planned) != 0 {
		t.Fatalf("started a second early: %+v", rep)
	}
	h.clock.Set(start)
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce on time")
	if len(rep.Changes) != 1 || rep.Changes[0].Action != ActionStart || rep.Changes[0].Result != ResultDone {
		t.Fatalf("report = %+v", rep)
	}
	sh, ok := h.shareOf(daveID)
	if !ok || !slices.Equal(sortedIDs(sh.SectionIDs), sections("4", "8")) || !sh.AllowSync {
		t.Fatalf("fake share = %+v", sh)
	}
	u := h.user(daveID)
	if u.Status != storage.StatusPending || u.Shares[srvID].ShareID != sh.ID || u.InviteID != "inv1" {
		t.Fatalf("dave = %+v", u)
	}
	if n := len(h.events(EventUserStarted)); n != 1 {
		t.Fatalf("%d started events", n)
	}
}

func TestEnforceRemovalCap(t *testing.T) {
	h := newHarness(t, seedWithMovieFriends(4, 70000000, "c"))
	_, err := h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	_, err = h.svc.PutSettings("admin:root", Settings{RemovalCap: 3})
	mustOK(t, err, "settings")
	for i := range 4 {
		_, err := h.svc.UpdateUser(h.ctx, "admin:root", int64(70000000+i), UserPatch{ExpiresAt: tptr(t0.Add(time.Hour))})
		mustOK(t, err, "expiry")
	}
	h.clock.Set(t0.Add(2 * time.Hour))
	h.fake.ResetCalls()
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	if !rep.Capped || rep.Cap != 3 || len(rep.Planned) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if len(h.fake.Calls()) != 0 || len(h.fake.SharesFor(srvID)) != 7 {
		t.Fatalf("a capped pass touched Plex: %d calls", len(h.fake.Calls()))
	}
	if evs := h.events(EventEnforceCapped); len(evs) != 1 {
		t.Fatalf("capped events = %+v", evs)
	}
	// The admin lifts the cap for one pass.
	rep, err = h.svc.EnforceWith(h.ctx, "admin:root", EnforceOptions{IgnoreCap: true})
	mustOK(t, err, "Enforce uncapped")
	if rep.Capped || len(rep.Changes) != 4 || len(h.fake.SharesFor(srvID)) != 3 {
		t.Fatalf("uncapped report = %+v, shares %d", rep, len(h.fake.SharesFor(srvID)))
	}
}

func TestEnforceRetriesAfterOutagesWithoutDuplicates(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	start := t0.Add(time.Minute)
	for _, who := range []struct {
		id   int64
		name string
	}{{daveID, "dave"}} {
		_, err := h.svc.Grant(h.ctx, "admin:root", GrantRequest{UserID: who.id, Username: who.name,
			Libraries: map[string][]string{srvID: {"4"}}, StartsAt: &start})
		mustOK(t, err, "Grant")
	}
	h.seedUsers()
	_, err := h.svc.UpdateUser(h.ctx, "admin:root", aliceID, UserPatch{ExpiresAt: tptr(start)})
	mustOK(t, err, "alice expiry")
	h.clock.Set(start)
	h.fake.ResetCalls()

	// The removal times out: Plex is down, so the pass stops calling it (dave's start waits).
	h.fake.Inject(plextest.Fault{Route: "DELETE /api/v2/shared_servers/{id}", Hang: true, Count: 1})
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce during the outage")
	results := func(rep PassReport) map[int64]string {
		m := map[int64]string{}
		for _, c := range rep.Changes {
			m[c.UserID] = c.Result
		}
		return m
	}
	if r := results(rep); r[aliceID] != ResultRetry || r[daveID] != ResultSkipped {
		t.Fatalf("results = %v (%+v)", r, rep.Changes)
	}
	if n := h.fake.CallCount("POST /api/v2/shared_servers"); n != 0 {
		t.Fatalf("%d share calls after Plex was found down", n)
	}
	// Next pass, within alice's backoff: dave's share gets a 503.
	h.clock.Add(10 * time.Second)
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 503, Count: 1})
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "second pass")
	if r := results(rep); r[daveID] != ResultRetry || rep.Retried != 0 {
		t.Fatalf("second pass = %+v", rep)
	}
	p := h.pending()
	if len(p) != 2 {
		t.Fatalf("pending = %+v", p)
	}
	for _, in := range p {
		if in.Attempts != 1 || !in.NotBefore.After(h.clock.Now()) || in.LastError == "" {
			t.Fatalf("intent = %+v", in)
		}
	}
	if h.user(daveID).Status != storage.StatusScheduled || h.user(aliceID).Status != storage.StatusActive {
		t.Fatal("the store changed although Plex did not")
	}
	if n := len(h.events(EventIntentRetry)); n != 2 {
		t.Fatalf("%d retry events", n)
	}
	// Before the backoffs have passed, the next pass neither retries nor plans the users again.
	h.fake.ResetCalls()
	h.clock.Add(10 * time.Second)
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce within the backoff")
	if len(h.fake.Calls()) != 0 || rep.Retried != 0 || len(rep.Planned) != 0 {
		t.Fatalf("pass within the backoff: %+v, %d calls", rep, len(h.fake.Calls()))
	}
	// Plex is back: exactly one more attempt each, then nothing pending.
	h.clock.Add(2 * time.Minute)
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce after recovery")
	if rep.Retried != 2 {
		t.Fatalf("retried %d: %+v", rep.Retried, rep)
	}
	if len(h.pending()) != 0 {
		t.Fatalf("pending after recovery: %+v", h.pending())
	}
	creates := h.fake.CallCount("POST /api/v2/shared_servers")
	deletes := h.fake.CallCount("DELETE /api/v2/shared_servers/{id}")
	if creates != 1 || deletes != 1 {
		t.Fatalf("after recovery: %d creations and %d deletions, want 1 and 1", creates, deletes)
	}
	// The share was made once; the removal happened once.
	dave := 0
	for _, sh := range h.fake.SharesFor(srvID) {
		if sh.UserID == daveID {
			dave++
		}
	}
	if dave != 1 {
		t.Fatalf("dave has %d shares", dave)
	}
	if _, ok := h.shareOf(aliceID); ok {
		t.Fatal("alice still shared")
	}
	if h.user(daveID).Status != storage.StatusPending || h.user(aliceID).Status != storage.StatusExpired {
		t.Fatalf("dave %s alice %s", h.user(daveID).Status, h.user(aliceID).Status)
	}
}

func TestShareThatReachedPlexBeforeAFailureIsNotDuplicated(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.put(storage.User{ID: daveID, Username: "dave", Email: "dave@example.com", Kind: storage.KindFriend, Status: storage.StatusActive})
	// The share is created on plex.tv but the answer is lost (the proxy times out after the fact).
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Latency: 3 * time.Second, Count: 1})
	_, err := h.svc.ApplyShare(h.ctx, "admin:root", daveID, srvID, storage.Share{Libraries: []string{"4"}}, "")
	if !errors.Is(err, ErrRetryScheduled) {
		t.Fatalf("err = %v, want a scheduled retry", err)
	}
	time.Sleep(1500 * time.Millisecond) // the fake finishes the request it held
	h.clock.Add(2 * time.Minute)
	_, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	n := 0
	for _, sh := range h.fake.SharesFor(srvID) {
		if sh.UserID == daveID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("dave has %d shares, want 1", n)
	}
	if u := h.user(daveID); u.Shares[srvID].ShareID == 0 || len(h.pending()) != 0 {
		t.Fatalf("dave = %+v, pending %d", u, len(h.pending()))
	}
}

func TestTokenRejectedRaisesAlert(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	h.fake.Inject(plextest.Fault{Route: "GET /api/users", Status: 401, Body: `{"errors":[{"code":1001,"message":"User could not be authenticated"}]}`})
	_, syncErr := h.svc.Sync(h.ctx, ActorSystem)
	if !errors.Is(syncErr, plex.ErrUnauthorized) {
		t.Fatalf("err = %v", syncErr)
	}
	health, err := h.svc.Health()
	mustOK(t, err, "Health")
	if health.TokenValid || health.TokenInvalidSince == nil || len(health.Alerts) == 0 {
		t.Fatalf("health = %+v", health)
	}
	// A second failure does not record a second alert; another Service sees the flag.
	_, _ = h.svc.Sync(h.ctx, ActorSystem)
	if n := len(h.events(EventTokenInvalid)); n != 1 {
		t.Fatalf("%d token events", n)
	}
	if other := h.newService(); !other.tokenBad.Load() {
		t.Fatal("a new Service does not know the token is bad")
	}
	if msg := Explain(syncErr); !contains(msg, "rejected the token") || contains(msg, h.fake.OwnerToken()) {
		t.Fatalf("explanation %q", msg)
	}
	// Changes wait instead of failing silently.
	h.fake.Inject(plextest.Fault{Route: "DELETE /api/v2/shared_servers/{id}", Status: 401, Count: 1})
	err = h.svc.RevokeShare(h.ctx, "admin:root", carolID, srvID, "")
	if !errors.Is(err, ErrRetryScheduled) || len(h.pending()) != 1 {
		t.Fatalf("revoke with a bad token: %v, pending %d", err, len(h.pending()))
	}
	// The token works again.
	h.fake.ClearFaults()
	_, err = h.svc.Sync(h.ctx, ActorSystem)
	mustOK(t, err, "sync")
	health, _ = h.svc.Health()
	if !health.TokenValid || len(h.events(EventTokenRestored)) != 1 {
		t.Fatalf("health after recovery = %+v", health)
	}
}

func TestResumeIntentsAfterCrash(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	u := h.user(aliceID)
	// Crash 1: the intent to expire alice was written, Plex was never called.
	o := op{Kind: ActionExpire, UserID: aliceID, Actor: ActorSystem, Reason: "window ended",
		Steps: []step{removeStep(u, srvID, true)},
		Final: final{Status: storage.StatusExpired, Event: EventUserExpired, Message: "Access of alice ended"}}
	_, err := h.svc.writeIntent(o, nil)
	mustOK(t, err, "writing intent 1")
	// Crash 2: the share for dave reached Plex, but the process died before recording it.
	h.put(storage.User{ID: daveID, Username: "dave", Email: "dave@example.com", Kind: storage.KindFriend, Status: storage.StatusScheduled,
		Shares: map[string]storage.Share{srvID: {Libraries: []string{"8"}}}})
	dave := h.user(daveID)
	st, err := shareStep(dave, storage.Server{ID: srvID, Libraries: []storage.Library{{Key: "8", SectionID: plextest.SectionTVShows}}}, []string{"8"}, false, storage.Filters{}, nil)
	mustOK(t, err, "shareStep")
	o2 := op{Kind: ActionStart, UserID: daveID, Actor: ActorSystem, Reason: "window started", Steps: []step{st},
		Final: final{Status: finalDerive, Event: EventUserStarted, Message: "Access of dave started"}}
	_, err = h.svc.writeIntent(o2, nil)
	mustOK(t, err, "writing intent 2")
	_, err = h.gw.Share(h.ctx, plex.ShareRequest{MachineID: srvID, InviteeID: daveID, SectionIDs: []int64{plextest.SectionTVShows}})
	mustOK(t, err, "the share that reached Plex")
	// Crash 3: an intent for a user deleted since: rolled back.
	h.put(storage.User{ID: 99, Username: "gone", Kind: storage.KindFriend, Status: storage.StatusActive})
	_, err = h.svc.writeIntent(op{Kind: ActionRevoke, UserID: 99, Steps: []step{{Call: callRemoveShare, ServerID: srvID, ShareID: 5}}}, nil)
	mustOK(t, err, "writing intent 3")
	mustOK(t, h.store.DeleteUser(99), "deleting user 99")

	// Restart: a new Service on the same store resumes.
	h.fake.ResetCalls()
	svc := h.newService()
	mustOK(t, svc.ResumeIntents(h.ctx), "ResumeIntents")
	if len(h.pending()) != 0 {
		t.Fatalf("pending after resume: %+v", h.pending())
	}
	if _, ok := h.shareOf(aliceID); ok {
		t.Fatal("alice still shared")
	}
	if a := h.user(aliceID); a.Status != storage.StatusExpired {
		t.Fatalf("alice = %s", a.Status)
	}
	d := h.user(daveID)
	sh, ok := h.shareOf(daveID)
	if !ok || d.Shares[srvID].ShareID != sh.ID || d.Status != storage.StatusPending {
		t.Fatalf("dave = %+v, fake %+v", d, sh)
	}
	n := 0
	for _, s := range h.fake.SharesFor(srvID) {
		if s.UserID == daveID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("dave has %d shares", n)
	}
	// Exactly: one removal for alice; for dave one 422 answer, one lookup, one update; nothing for 99.
	if got := h.fake.CallCount("DELETE /api/v2/shared_servers/{id}"); got != 1 {
		t.Fatalf("%d deletions", got)
	}
	if got := h.fake.CallCount("POST /api/v2/shared_servers"); got != 1 {
		t.Fatalf("%d creations", got)
	}
	if got := h.fake.CallCount("POST /api/v2/shared_servers/{id}"); got != 1 {
		t.Fatalf("%d updates", got)
	}
	if n := len(h.events(EventIntentRolledBack)); n != 1 {
		t.Fatalf("%d rolled back", n)
	}
	// Resuming again does nothing.
	h.fake.ResetCalls()
	mustOK(t, svc.ResumeIntents(h.ctx), "ResumeIntents again")
	if len(h.fake.Calls()) != 0 {
		t.Fatalf("second resume made %d calls", len(h.fake.Calls()))
	}
}

func TestCrashBetweenStepsResumesFromTheNextStep(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	u := h.user(aliceID)
	o := removalOp(u, "admin:root", "left", ActionRemoveUser, EventUserRemoved)
	in, err := h.svc.writeIntent(o, nil)
	mustOK(t, err, "intent")
	// The first step (remove the share) ran and was recorded; then the process died.
	mustOK(t, h.gw.RemoveShare(h.ctx, srvID, 907759180), "remove share")
	mustOK(t, h.svc.completeStep(in, &o, 0, stepResult{}), "complete step 0")
	h.fake.ResetCalls()
	mustOK(t, h.newService().ResumeIntents(h.ctx), "resume")
	calls := h.fake.Calls()
	if len(calls) != 1 || calls[0].Route != "DELETE /api/v2/sharings/{userId}" {
		t.Fatalf("calls after resume: %+v", calls)
	}
	if a := h.user(aliceID); a.Status != storage.StatusRemoved {
		t.Fatalf("alice = %s", a.Status)
	}
}

func TestConcurrentPassesOnTwoServices(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	h.seedUsers()
	for _, id := range []int64{aliceID, bobID, carolID} {
		_, err := h.svc.UpdateUser(h.ctx, "admin:root", id, UserPatch{ExpiresAt: tptr(t0.Add(time.Minute))})
		mustOK(t, err, "expiry")
	}
	h.clock.Set(t0.Add(time.Hour))
	other := h.newService() // the Service of an overlapping Caddy config
	errs := make(chan error, 4)
	for _, svc := range []*Service{h.svc, other, h.svc, other} {
		go func() {
			_, err := svc.Enforce(h.ctx, ActorSystem)
			errs <- err
		}()
	}
	for range 4 {
		mustOK(t, <-errs, "Enforce")
	}
	if n := h.fake.CallCount("DELETE /api/v2/shared_servers/{id}"); n != 3 {
		t.Fatalf("%d deletions for 3 expiries", n)
	}
	if n := len(h.events(EventUserExpired)); n != 3 {
		t.Fatalf("%d expired events", n)
	}
}

func TestRefusedScheduledChangeCoolsDown(t *testing.T) {
	h := newHarness(t, plextest.Seed{})
	start := t0.Add(time.Minute)
	_, err := h.svc.Grant(h.ctx, "admin:root", GrantRequest{UserID: daveID, Username: "dave", Libraries: map[string][]string{srvID: {"4"}}, StartsAt: &start})
	mustOK(t, err, "Grant")
	h.clock.Set(start)
	h.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 400, Count: 1,
		Body: `{"errors":[{"code":1001,"message":"User not found"}]}`})
	rep, err := h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce")
	if len(rep.Changes) != 1 || rep.Changes[0].Result != ResultFailed {
		t.Fatalf("report = %+v", rep)
	}
	if n := len(h.events(EventIntentFailed)); n != 1 {
		t.Fatalf("%d failure events", n)
	}
	// The next passes do not hammer Plex with the same refused change.
	h.fake.ResetCalls()
	for range 3 {
		h.clock.Add(time.Minute)
		rep, err = h.svc.Enforce(h.ctx, ActorSystem)
		mustOK(t, err, "Enforce in the cooldown")
		if len(rep.Planned) != 0 || len(rep.Changes) != 1 || rep.Changes[0].Result != ResultSkipped {
			t.Fatalf("report = %+v", rep)
		}
	}
	if len(h.fake.Calls()) != 0 {
		t.Fatalf("%d calls during the cooldown", len(h.fake.Calls()))
	}
	h.clock.Add(refusedCooldown)
	rep, err = h.svc.Enforce(h.ctx, ActorSystem)
	mustOK(t, err, "Enforce after the cooldown")
	if len(rep.Changes) != 1 || rep.Changes[0].Result != ResultDone {
		t.Fatalf("report = %+v", rep)
	}
	if _, ok := h.shareOf(daveID); !ok {
		t.Fatal("dave not shared after the cooldown")
	}
	cd, err := h.svc.cooldowns()
	mustOK(t, err, "cooldowns")
	if len(cd) != 0 {
		t.Fatalf("cooldowns left: %v", cd)
	}
}
