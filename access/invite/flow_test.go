package invite

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite/discord"
	"github.com/plex-manager/caddy-plex-manager/access/invite/discordtest"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

const (
	forward         = "https://join.example.com/abc/callback"
	discordRedirect = "https://join.example.com/discord/callback"
)

// flowHarness adds a Flow (and optionally a fake Discord) to the harness.
type flowHarness struct {
	*harness
	flow    *Flow
	discord *discordtest.Server
}

func newFlowHarness(t *testing.T, withDiscord bool) *flowHarness {
	t.Helper()
	fh := &flowHarness{harness: newHarness(t)}
	opts := FlowOptions{Service: fh.svc, Plex: fh.client}
	if withDiscord {
		fh.discord = discordtest.NewServer(t, discordtest.Options{RequirePKCE: true})
		p, err := discord.New(discord.Config{ClientID: fh.discord.ClientID(), ClientSecret: fh.discord.ClientSecret(),
			AuthURL:  fh.discord.AuthURL(),
			TokenURL: fh.discord.TokenURL(), APIURL: fh.discord.APIURL()})
		if err != nil {
			t.Fatal(err)
		}
		opts.Discord = p
	}
	var err error
	if fh.flow, err = NewFlow(opts); err != nil {
		t.Fatal(err)
	}
	return fh
}

// pinCode reads the PIN code and forward URL from an auth app URL ({auth}#?clientID=…&code=…).
func pinCode(t *testing.T, authURL string) (code, fwd string) {
	t.Helper()
	_, frag, ok := strings.Cut(authURL, "#?")
	if !ok {
		t.Fatalf("auth URL %q has no #? fragment", authURL)
	}
	q, err := url.ParseQuery(frag)
	if err != nil {
		t.Fatal(err)
	}
	return q.Get("code"), q.Get("forwardUrl")
}

// begin starts a flow for inv and returns the step and the PIN code.
func (fh *flowHarness) begin(t *testing.T, inv storage.Invite) (Step, string) {
	t.Helper()
	st, err := fh.flow.Begin(fh.ctx, inv, forward, "198.51.100.4")
	if err != nil {
		t.Fatal(err)
	}
	if st.Kind != StepRedirect || !strings.HasPrefix(st.URL, fh.fake.AuthURL()+"#?") || !validKey(st.Key) {
		t.Fatalf("begin step %+v", st)
	}
	code, fwd := pinCode(t, st.URL)
	if fwd != forward+"?state="+st.Key {
		t.Fatalf("forward URL %q, want the callback with state", fwd)
	}
	return st, code
}

// resume calls Resume after two seconds of fake time (the fake refuses PIN polls closer than its
// poll interval, measured on the fake clock).
func (fh *flowHarness) resume(key, state string) (Step, error) {
	fh.clock.Add(2 * time.Second)
	return fh.flow.Resume(fh.ctx, key, state)
}

// storedToken reports whether the stored flow still holds a Plex token.
func (fh *flowHarness) storedToken(t *testing.T, key string) bool {
	t.Helper()
	rec, err := fh.flow.peek(key)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Session != nil && rec.Session.Token != ""
}

func TestFlowPlexOnly(t *testing.T) {
	fh := newFlowHarness(t, false)
	inv := fh.create(Spec{Enabled: true})
	st, code := fh.begin(t, inv)
	if got, err := fh.resume(st.Key, st.Key); err != nil || got.Kind != StepWait {
		t.Fatalf("before the sign-in: %+v %v", got, err)
	}
	if _, err := fh.resume(st.Key, "other-state"); !errors.Is(err, ErrFlowNotFound) {
		t.Fatalf("wrong state: %v", err)
	}
	if _, err := fh.resume(newKey(), ""); !errors.Is(err, ErrFlowNotFound) {
		t.Fatalf("unknown flow: %v", err)
	}
	if err := fh.fake.ClaimPIN(code, daveID); err != nil {
		t.Fatal(err)
	}
	done, err := fh.resume(st.Key, st.Key)
	if err != nil || done.Kind != StepDone || done.Result == nil || done.Result.Outcome != OutcomeJoined {
		t.Fatalf("after the sign-in: %+v %v", done, err)
	}
	if _, ok := fh.fake.ShareOf(srvID, daveID); !ok {
		t.Fatal("no share")
	}
	if fh.storedToken(t, st.Key) {
		t.Fatal("the invitee's token is still stored after the redemption")
	}
	// A refresh shows the result again without redeeming twice.
	again, err := fh.resume(st.Key, st.Key)
	if err != nil || again.Kind != StepDone || fh.fake.CallCount("POST /api/v2/shared_servers") != 1 {
		t.Fatalf("refresh: %+v %v (%d share calls)", again, err, fh.fake.CallCount("POST /api/v2/shared_servers"))
	}
	reds := fh.redemptions(inv.ID)
	if len(reds) != 1 || reds[0].IP != "198.51.100.4" {
		t.Fatalf("redemptions %+v", reds)
	}
}

