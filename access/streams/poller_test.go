package streams

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func TestSessionsAppearAndDisappear(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.poll(t)
	snaps := e.poller.Snapshots()
	if len(snaps) != 1 || !snaps[0].Online || snaps[0].Name != "Basement" || len(snaps[0].Streams) != 0 {
		t.Fatalf("empty server snapshot = %+v", snaps)
	}

	alice := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Harbor Lights", Type: "movie",
		VideoResolution: "1080", Player: "Living Room TV", Platform: "Roku", Local: true, ViewOffset: 1_800_000, Duration: 3_600_000, Bandwidth: 8000})
	e.fake.StartSession(machineID, plextest.Session{AccountID: 1, Title: "Shiva", GrandparentTitle: "Talking Dead", Type: "episode",
		Transcode: true, Address: "203.0.113.9", Bandwidth: 3000})
	started := e.clock.Now()
	rep := e.poll(t)
	if rep.Servers != 1 || rep.Streams != 2 || rep.Failed != 0 {
		t.Fatalf("report = %+v", rep)
	}
	got := e.poller.Streams()
	if len(got) != 2 {
		t.Fatalf("streams = %+v", got)
	}
	a, ok := e.poller.Stream(machineID, alice.ID)
	if !ok {
		t.Fatalf("alice's stream %s not in the snapshot", alice.ID)
	}
	if a.UserID != aliceID || !a.Known || a.Username != "alice" || a.Owner {
		t.Errorf("alice's user = %d %v %q owner=%v", a.UserID, a.Known, a.Username, a.Owner)
	}
	if a.Title != "Harbor Lights (2016)" || a.Media.Type != "movie" || !strings.HasPrefix(a.Media.Thumb, "/library/metadata/") {
		t.Errorf("alice's media = %q %+v", a.Title, a.Media)
	}
	if a.Player.Title != "Living Room TV" || a.Player.Platform != "Roku" || !a.Player.Local || a.Remote() {
		t.Errorf("alice's player = %+v", a.Player)
	}
	if a.Progress != 50 || a.Position != 1800 || a.Duration != 3600 || a.State != "playing" {
		t.Errorf("alice's progress = %v %d/%d %s", a.Progress, a.Position, a.Duration, a.State)
	}
	if a.Decision != "direct play" || a.Transcode != nil || a.Quality.Resolution != "1080" || a.Quality.SourceResolution != "1080" || a.Bandwidth != 8000 {
		t.Errorf("alice's quality = %s %+v %+v %d", a.Decision, a.Transcode, a.Quality, a.Bandwidth)
	}
	if !a.StartedAt.Equal(started) || !a.CanTerminate() {
		t.Errorf("alice's start = %v, terminable %v", a.StartedAt, a.CanTerminate())
	}
	var o Stream
	for _, s := range got {
		if s.Owner {
			o = s
		}
	}
	if o.UserID != ownerID || o.Username != "owner" || o.Known || !o.Remote() {
		t.Errorf("owner's stream = %+v", o)
	}
	if o.Title != "Talking Dead — S01E02 — Shiva" || o.Decision != "transcode" || o.Transcode == nil || o.Transcode.VideoDecision != "transcode" || o.Transcode.Speed != 1.8 {
		t.Errorf("owner's stream media = %q %s %+v", o.Title, o.Decision, o.Transcode)
	}
	tot := e.poller.Snapshots()[0].Totals
	if tot != (Totals{Streams: 2, Transcodes: 1, DirectPlays: 1, Bandwidth: 11000, LANBandwidth: 8000, WANBandwidth: 3000}) {
		t.Errorf("totals = %+v", tot)
	}
	if marks := e.activity.of(aliceID); len(marks) != 1 || !marks[0].Equal(started) {
		t.Errorf("alice's activity = %v", marks)
	}
	if marks := e.activity.of(ownerID); len(marks) != 0 {
		t.Errorf("owner marked active: %v", marks)
	}

	e.clock.Add(30 * time.Second)
	e.poll(t)
	if a2, _ := e.poller.Stream(machineID, alice.ID); !a2.StartedAt.Equal(started) {
		t.Errorf("start moved to %v on the second poll", a2.StartedAt)
	}
	if n := len(e.activity.of(aliceID)); n != 1 {
		t.Errorf("alice marked %d times within ActivityEvery", n)
	}
	if n := len(e.events(t, EventStreamEnded)); n != 0 {
		t.Fatalf("%d streams ended while both still play", n)
	}

	e.endSession(t, alice.ID)
	e.clock.Add(30 * time.Second)
	rep = e.poll(t)
	if rep.Ended != 1 || len(e.poller.Streams()) != 1 {
		t.Fatalf("after alice stopped: report %+v, streams %+v", rep, e.poller.Streams())
	}
	if _, ok := e.poller.Stream(machineID, alice.ID); ok {
		t.Error("alice's stream is still listed")
	}
	ended := e.events(t, EventStreamEnded)
	if len(ended) != 1 || ended[0].UserID != aliceID || ended[0].ServerID != machineID {
		t.Fatalf("ended events = %+v", ended)
	}
	hist, err := History(e.store, aliceID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 {
		t.Fatalf("history = %+v", hist)
	}
	h := hist[0]
	if h.Title != "Harbor Lights (2016)" || h.Player != "Living Room TV" || h.Platform != "Roku" || !h.Local ||
		h.Watched != 30*time.Second || !h.StartedAt.Equal(started) || h.ServerName != "Basement" || h.Progress != 50 {
		t.Errorf("history entry = %+v", h)
	}
	if marks := e.activity.of(aliceID); len(marks) != 2 || !marks[1].Equal(started.Add(30*time.Second)) {
		t.Errorf("alice's activity after the end = %v", marks)
	}
	if _, err := History(e.store, 0, "", 10); err == nil {
		t.Error("History of user 0 returned no error")
	}
	if h, err := History(e.store, bobID, "", 10); err != nil || len(h) != 0 {
		t.Errorf("bob's history = %v, %v", h, err)
	}
}

