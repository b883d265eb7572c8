package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The crash test runs the release binary as a child process and kills it (SIGKILL) while Plex
// changes are under way, then restarts it on the same data directory.

// crashChild is one `caddy run` child process.
type crashChild struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	logsMu *sync.Mutex
	exited chan error
	// killedAt is when kill was called (zero until then).
	killMu   sync.Mutex
	killedAt time.Time
}

// lockedWriter serialises writes of the child's stdout and stderr into one buffer.
type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// startCrashChild starts the binary with caddyfile in runDir (its XDG directories stay the same
// across restarts) and waits until the REST API answers.
func startCrashChild(t *testing.T, bin, runDir, caddyfile string, api restAPI) *crashChild {
	t.Helper()
	cfg := filepath.Join(runDir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &crashChild{logs: &bytes.Buffer{}, logsMu: &sync.Mutex{}, exited: make(chan error, 1)}
	c.cmd = exec.Command(bin, "run", "--config", cfg)
	c.cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(runDir, "config"), "XDG_DATA_HOME="+filepath.Join(runDir, "data"))
	w := lockedWriter{mu: c.logsMu, buf: c.logs}
	c.cmd.Stdout, c.cmd.Stderr = w, w
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() { c.kill(); <-c.exitedOnce() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, err := api.try(http.MethodGet, "/schedule?limit=1", "")
		if err == nil && code == http.StatusOK {
			return c
		}
		select {
		case err := <-c.exited:
			c.exited <- err
			t.Fatalf("caddy exited early: %v\n%s", err, c.logTail(4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy did not come up (last: %d %v); logs:\n%s", code, err, c.logTail(4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill sends SIGKILL (once) and records when.
func (c *crashChild) kill() {
	c.killMu.Lock()
	defer c.killMu.Unlock()
	if !c.killedAt.IsZero() {
		return
	}
	c.killedAt = time.Now()
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
}

// killTime is when kill was called (zero if never).
func (c *crashChild) killTime() time.Time {
	c.killMu.Lock()
	defer c.killMu.Unlock()
	return c.killedAt
}

// exitedOnce returns a channel that yields once the process has exited (and keeps yielding).
func (c *crashChild) exitedOnce() <-chan error {
	out := make(chan error, 1)
	go func() {
		err := <-c.exited
		c.exited <- err
		out <- err
	}()
	return out
}

// stop asks the child to exit (SIGINT) and waits.
func (c *crashChild) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-c.exitedOnce():
		if err != nil {
			t.Errorf("caddy exited with %v on SIGINT", err)
		}
	case <-time.After(30 * time.Second):
		c.kill()
		t.Errorf("caddy did not stop on SIGINT; logs:\n%s", c.logTail(4000))
	}
}

// logTail returns the last n bytes of the child's output.
func (c *crashChild) logTail(n int) string {
	c.logsMu.Lock()
	defer c.logsMu.Unlock()
	b := c.logs.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// crashMoment is when a round kills Caddy.
type crashMoment struct {
	name string
	// applied: kill once the fake has carried out a call of this kind ("create", "update",
	// "remove"), before the answer leaves for Caddy.
	applied string
	// inFlight: kill while a call of this route waits in the fake (Latency), before it is carried out.
	inFlight string
	// latency is injected on every share-changing route for the round.
	latency time.Duration
	// random: kill at a random moment up to this long after the round's changes were made.
	random time.Duration
	// atStart: install the round's faults before Caddy starts (the resume of earlier rounds'
	// changes is what gets killed).
	atStart bool
}

// crashMoments are the rounds of TestCrashRecovery.
var crashMoments = []crashMoment{
	{name: "after Plex created a share, before Caddy heard", applied: "create"},
	{name: "after Plex removed a share, before Caddy heard", applied: "remove"},
	{name: "after Plex updated a share, before Caddy heard", applied: "update"},
	{name: "while a removal waits in Plex", inFlight: routeRemove, latency: 1500 * time.Millisecond},
	{name: "while a creation waits in Plex", inFlight: routeCreate, latency: 1500 * time.Millisecond},
	{name: "at a random moment", random: 2500 * time.Millisecond, latency: 400 * time.Millisecond},
	{name: "during the start-up resume", inFlight: "*", latency: 1500 * time.Millisecond, atStart: true},
}

// crashKillWait bounds how long a round waits for its kill moment before killing anyway.
const crashKillWait = 15 * time.Second

// crashUsers are the people of one round: a friend whose access expires (removal by the
// enforcement pass), a friend whose libraries change (update, at once), a friend removed by an
// admin (removal and unfriending, at once) and an account invited with a start (creation by the
// enforcement pass).
type crashUsers struct {
	expire, update, remove plextest.Account
	invite                 plextest.Account
}

// crashSeed builds SeedMinimal plus rounds×3 friends with a Movies share and rounds accounts to
// invite.
func crashSeed(rounds int) (plextest.Seed, []crashUsers) {
	seed := plextest.SeedMinimal()
	var out []crashUsers
	id := int64(61000000)
	account := func(role string, r int) plextest.Account {
		id++
		name := fmt.Sprintf("%s%d", role, r)
		return plextest.Account{ID: id, UUID: fmt.Sprintf("%016x", id), Username: name, Email: name + "@example.com", Token: name + "-token"}
	}
	for r := range rounds {
		u := crashUsers{expire: account("exp", r), update: account("upd", r), remove: account("rem", r), invite: account("inv", r)}
		for _, acc := range []plextest.Account{u.expire, u.update, u.remove} {
			seed.Accounts = append(seed.Accounts, acc)
			seed.Shares = append(seed.Shares, plextest.Share{ID: 970000000 + acc.ID, MachineID: plextest.MinimalMachineID,
				UserID: acc.ID, SectionIDs: []int64{plextest.SectionMovies}})
		}
		seed.Accounts = append(seed.Accounts, u.invite)
		out = append(out, u)
	}
	return seed, out
}

// crashAck is what the admin was told about one change.
type crashAck struct {
	what string
	code int // 0: the call died with Caddy
}

// TestCrashRecovery runs the release binary against a plextest fake served by the test on loopback,
// makes changes due (expiries and scheduled starts for the enforcement pass, library edits and
// removals by the admin) and SIGKILLs Caddy at a different moment each round — after Plex carried a
// change out but before Caddy heard, while a call waits in Plex, at random, during the start-up
// resume — restarting it on the same data directory. After the last round Caddy runs undisturbed
// until the engine settles; then the fake and the store agree for every user, every change the
// admin was told about is there, nothing was done twice on Plex, and a further restart changes
// nothing.
func TestCrashRecovery(t *testing.T) {
	buildStart := time.Now()
	bin := buildCaddy(t)
	t.Logf("the binary was ready in %s", time.Since(buildStart).Round(100*time.Millisecond))
	rounds := len(crashMoments)
	seed, people := crashSeed(rounds)
	front := newPlexFront(t, plextest.Options{Seed: seed})
	fake := front.fake
	shareOwner := map[int64]string{}
	for _, sh := range fake.Shares() {
		shareOwner[sh.ID] = fmt.Sprint(sh.UserID)
	}

	runDir := testDir(t, "run")
	dataDir := filepath.Join(testDir(t, "pm"), "data")
	adminPort, httpPort := freePort(t), freePort(t)
	caddyfile := fmt.Sprintf(`{
	admin 127.0.0.1:%d
	http_port %d
	persist_config off
%s
}

http://127.0.0.1:%d {
	handle /manage/* {
		plex_manager admin {
			base_path /manage
		}
	}
}
`, adminPort, httpPort, indent(enginePluginBlock(fake.URL(), fake.OwnerToken(), dataDir)), httpPort)
	api := newRESTAPI(fmt.Sprintf("http://127.0.0.1:%d/manage/api/v1", httpPort), 60*time.Second)

	// The first start adopts everyone.
	child := startCrashChild(t, bin, runDir, caddyfile, api)
	var allIDs []int64
	for _, u := range people {
		allIDs = append(allIDs, u.expire.ID, u.update.ID, u.remove.ID)
	}
	waitAdopted(t, api, allIDs...)
	child.kill()
	<-child.exitedOnce()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acks := map[int64][]crashAck{}
	var acksMu sync.Mutex
	ack := func(id int64, what string, code int) {
		acksMu.Lock()
		acks[id] = append(acks[id], crashAck{what: what, code: code})
		acksMu.Unlock()
	}
	testStart := time.Now()
	for r, m := range crashMoments {
		u := people[r]
		callsBefore := len(fake.Calls())
		var once sync.Once
		fired := make(chan string, 1)
		var current *crashChild
		var childMu sync.Mutex
		killNow := func(why string) {
			once.Do(func() {
				childMu.Lock()
				c := current
				childMu.Unlock()
				if c != nil {
					c.kill()
				}
				fired <- why
			})
		}
		installFaults := func() {
			if m.latency > 0 {
				for _, route := range []string{routeCreate, routeUpdate, routeRemove, routeUnfriend} {
					fake.Inject(plextest.Fault{Route: route, Latency: m.latency})
				}
			}
			if m.applied != "" {
				front.setAfter(func(r *http.Request, status int) bool {
					if shareChange(r) == m.applied && status >= 200 && status < 300 {
						killNow(fmt.Sprintf("Plex answered %d to %s %s", status, r.Method, r.URL.Path))
						return true
					}
					return false
				})
			}
		}
		if m.atStart {
			installFaults()
		}
		roundStart := time.Now()
		c := startCrashChild(t, bin, runDir, caddyfile, api)
		childMu.Lock()
		current = c
		childMu.Unlock()
		ready := time.Since(roundStart)
		if !m.atStart {
			// The previous round's interrupted changes are finished first (ResumeIntents at start),
			// so this round's kill lands on this round's own changes.
			waitFor(t, 20*time.Second, "the resume of the previous round's changes", func() (bool, string) {
				h := api.health(t)
				return h.PendingIntents == 0, fmt.Sprintf("%d pending intents", h.PendingIntents)
			})
			installFaults()
		}

		// The round's changes: an expiry and a start for the enforcement pass (stored at once, no
		// Plex call), then the admin's library edit and removal, which call Plex at once and may be
		// cut short by the kill.
		due := time.Now().Add(1500 * time.Millisecond)
		var wg sync.WaitGroup
		change := func(id int64, what, method, path, body string) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, err := api.try(method, path, body)
				if err != nil {
					code = 0
				}
				ack(id, what, code)
			}()
		}
		change(u.expire.ID, "expire", http.MethodPatch, fmt.Sprintf("/users/%d", u.expire.ID), fmt.Sprintf(`{"expires_at":%q}`, rfc3339(due)))
		change(u.invite.ID, "invite", http.MethodPost, "/users/invite", fmt.Sprintf(`{"invitee":%q,"libraries":{%q:["4","8"]},"starts_at":%q}`,
			u.invite.Username, plextest.MinimalMachineID, rfc3339(due)))
		if !m.atStart {
			wg.Wait()
		}
		change(u.update.ID, "update", http.MethodPatch, fmt.Sprintf("/users/%d", u.update.ID),
			fmt.Sprintf(`{"libraries":{%q:["1","8"]}}`, plextest.MinimalMachineID))
		change(u.remove.ID, "remove", http.MethodDelete, fmt.Sprintf("/users/%d?reason=crash+test", u.remove.ID), "")

		// Wait for the kill moment.
		var killWhy string
		watchDone := make(chan struct{})
		if m.inFlight != "" {
			go func() {
				for {
					select {
					case <-watchDone:
						return
					default:
					}
					calls := fake.Calls()
					for _, cl := range calls[min(callsBefore, len(calls)):] {
						if cl.Status == 0 && (cl.Route == m.inFlight || (m.inFlight == "*" && isShareRoute(cl.Route))) {
							killNow(fmt.Sprintf("%s waiting in Plex", cl.Route))
							return
						}
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		if m.random > 0 {
			d := time.Duration(rng.Int64N(int64(m.random)))
			go func() {
				select {
				case <-watchDone:
				case <-time.After(d):
					killNow(fmt.Sprintf("%s after the changes", d.Round(time.Millisecond)))
				}
			}()
		}
		select {
		case killWhy = <-fired:
		case <-time.After(crashKillWait):
			killNow("no kill moment within " + crashKillWait.String())
			killWhy = <-fired
			t.Logf("round %d (%s): the moment did not come; killed anyway", r, m.name)
		}
		close(watchDone)
		c.kill() // already done by killNow; makes sure
		<-c.exitedOnce()
		wg.Wait()
		front.setAfter(nil)
		fake.ClearFaults()
		alive := c.killTime().Sub(roundStart)
		var told []string
		for _, acc := range []plextest.Account{u.expire, u.invite, u.update, u.remove} {
			for _, a := range acks[acc.ID] {
				told = append(told, fmt.Sprintf("%s %d", a.what, a.code))
			}
		}
		t.Logf("round %d: killed %s: %s (ready after %s, killed %s after start, %d Plex calls; answers: %s)",
			r, m.name, killWhy, ready.Round(time.Millisecond), alive.Round(time.Millisecond), len(fake.Calls())-callsBefore,
			strings.Join(told, ", "))
	}
	t.Logf("%d crash rounds took %s", rounds, time.Since(testStart).Round(100*time.Millisecond))

	// Undisturbed: the engine settles.
	settleStart := time.Now()
	child = startCrashChild(t, bin, runDir, caddyfile, api)
	waitFor(t, 60*time.Second, "the engine to settle after the crashes", func() (bool, string) {
		if h := api.health(t); h.PendingIntents != 0 {
			return false, fmt.Sprintf("%d pending intents", h.PendingIntents)
		}
		var wrong []string
		acksMu.Lock()
		defer acksMu.Unlock()
		for _, u := range people {
			if acked(acks[u.expire.ID]) {
				if _, ok := fakeShare(fake, u.expire.ID); ok {
					wrong = append(wrong, u.expire.Username+" still shared")
				}
			}
			if acked(acks[u.invite.ID]) {
				if _, ok := fakeShare(fake, u.invite.ID); !ok {
					wrong = append(wrong, u.invite.Username+" not shared")
				}
			}
		}
		return len(wrong) == 0, strings.Join(wrong, ", ")
	})
	// One more sync and a few enforcement passes.
	time.Sleep(engineSyncEvery + engineEnforceEvery + 500*time.Millisecond)
	t.Logf("settled %s after the last restart", time.Since(settleStart).Round(100*time.Millisecond))

	// The store and Plex agree, user by user.
	for _, u := range people {
		for _, acc := range []plextest.Account{u.expire, u.update, u.remove, u.invite} {
			checkAgreement(t, api, fake, acc, acks[acc.ID])
		}
	}
	if h := api.health(t); h.PendingIntents != 0 {
		t.Errorf("pending intents after settling: %d", h.PendingIntents)
	}
	if evs := api.events(t, "type=intent.failed"); len(evs) != 0 {
		for _, ev := range evs {
			t.Errorf("intent failed: user %d: %s", ev.UserID, ev.Message)
		}
	}
	rolledBack := api.events(t, "type=intent.rolled_back")

	calls := fake.Calls()
	for _, d := range duplicateChanges(calls, shareOwner) {
		t.Errorf("done twice on Plex: %s", d)
	}
	for _, u := range unresolved422(fake, calls) {
		t.Errorf("duplicate creation not resolved: %s", u)
	}
	stats := shareCallStats(calls)
	t.Logf("share calls over the whole test (%d intents rolled back):", len(rolledBack))
	logRouteStats(t, stats)
	if s := stats[routeCreate]; s.Dup422 == 0 {
		t.Errorf("creations: %s; want at least one 422 (a creation Plex carried out before the crash, repeated at resume)", s)
	}

	// A clean restart of a settled instance changes nothing on Plex.
	child.stop(t)
	before := len(fake.Calls())
	child = startCrashChild(t, bin, runDir, caddyfile, api)
	time.Sleep(engineSyncEvery + 2*engineEnforceEvery + 500*time.Millisecond)
	for _, cl := range fake.Calls()[before:] {
		if isShareRoute(cl.Route) {
			t.Errorf("a restart of a settled instance called %s %s (%d)", cl.Method, cl.Path, cl.Status)
		}
	}
	child.stop(t)
	if t.Failed() {
		t.Logf("last child's log:\n%s", child.logTail(6000))
	}
}

// acked reports whether the admin was told a change was made or kept (2xx).
func acked(acks []crashAck) bool {
	for _, a := range acks {
		if a.code >= 200 && a.code < 300 {
			return true
		}
	}
	return false
}

// isShareRoute reports whether a fake route changes sharing.
func isShareRoute(route string) bool {
	return route == routeCreate || route == routeUpdate || route == routeRemove || route == routeUnfriend
}

// checkAgreement compares one user in the store with Plex: a user with access (active or pending)
// has exactly the stored libraries shared, any other status has no share; and every change the admin
// was told about (200, 202, 204) is in effect.
func checkAgreement(t *testing.T, api restAPI, fake *plextest.Fake, acc plextest.Account, acks []crashAck) {
	t.Helper()
	u, ok := api.user(t, acc.ID)
	if !ok {
		u, ok = api.userByName(t, acc.Username)
	}
	sh, shared := fakeShare(fake, acc.ID)
	if n := fakeSharesOf(fake, acc.ID); n > 1 {
		t.Errorf("%s has %d shares on Plex", acc.Username, n)
	}
	if !ok {
		if shared {
			t.Errorf("%s is shared on Plex (%+v) but unknown to the store", acc.Username, sh)
		}
		for _, a := range acks {
			if a.code >= 200 && a.code < 300 {
				t.Errorf("%s: the %s was acknowledged (%d) but the user is unknown", acc.Username, a.what, a.code)
			}
		}
		return
	}
	stored, hasStored := u.Shares[plextest.MinimalMachineID]
	now := time.Now()
	if u.ExpiresAt != nil && u.ExpiresAt.Before(now) && u.Status != storage.StatusExpired && u.Status != storage.StatusRemoved {
		t.Errorf("%s: expired at %s but status %s", acc.Username, u.ExpiresAt.Format(time.RFC3339Nano), u.Status)
	}
	if u.StartsAt != nil && u.StartsAt.Before(now) && u.Status == storage.StatusScheduled {
		t.Errorf("%s: started at %s but still scheduled", acc.Username, u.StartsAt.Format(time.RFC3339Nano))
	}
	switch u.Status {
	case storage.StatusActive, storage.StatusPending:
		if !shared || !hasStored {
			t.Errorf("%s: store says %s with %+v, Plex share present %v", acc.Username, u.Status, u.Shares, shared)
			break
		}
		if want := plextest.MinimalSectionIDs(stored.Libraries...); !slices.Equal(sectionSet(sh.SectionIDs), want) {
			t.Errorf("%s: store has libraries %v, Plex has sections %v", acc.Username, stored.Libraries, sh.SectionIDs)
		}
		if stored.Pending != sh.Pending {
			t.Errorf("%s: store pending %v, Plex pending %v", acc.Username, stored.Pending, sh.Pending)
		}
	default:
		if shared {
			t.Errorf("%s: store says %s, but Plex still has %+v", acc.Username, u.Status, sh)
		}
	}
	for _, a := range acks {
		if a.code < 200 || a.code >= 300 {
			continue
		}
		switch a.what {
		case "expire":
			if u.Status != storage.StatusExpired {
				t.Errorf("%s: expiry acknowledged (%d), status %s", acc.Username, a.code, u.Status)
			}
		case "invite":
			if u.Status != storage.StatusPending && u.Status != storage.StatusActive {
				t.Errorf("%s: scheduled invitation acknowledged (%d), status %s", acc.Username, a.code, u.Status)
			}
		case "update":
			if !slices.Equal(stored.Libraries, []string{"1", "8"}) {
				t.Errorf("%s: library edit acknowledged (%d), stored libraries %v", acc.Username, a.code, stored.Libraries)
			}
		case "remove":
			if u.Status != storage.StatusRemoved {
				t.Errorf("%s: removal acknowledged (%d), status %s", acc.Username, a.code, u.Status)
			}
		}
	}
}
