package plex_test

import (
	"bytes"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

func TestServerIdentityRootLibrariesAccounts(t *testing.T) {
	e := newEnv(t, plextest.Options{Seed: plextest.SeedDemo(plextest.DemoOptions{Servers: 2, Friends: 4, HistoryDays: 1, Seed: 1})})
	for _, srv := range e.fake.Servers() {
		s := e.client.Server(srv.URL, srv.Token)
		id, err := s.Identity(ctx(t))
		if err != nil || id.MachineID != srv.MachineID || !id.Claimed || id.Version != srv.Version {
			t.Errorf("%s identity = %+v, %v", srv.Name, id, err)
		}
		if tok := e.lastCall(t, "GET /identity").Header.Get("X-Plex-Token"); tok != "" {
			t.Error("identity was sent a token")
		}
		info, err := s.Root(ctx(t))
		if err != nil || info.Name != srv.Name || info.MachineID != srv.MachineID || !info.PlexPass || !info.MyPlexSubscription || len(info.Features) == 0 {
			t.Errorf("%s root = %+v, %v", srv.Name, info, err)
		}
		libs, err := s.Libraries(ctx(t))
		if err != nil || len(libs) != len(srv.Libraries) {
			t.Fatalf("%s libraries = %+v, %v", srv.Name, libs, err)
		}
		for i, l := range libs {
			if l.Key != srv.Libraries[i].Key || l.Title != srv.Libraries[i].Title || len(l.Locations) != 1 {
				t.Errorf("library %d = %+v", i, l)
			}
		}
		accs, err := s.Accounts(ctx(t))
		if err != nil || len(accs) < 2 || accs[0].ID != 0 || accs[1].ID != 1 {
			t.Errorf("%s accounts = %+v, %v", srv.Name, accs, err)
		}
	}
	if h := e.lastCall(t, "GET /library/sections").Header.Get("Accept"); h != "application/json" {
		t.Errorf("PMS Accept = %q", h)
	}

	first := e.fake.Servers()[0]
	_, err := e.client.Server(first.URL, "bad-token").Root(ctx(t))
	wantKind(t, err, plex.ErrUnauthorized)
	_, err = e.client.Server("not a url", first.Token).Root(ctx(t))
	wantKind(t, err, plex.ErrInvalidArgument)
	_, err = e.client.Server(first.URL, "").Libraries(ctx(t))
	wantKind(t, err, plex.ErrInvalidArgument)
}

func TestRootWithoutPlexPass(t *testing.T) {
	e := newEnv(t, plextest.Options{NoPlexPass: true})
	info, err := e.client.Server(e.fake.ServerURL(machineID), e.token).Root(ctx(t))
	if err != nil || info.PlexPass || len(info.Features) != 0 {
		t.Errorf("root = %+v, %v", info, err)
	}
}

func TestSessionsAndTerminate(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Type: "episode", Title: "Shiva", GrandparentTitle: "Talking Dead",
		VideoResolution: "4k", Transcode: true, Player: "Living Room", Platform: "Roku", Address: "::ffff:198.51.100.9", ViewOffset: 60000, Duration: 120000})
	e.fake.StartSession(machineID, plextest.Session{Type: "track", Title: "Ember", Local: true, State: "paused"})
	s := e.client.Server(e.fake.ServerURL(machineID), e.token)

	list, err := s.Sessions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("got %d sessions", len(list))
	}
	ep, tr := list[0], list[1]
	if ep.ID == "" || ep.User.ID != aliceID || ep.Type != "episode" || ep.GrandparentTitle != "Talking Dead" || ep.Player.Title != "Living Room" ||
		ep.Player.Platform != "Roku" || ep.Player.Address != "198.51.100.9" || ep.Player.Local || ep.ViewOffset != time.Minute || ep.Duration != 2*time.Minute {
		t.Errorf("episode = %+v", ep)
	}
	if !ep.Transcoding() || ep.Transcode.VideoDecision != "transcode" || ep.Transcode.Speed == 0 || ep.Media.Resolution != "1080" || ep.Media.Bitrate == 0 {
		t.Errorf("transcode = %+v, media %+v", ep.Transcode, ep.Media)
	}
	if tr.User.ID != 1 || !tr.Player.Local || tr.Player.State != "paused" || tr.Transcoding() {
		t.Errorf("track = %+v", tr)
	}

	if err := s.Terminate(ctx(t), ep.ID, "Too many streams & no 4K"); err != nil {
		t.Fatal(err)
	}
	terms := e.fake.Terminations()
	if len(terms) != 1 || terms[0].SessionID != ep.ID || terms[0].Reason != "Too many streams & no 4K" {
		t.Errorf("terminations = %+v", terms)
	}
	if q := e.lastCall(t, "GET /status/sessions/terminate").RawQuery; !strings.HasPrefix(q, "sessionId="+ep.ID+"&reason=") {
		t.Errorf("query = %q", q)
	}
	wantKind(t, s.Terminate(ctx(t), ep.ID, "again"), plex.ErrNotFound)
	wantKind(t, s.Terminate(ctx(t), "", "x"), plex.ErrInvalidArgument)

	// A terminate is not retried on a server error.
	e.fake.Inject(plextest.Fault{Route: "GET /status/sessions/terminate", Status: 500, Count: 1})
	before := e.fake.CallCount("GET /status/sessions/terminate")
	wantKind(t, s.Terminate(ctx(t), tr.ID, "x"), plex.ErrOffline)
	if got := e.fake.CallCount("GET /status/sessions/terminate") - before; got != 1 {
		t.Errorf("terminate sent %d times", got)
	}

	e2 := newEnv(t, plextest.Options{NoPlexPass: true})
	st := e2.fake.StartSession(machineID, plextest.Session{})
	err = e2.client.Server(e2.fake.ServerURL(machineID), e2.token).Terminate(ctx(t), st.ID, "bye")
	pe := wantKind(t, err, plex.ErrPlexPassRequired)
	if pe.Status != 401 || !strings.Contains(pe.Message, "Plex Pass") {
		t.Errorf("error = %+v", pe)
	}
}