func TestTerminateReachesThePlayerWithTheReason(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, Title: "Northbound"})
	e.poll(t)
	if err := e.poller.Terminate(context.Background(), "admin:root", machineID, s.ID, "  Bedtime, Bob.  "); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	terms := e.fake.Terminations()
	if len(terms) != 1 || terms[0].SessionID != s.ID || terms[0].Reason != "Bedtime, Bob." || terms[0].MachineID != machineID {
		t.Fatalf("terminations = %+v", terms)
	}
	if len(e.poller.Streams()) != 0 {
		t.Error("the stopped stream is still listed")
	}
	evs := e.events(t, EventStreamTerminated)
	if len(evs) != 1 || evs[0].Actor != "admin:root" || evs[0].UserID != bobID || evs[0].Data["reason"] != "Bedtime, Bob." || evs[0].Data["title"] != "Northbound (2016)" {
		t.Fatalf("terminated events = %+v", evs)
	}
	for _, c := range e.fake.Calls() {
		if c.TokenInQuery || strings.Contains(c.RawQuery, e.token) {
			t.Errorf("token in the query of %s", c.Route)
		}
	}

	// No reason: Tautulli's default message.
	s2 := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID})
	if err := e.poller.Terminate(context.Background(), "apikey:ops", machineID, s2.ID, ""); err != nil {
		t.Fatal(err)
	}
	if terms := e.fake.Terminations(); terms[len(terms)-1].Reason != DefaultTerminateReason {
		t.Errorf("default reason = %q", terms[len(terms)-1].Reason)
	}
}