func TestFlowRefusesUnusableInviteAndTimesOut(t *testing.T) {
	fh := newFlowHarness(t, false)
	off := fh.create(Spec{Enabled: false})
	if _, err := fh.flow.Begin(fh.ctx, off, forward, ""); !errors.Is(err, ErrUnusable) {
		t.Fatalf("disabled invite: %v", err)
	}
	inv := fh.create(Spec{Enabled: true})
	st, _ := fh.begin(t, inv)
	fh.clock.Add(DefaultFlowTTL + time.Minute)
	got, err := fh.resume(st.Key, st.Key)
	if err != nil || got.Kind != StepFailed || !strings.Contains(got.Reason, "too long") {
		t.Fatalf("after the deadline: %+v %v", got, err)
	}
}

func TestFlowInviteDisabledDuringSignIn(t *testing.T) {
	fh := newFlowHarness(t, false)
	inv := fh.create(Spec{Enabled: true})
	st, code := fh.begin(t, inv)
	if _, err := fh.svc.SetEnabled(fh.ctx, "admin:x", inv.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := fh.fake.ClaimPIN(code, daveID); err != nil {
		t.Fatal(err)
	}
	got, err := fh.resume(st.Key, st.Key)
	if err != nil || got.Kind != StepFailed || got.Reason != Explain(ErrUnusable) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, ok := fh.fake.ShareOf(srvID, daveID); ok {
		t.Fatal("shared through a disabled invite")
	}
}

func TestFlowPlexFaults(t *testing.T) {
	t.Run("PIN creation", func(t *testing.T) {
		fh := newFlowHarness(t, false)
		inv := fh.create(Spec{Enabled: true})
		fh.fake.Inject(plextest.Fault{Route: "POST /api/v2/pins", Status: 503})
		if _, err := fh.flow.Begin(fh.ctx, inv, forward, ""); err == nil {
			t.Fatal("Begin succeeded without a PIN")
		}
		if got := fh.invite(inv.ID).Uses; got != 0 {
			t.Fatalf("uses %d", got)
		}
	})
	t.Run("PIN check outage waits", func(t *testing.T) {
		fh := newFlowHarness(t, false)
		inv := fh.create(Spec{Enabled: true})
		st, code := fh.begin(t, inv)
		_ = fh.fake.ClaimPIN(code, daveID)
		fh.fake.Inject(plextest.Fault{Route: "GET /api/v2/pins/{id}", Status: 503, Count: 1})
		if got, err := fh.resume(st.Key, st.Key); err != nil || got.Kind != StepWait {
			t.Fatalf("outage: %+v %v", got, err)
		}
		if got, err := fh.resume(st.Key, st.Key); err != nil || got.Kind != StepDone {
			t.Fatalf("after the outage: %+v %v", got, err)
		}
	})
	t.Run("account refused", func(t *testing.T) {
		fh := newFlowHarness(t, false)
		inv := fh.create(Spec{Enabled: true})
		st, code := fh.begin(t, inv)
		_ = fh.fake.ClaimPIN(code, daveID)
		fh.fake.Inject(plextest.Fault{Route: "GET /api/v2/user", Status: 401})
		got, err := fh.resume(st.Key, st.Key)
		if err != nil || got.Kind != StepFailed || fh.storedToken(t, st.Key) {
			t.Fatalf("%+v %v", got, err)
		}
		if fh.invite(inv.ID).Uses != 0 {
			t.Fatal("a use was taken")
		}
	})
	t.Run("share refused", func(t *testing.T) {
		fh := newFlowHarness(t, false)
		inv := fh.create(Spec{Enabled: true})
		st, code := fh.begin(t, inv)
		_ = fh.fake.ClaimPIN(code, daveID)
		fh.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 403, Body: `{"errors":[{"code":1001,"message":"no"}]}`})
		got, err := fh.resume(st.Key, st.Key)
		if err != nil || got.Kind != StepFailed || got.Reason == "" || fh.storedToken(t, st.Key) {
			t.Fatalf("%+v %v", got, err)
		}
		if fh.invite(inv.ID).Uses != 0 {
			t.Fatal("the use was not released")
		}
	})
}

// followDiscord follows a Discord authorization URL like a browser and returns the callback's query.
func followDiscord(t *testing.T, authURL string) url.Values {
	t.Helper()
	return discordtest.Authorize(t, authURL).Query()
}