func TestHistoryPaging(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 250 {
		acc := int64(aliceID)
		if i%5 == 0 {
			acc = 1
		}
		e.fake.AddHistory(machineID, plextest.HistoryItem{AccountID: acc, ViewedAt: base.Add(time.Duration(i) * time.Hour), Title: "item"})
	}
	s := e.client.Server(e.fake.ServerURL(machineID), e.token)

	all, err := s.History(ctx(t), plex.HistoryQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 250 {
		t.Fatalf("got %d items", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ViewedAt.After(all[i-1].ViewedAt) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	pages := e.calls("GET /status/sessions/history/all")
	if len(pages) != 3 {
		t.Errorf("%d pages, want 3", len(pages))
	}
	for i, p := range pages {
		start := []string{"0", "100", "200"}[i]
		if p.Header.Get("X-Plex-Container-Start") != start || p.Header.Get("X-Plex-Container-Size") != "100" {
			t.Errorf("page %d headers: start %q size %q", i, p.Header.Get("X-Plex-Container-Start"), p.Header.Get("X-Plex-Container-Size"))
		}
	}

	e.fake.ResetCalls()
	since, until := base.Add(100*time.Hour), base.Add(200*time.Hour)
	got, err := s.History(ctx(t), plex.HistoryQuery{AccountID: aliceID, Since: since, Until: until, LibraryKey: "4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 80 { // hours 100..199, minus every fifth (owner)
		t.Errorf("got %d items, want 80", len(got))
	}
	for _, h := range got {
		if h.AccountID != aliceID || h.ViewedAt.Before(since) || !h.ViewedAt.Before(until) || h.LibraryKey != "4" || h.HistoryKey == "" {
			t.Errorf("item out of range: %+v", h)
		}
	}
	q := e.lastCall(t, "GET /status/sessions/history/all").RawQuery
	for _, part := range []string{"accountID=22526914", "librarySectionID=4", "sort=viewedAt%3Adesc",
		"viewedAt>=" + strconv.FormatInt(since.Unix(), 10), "viewedAt<" + strconv.FormatInt(until.Unix(), 10)} {
		if !strings.Contains(q, part) {
			t.Errorf("query %q lacks %q", q, part)
		}
	}
	if strings.Contains(q, "viewedAt%3E") || strings.Contains(q, "viewedAt%3C") {
		t.Errorf("query has an escaped filter key: %q", q)
	}

	got, err = s.History(ctx(t), plex.HistoryQuery{Limit: 7, PageSize: 5})
	if err != nil || len(got) != 7 {
		t.Errorf("limit: %d items, %v", len(got), err)
	}
	_, err = s.History(ctx(t), plex.HistoryQuery{Since: until, Until: since})
	wantKind(t, err, plex.ErrInvalidArgument)

	// A friend's token sees only their own history.
	mine, err := e.client.Server(e.fake.ServerURL(machineID), "alice-token").History(ctx(t), plex.HistoryQuery{})
	if err != nil || len(mine) != 200 {
		t.Errorf("alice's own history: %d, %v", len(mine), err)
	}
}

func TestThumb(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s := e.client.Server(e.fake.ServerURL(machineID), e.token)
	img, err := s.Thumb(ctx(t), "/library/metadata/1264/thumb/1700000000")
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/png" {
		t.Errorf("content type %q", img.ContentType)
	}
	if _, err := png.Decode(bytes.NewReader(img.Data)); err != nil {
		t.Errorf("not a PNG: %v", err)
	}
	if c := e.lastCall(t, "GET /library/metadata/{ratingKey}/thumb/{ts}"); c.Header.Get("X-Plex-Token") != e.token || c.RawQuery != "" {
		t.Errorf("thumb call %+v", c)
	}

	e.fake.ResetCalls()
	for _, p := range []string{"/status/sessions", "/library/metadata/1/thumb/1?X-Plex-Token=x", "/library/metadata/1/../../accounts", "http://evil/x"} {
		_, err := s.Thumb(ctx(t), p)
		wantKind(t, err, plex.ErrInvalidArgument)
	}
	if n := len(e.fake.Calls()); n != 0 {
		t.Errorf("refused paths made %d calls", n)
	}

	// A body that is not an image is refused.
	e.fake.Inject(plextest.Fault{Route: "GET /library/metadata/{ratingKey}/art/{ts}", Status: 200, Body: "<html>login</html>"})
	_, err = s.Thumb(ctx(t), "/library/metadata/5/art/1")
	wantKind(t, err, plex.ErrBadResponse)
}