func TestTerminateFailures(t *testing.T) {
	e := newEnv(t, plextest.Options{NoPlexPass: true})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID})
	e.poll(t)
	ctx := context.Background()
	err := e.poller.Terminate(ctx, "admin:root", machineID, s.ID, "stop")
	if !errors.Is(err, plex.ErrPlexPassRequired) {
		t.Fatalf("Terminate without Plex Pass = %v, want ErrPlexPassRequired", err)
	}
	if msg := Explain(err); !strings.Contains(msg, "Plex Pass") {
		t.Errorf("Explain = %q", msg)
	}
	if len(e.fake.Sessions(machineID)) != 1 || len(e.events(t, EventStreamTerminated)) != 0 {
		t.Error("a refused terminate changed something")
	}
	if len(e.poller.Streams()) != 1 {
		t.Error("a refused terminate removed the stream from the page")
	}
	tests := []struct {
		name    string
		server  string
		session string
		reason  string
		want    error
	}{
		{"unknown server", "nope", s.ID, "", ErrUnknownServer},
		{"no session id", machineID, " ", "", ErrNoSession},
	}
	for _, tt := range tests {
		if err := e.poller.Terminate(ctx, "admin:root", tt.server, tt.session, tt.reason); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := e.poller.Terminate(ctx, "admin:root", machineID, s.ID, strings.Repeat("x", MaxReasonLength+1)); err == nil {
		t.Error("an over-long reason was accepted")
	}

	e2 := newEnv(t, plextest.Options{})
	err = e2.poller.Terminate(ctx, "admin:root", machineID, "no-such-session", "x")
	if !errors.Is(err, plex.ErrNotFound) || Explain(err) != "That stream has already ended." {
		t.Errorf("unknown session: %v (%s)", err, Explain(err))
	}
}

// ruleEnv is an env with rules saved and the fake's source resolution wired in.
func ruleEnv(t *testing.T, fo plextest.Options, rules Rules) *env {
	t.Helper()
	var e *env
	e = newEnv(t, fo, func(o *Options) {
		o.SourceResolution = func(_ context.Context, tg Target, s plex.Session) (string, error) {
			for _, x := range e.fake.Sessions(tg.ID) {
				if x.ID == s.ID {
					return x.VideoResolution, nil
				}
			}
			return "", errors.New("session not in the fake")
		}
	})
	if err := SaveRules(e.store, rules); err != nil {
		t.Fatal(err)
	}
	return e
}

// terminated lists the terminated session ids with their reasons.
func terminated(e *env) map[string]string {
	out := map[string]string{}
	for _, x := range e.fake.Terminations() {
		out[x.SessionID] = x.Reason
	}
	return out
}

func TestMaxStreamsRuleKillsTheNewestExcessStream(t *testing.T) {
	e := ruleEnv(t, plextest.Options{}, Rules{MaxStreams: 2})
	a1 := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "One"})
	e.poll(t)
	e.clock.Add(30 * time.Second)
	a2 := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Two"})
	for range 3 {
		e.fake.StartSession(machineID, plextest.Session{AccountID: 1, Title: "Owner watches"})
	}
	b := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, Title: "Bob's"})
	e.poll(t)
	if len(e.fake.Terminations()) != 0 {
		t.Fatalf("terminations at the limit: %+v", e.fake.Terminations())
	}
	e.clock.Add(30 * time.Second)
	a3 := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Three"})
	rep := e.poll(t)

	terms := terminated(e)
	if len(terms) != 1 || !strings.Contains(terms[a3.ID], "limit of 2 simultaneous streams") {
		t.Fatalf("terminations = %v, want only %s", terms, a3.ID)
	}
	if len(rep.Kills) != 1 || rep.Kills[0].Err != nil || rep.Kills[0].Rule != RuleMaxStreams {
		t.Errorf("report kills = %+v", rep.Kills)
	}
	for _, keep := range []string{a1.ID, a2.ID, b.ID} {
		if _, ok := e.poller.Stream(machineID, keep); !ok {
			t.Errorf("stream %s is gone from the page", keep)
		}
	}
	if _, ok := e.poller.Stream(machineID, a3.ID); ok {
		t.Error("the killed stream is still listed")
	}
	evs := e.events(t, EventStreamKilled)
	if len(evs) != 1 || evs[0].UserID != aliceID || evs[0].Data["rule"] != RuleMaxStreams || evs[0].Data["user"] != "alice" || evs[0].Data["title"] != "Three (2016)" {
		t.Fatalf("killed events = %+v", evs)
	}

	// The killed stream is gone at the next poll: it ends in the history, nothing else is killed.
	e.clock.Add(30 * time.Second)
	e.poll(t)
	if len(e.fake.Terminations()) != 1 || len(e.events(t, EventStreamEnded)) != 1 {
		t.Errorf("after the kill: %d terminations, %d ended", len(e.fake.Terminations()), len(e.events(t, EventStreamEnded)))
	}
}