func TestFlowDiscordRequiredWithGuild(t *testing.T) {
	fh := newFlowHarness(t, true)
	const guild = "300000000000000001"
	user := fh.discord.AddUser(discordtest.User{ID: "200000000000000001", Username: "dave_d", Guilds: []string{"300000000000000009"}})
	inv := fh.create(Spec{Enabled: true, Discord: storage.DiscordRequired, DiscordGuildID: guild})
	st, code := fh.begin(t, inv)
	_ = fh.fake.ClaimPIN(code, daveID)
	got, err := fh.resume(st.Key, st.Key)
	if err != nil || got.Kind != StepDiscord || !got.DiscordRequired {
		t.Fatalf("after Plex: %+v %v", got, err)
	}
	if _, err := fh.flow.SkipDiscord(fh.ctx, st.Key); err != nil {
		t.Fatal(err)
	}
	if _, ok := fh.fake.ShareOf(srvID, daveID); ok {
		t.Fatal("skipping a required Discord shared")
	}
	// Not in the guild yet: the person is told and may try again.
	red, err := fh.flow.StartDiscord(fh.ctx, st.Key, discordRedirect)
	if err != nil || red.Kind != StepRedirect || !strings.HasPrefix(red.URL, fh.discord.AuthURL()) {
		t.Fatalf("start Discord: %+v %v", red, err)
	}
	q := followDiscord(t, red.URL)
	got, err = fh.flow.DiscordReturn(fh.ctx, st.Key, q.Get("state"), q.Get("code"), q.Get("error"))
	if err != nil || got.Kind != StepDiscord || !strings.Contains(got.Reason, "not a member") {
		t.Fatalf("outside the guild: %+v %v", got, err)
	}
	// Replaying the used state is refused.
	if _, err := fh.flow.DiscordReturn(fh.ctx, st.Key, q.Get("state"), q.Get("code"), ""); !errors.Is(err, ErrFlowNotFound) {
		t.Fatalf("replayed state: %v", err)
	}
	user.Guilds = append(user.Guilds, guild)
	fh.discord.AddUser(user)
	red, _ = fh.flow.StartDiscord(fh.ctx, st.Key, discordRedirect)
	q = followDiscord(t, red.URL)
	got, err = fh.flow.DiscordReturn(fh.ctx, st.Key, q.Get("state"), q.Get("code"), "")
	if err != nil || got.Kind != StepDone {
		t.Fatalf("inside the guild: %+v %v", got, err)
	}
	u, _ := fh.store.GetUser(daveID)
	if u.DiscordID != user.ID || u.DiscordName != "dave_d" {
		t.Fatalf("user %+v", u)
	}
	if _, ok := fh.fake.ShareOf(srvID, daveID); !ok {
		t.Fatal("no share")
	}
}

func TestFlowDiscordOptional(t *testing.T) {
	fh := newFlowHarness(t, true)
	fh.discord.AddUser(discordtest.User{ID: "200000000000000002"})
	inv := fh.create(Spec{Enabled: true, Discord: storage.DiscordOptional})

	// Cancelled at Discord, then skipped.
	st, code := fh.begin(t, inv)
	_ = fh.fake.ClaimPIN(code, daveID)
	if got, _ := fh.resume(st.Key, st.Key); got.Kind != StepDiscord || got.DiscordRequired {
		t.Fatalf("after Plex: %+v", got)
	}
	fh.discord.Deny()
	red, _ := fh.flow.StartDiscord(fh.ctx, st.Key, discordRedirect)
	q := followDiscord(t, red.URL)
	got, err := fh.flow.DiscordReturn(fh.ctx, st.Key, q.Get("state"), q.Get("code"), q.Get("error"))
	if err != nil || got.Kind != StepDiscord || !strings.Contains(got.Reason, "cancelled") {
		t.Fatalf("denied: %+v %v", got, err)
	}
	got, err = fh.flow.SkipDiscord(fh.ctx, st.Key)
	if err != nil || got.Kind != StepDone {
		t.Fatalf("skip: %+v %v", got, err)
	}
	if u, _ := fh.store.GetUser(daveID); u.DiscordID != "" {
		t.Fatal("a Discord id was recorded without Discord")
	}
}

func TestFlowRecordHoldsNoTokenInTheClear(t *testing.T) {
	// The token is stored between sign-in and redemption only: a flow waiting for Discord has it,
	// a finished one does not (checked in TestFlowPlexOnly); here: the stored JSON never carries
	// the PKCE verifier or token once done.
	fh := newFlowHarness(t, true)
	fh.discord.AddUser(discordtest.User{ID: "200000000000000003"})
	inv := fh.create(Spec{Enabled: true, Discord: storage.DiscordOptional})
	st, code := fh.begin(t, inv)
	_ = fh.fake.ClaimPIN(code, daveID)
	_, _ = fh.resume(st.Key, st.Key)
	if !fh.storedToken(t, st.Key) {
		t.Fatal("the token is needed until the redemption")
	}
	if _, err := fh.flow.SkipDiscord(fh.ctx, st.Key); err != nil {
		t.Fatal(err)
	}
	rec, _ := fh.flow.peek(st.Key)
	b, _ := json.Marshal(rec)
	if strings.Contains(string(b), "dave-token") || rec.Verifier != "" {
		t.Fatalf("finished flow still holds secrets: %s", b)
	}
}