func TestPerUserStreamLimit(t *testing.T) {
	e := ruleEnv(t, plextest.Options{}, Rules{MaxStreams: 5})
	if _, err := e.store.UpdateUser(carolID, func(u *storage.User) error { u.StreamLimit = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	c1 := e.fake.StartSession(machineID, plextest.Session{AccountID: carolID})
	b1 := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID})
	e.poll(t)
	e.clock.Add(time.Minute)
	c2 := e.fake.StartSession(machineID, plextest.Session{AccountID: carolID})
	b2 := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID})
	e.poll(t)
	terms := terminated(e)
	if _, ok := terms[c2.ID]; len(terms) != 1 || !ok {
		t.Fatalf("terminations = %v, want only carol's second %s (not %s %s %s)", terms, c2.ID, c1.ID, b1.ID, b2.ID)
	}
	if !strings.Contains(terms[c2.ID], "limit of 1 ") {
		t.Errorf("message = %q", terms[c2.ID])
	}
}

func TestNo4KTranscodeRule(t *testing.T) {
	e := ruleEnv(t, plextest.Options{}, Rules{No4KTranscode: true})
	bad := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, VideoResolution: "4k", Transcode: true})
	direct := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, VideoResolution: "4k"})
	hd := e.fake.StartSession(machineID, plextest.Session{AccountID: carolID, VideoResolution: "1080", Transcode: true})
	own := e.fake.StartSession(machineID, plextest.Session{AccountID: 1, VideoResolution: "4k", Transcode: true})
	e.poll(t)
	terms := terminated(e)
	if len(terms) != 1 || terms[bad.ID] != DefaultNo4KMessage {
		t.Fatalf("terminations = %v, want only %s (kept %s %s %s)", terms, bad.ID, direct.ID, hd.ID, own.ID)
	}
	evs := e.events(t, EventStreamKilled)
	if len(evs) != 1 || evs[0].Data["rule"] != RuleNo4KTranscode || evs[0].UserID != aliceID {
		t.Errorf("events = %+v", evs)
	}
	if s, ok := e.poller.Stream(machineID, hd.ID); !ok || s.Quality.SourceResolution != "1080" || s.Quality.Resolution != "720" {
		t.Errorf("1080 transcode = %+v", s.Quality)
	}
}

func TestNo4KTranscodePerUserAndUnknownSource(t *testing.T) {
	// Without the SourceResolution hook a transcoded stream's source is unknown: not stopped.
	e := newEnv(t, plextest.Options{})
	if err := SaveRules(e.store, Rules{No4KTranscode: true}); err != nil {
		t.Fatal(err)
	}
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, VideoResolution: "4k", Transcode: true})
	e.poll(t)
	if len(e.fake.Terminations()) != 0 {
		t.Fatalf("stopped a stream whose source is unknown: %+v", e.fake.Terminations())
	}
	if got, _ := e.poller.Stream(machineID, s.ID); got.Quality.SourceResolution != "" {
		t.Errorf("source resolution = %q, want unknown", got.Quality.SourceResolution)
	}

	// Per-user setting with the global rule off.
	e2 := ruleEnv(t, plextest.Options{}, Rules{})
	if _, err := e2.store.UpdateUser(bobID, func(u *storage.User) error { u.No4KTranscode = true; return nil }); err != nil {
		t.Fatal(err)
	}
	a := e2.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, VideoResolution: "4k", Transcode: true})
	b := e2.fake.StartSession(machineID, plextest.Session{AccountID: bobID, VideoResolution: "4k", Transcode: true})
	e2.poll(t)
	if terms := terminated(e2); len(terms) != 1 || terms[b.ID] == "" {
		t.Fatalf("terminations = %v, want only bob's %s (not alice's %s)", terms, b.ID, a.ID)
	}
}

func TestRemoteDirectPlayRule(t *testing.T) {
	e := ruleEnv(t, plextest.Options{}, Rules{RemoteDirectPlayOnly: true, RemoteDirectMessage: "Direct play only, please"})
	bad := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Transcode: true, Local: false})
	e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, Local: false})
	e.fake.StartSession(machineID, plextest.Session{AccountID: carolID, Transcode: true, Local: true})
	e.poll(t)
	if terms := terminated(e); len(terms) != 1 || terms[bad.ID] != "Direct play only, please" {
		t.Fatalf("terminations = %v, want only %s", terms, bad.ID)
	}
}

func TestDryRunOnlyFlags(t *testing.T) {
	e := ruleEnv(t, plextest.Options{}, Rules{MaxStreams: 1, DryRun: true})
	e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	e.clock.Add(time.Second)
	second := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	rep := e.poll(t)
	if len(e.fake.Terminations()) != 0 || len(e.events(t, EventStreamKilled)) != 0 {
		t.Fatal("dry run stopped a stream or recorded a kill")
	}
	if len(rep.Kills) != 1 || !rep.Kills[0].DryRun || rep.Kills[0].Stream.Session != second.ID {
		t.Errorf("report = %+v", rep.Kills)
	}
	if got := e.poller.Flagged(machineID, second.ID); got != RuleMaxStreams {
		t.Errorf("Flagged = %q", got)
	}
	if len(e.poller.Streams()) != 2 {
		t.Error("dry run removed a stream from the page")
	}
}

func TestRefusedKillIsRecordedAndNotRetriedAtOnce(t *testing.T) {
	e := ruleEnv(t, plextest.Options{NoPlexPass: true}, Rules{RemoteDirectPlayOnly: true})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Transcode: true})
	rep := e.poll(t)
	if len(rep.Kills) != 1 || !errors.Is(rep.Kills[0].Err, plex.ErrPlexPassRequired) {
		t.Fatalf("kills = %+v", rep.Kills)
	}
	failed := e.events(t, EventStreamKillFailed)
	if len(failed) != 1 || !strings.Contains(failed[0].Data["error"].(string), "Plex Pass") || failed[0].UserID != aliceID {
		t.Fatalf("kill_failed events = %+v", failed)
	}
	if len(e.events(t, EventStreamKilled)) != 0 {
		t.Error("a refused kill was recorded as done")
	}
	const route = "GET /status/sessions/terminate"
	calls := e.fake.CallCount(route)
	e.clock.Add(time.Minute)
	e.poll(t)
	if e.fake.CallCount(route) != calls || len(e.events(t, EventStreamKillFailed)) != 1 {
		t.Error("the refused kill was tried again a minute later")
	}
	e.clock.Add(killRetryAfter)
	e.poll(t)
	if e.fake.CallCount(route) != calls+1 {
		t.Error("the refused kill was not tried again after the pause")
	}
	if _, ok := e.poller.Stream(machineID, s.ID); !ok {
		t.Error("the stream that could not be stopped vanished from the page")
	}
}

func TestServerOfflineAndBack(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	e.fake.Inject(plextest.Fault{Route: "GET /status/sessions", Status: http.StatusServiceUnavailable})
	e.clock.Add(30 * time.Second)
	rep := e.poll(t)
	snap := e.poller.Snapshots()[0]
	if rep.Failed != 1 || snap.Online || snap.Error == "" || len(snap.Streams) != 0 || !snap.FetchedAt.Equal(e.clock.Now()) {
		t.Fatalf("offline snapshot = %+v (report %+v)", snap, rep)
	}
	if strings.Contains(snap.Error, e.token) {
		t.Error("the error shows the token")
	}
	e.poll(t)
	if off := e.events(t, EventServerOffline); len(off) != 1 || off[0].ServerID != machineID {
		t.Fatalf("offline events = %+v", off)
	}
	if len(e.events(t, EventStreamEnded)) != 0 {
		t.Error("an outage ended the streams")
	}
	e.fake.ClearFaults()
	e.poll(t)
	if on := e.events(t, EventServerOnline); len(on) != 1 {
		t.Fatalf("online events = %+v", on)
	}
	if got, ok := e.poller.Stream(machineID, s.ID); !ok || !got.StartedAt.Equal(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)) {
		t.Errorf("stream after the outage = %+v %v", got, ok)
	}
	if counts := e.poller.StreamCounts(); counts[machineID] != 1 {
		t.Errorf("StreamCounts = %v", counts)
	}
}

func TestTokenRefused(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.token = "not-the-owner-token"
	e.poll(t)
	e.poll(t)
	evs := e.events(t, EventTokenInvalid)
	if len(evs) != 1 {
		t.Fatalf("token_invalid events = %+v", evs)
	}
	if snap := e.poller.Snapshots()[0]; snap.Online || !strings.Contains(snap.Error, "refused the Plex token") {
		t.Errorf("snapshot = %+v", snap)
	}
	if len(e.events(t, EventServerOffline)) != 0 {
		t.Error("a refused token was reported as offline")
	}
}

func TestThumb(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	ctx := context.Background()
	const route = "GET /library/metadata/{ratingKey}/thumb/{ts}"
	for _, bad := range []string{"/status/sessions", "/library/metadata/1/thumb/../../../accounts", "/library/metadata/1/thumb?X-Plex-Token=x", "library/metadata/1/thumb", "/identity", ""} {
		if _, err := e.poller.Thumb(ctx, machineID, bad); !errors.Is(err, ErrNotArtwork) {
			t.Errorf("Thumb(%q) = %v, want ErrNotArtwork", bad, err)
		}
	}
	if n := len(e.fake.Calls()); n != 0 {
		t.Fatalf("refused paths reached the server: %d calls", n)
	}
	img, err := e.poller.Thumb(ctx, machineID, "/library/metadata/1001/thumb/1700000000")
	if err != nil {
		t.Fatalf("Thumb: %v", err)
	}
	if len(img.Data) == 0 || !strings.HasPrefix(img.ContentType, "image/") {
		t.Errorf("image = %d bytes %q", len(img.Data), img.ContentType)
	}
	if e.fake.CallCount(route) != 1 {
		t.Errorf("artwork calls = %d", e.fake.CallCount(route))
	}
	for _, c := range e.fake.Calls() {
		if c.TokenInQuery || strings.Contains(c.RawQuery, e.token) || c.Header.Get("X-Plex-Token") != e.token {
			t.Errorf("call %s: token in query %v, header set %v", c.Route, c.TokenInQuery, c.Header.Get("X-Plex-Token") != "")
		}
	}
	if _, err := e.poller.Thumb(ctx, "other", "/library/metadata/1/thumb/1"); !errors.Is(err, ErrUnknownServer) {
		t.Errorf("unknown server: %v", err)
	}
}

func TestRunPollsUntilCancelled(t *testing.T) {
	e := newEnv(t, plextest.Options{}, func(o *Options) { o.Now = time.Now })
	e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.poller.Run(ctx, 10*time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.fake.CallCount("GET /status/sessions") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if e.fake.CallCount("GET /status/sessions") < 3 || len(e.poller.Streams()) != 1 || e.poller.LastPoll().IsZero() {
		t.Errorf("Run polled %d times, %d streams", e.fake.CallCount("GET /status/sessions"), len(e.poller.Streams()))
	}
	if err := e.poller.Run(context.Background(), 0); err == nil {
		t.Error("Run with interval 0 returned nil")
	}
}

func TestNewPollerAndServerListErrors(t *testing.T) {
	store := storetest.Memory(t)
	list := func(context.Context) ([]Target, error) { return nil, nil }
	if _, err := NewPoller(Options{Servers: list}); err == nil {
		t.Error("no store accepted")
	}
	if _, err := NewPoller(Options{Store: store}); err == nil {
		t.Error("no server list accepted")
	}
	p, err := NewPoller(Options{Store: store, Servers: func(context.Context) ([]Target, error) { return nil, errors.New("store closed") }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "store closed") {
		t.Errorf("Poll = %v", err)
	}
	p2, _ := NewPoller(Options{Store: store, Servers: func(context.Context) ([]Target, error) {
		return []Target{{ID: "x", Name: "X"}}, nil
	}})
	rep, err := p2.Poll(context.Background())
	if err != nil || rep.Failed != 1 {
		t.Errorf("server without a source: %+v %v", rep, err)
	}
	if evs, _ := store.ListEvents(storage.EventQuery{Type: EventServerOffline}); len(evs) != 1 {
		t.Errorf("offline events = %+v", evs)
	}
}

func TestTwoPollersRecordAnEndedStreamOnce(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	other, err := NewPoller(Options{Store: e.store, Servers: e.servers, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	if _, err := other.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.endSession(t, s.ID)
	e.clock.Add(time.Second)
	e.poll(t)
	if _, err := other.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.events(t, EventStreamEnded)); n != 1 {
		t.Errorf("%d stream.ended events, want 1", n)
	}
}

// TestPollCutShortByAStopChangesNothing: a poll whose context ends while the servers are being read
// (Caddy stopping or reloading) keeps the last snapshots and records no "offline" event.
func TestPollCutShortByAStopChangesNothing(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	ctx, cancel := context.WithCancel(context.Background())
	e.fake.Inject(plextest.Fault{Route: "GET /status/sessions", Hang: true, Count: 1})
	go func() {
		for e.fake.CallCount("GET /status/sessions") < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel() // the stop arrives while the server is being read
	}()
	e.clock.Add(30 * time.Second)
	if _, err := e.poller.Poll(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Poll cut short = %v, want context.Canceled", err)
	}
	if len(e.events(t, EventServerOffline)) != 0 {
		t.Error("a poll cut short by a stop recorded the server as offline")
	}
	if snap := e.poller.Snapshots()[0]; !snap.Online || len(snap.Streams) != 1 {
		t.Errorf("snapshot after a poll cut short = %+v; want the last one kept", snap)
	}
}

// TestKillCutShortByAStopRecordsNoFailure: a rule's kill whose call is cut short by a stop (Caddy
// stopping or reloading) records no stream.kill_failed event (which notifies the admins) and is not held
// back as refused: the next poll stops the stream.
func TestKillCutShortByAStopRecordsNoFailure(t *testing.T) {
	e := ruleEnv(t, plextest.Options{}, Rules{RemoteDirectPlayOnly: true})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Transcode: true})
	const route = "GET /status/sessions/terminate"
	e.fake.Inject(plextest.Fault{Route: route, Hang: true, Count: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for e.fake.CallCount(route) < 1 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel() // the stop arrives while the stream is being stopped
	}()
	rep, _ := e.poller.Poll(ctx)
	if e.fake.CallCount(route) != 1 {
		t.Fatalf("%d terminate calls, want the one cut short", e.fake.CallCount(route))
	}
	for _, k := range rep.Kills {
		if k.Err != nil {
			t.Errorf("a kill cut short by a stop is reported as failed: %+v", k)
		}
	}
	if n := len(e.events(t, EventStreamKillFailed)); n != 0 {
		t.Errorf("%d stream.kill_failed events for a kill cut short by a stop", n)
	}
	if _, ok := e.poller.Stream(machineID, s.ID); !ok {
		t.Error("the stream that was not stopped vanished from the page")
	}
	// The next poll, not stopped, stops it at once.
	e.poll(t)
	if len(e.fake.Terminations()) != 1 || len(e.events(t, EventStreamKilled)) != 1 {
		t.Errorf("after the stop: %d terminations, %d killed events; want the stream stopped", len(e.fake.Terminations()), len(e.events(t, EventStreamKilled)))
	}
}
