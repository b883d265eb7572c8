package streams

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

const (
	machineID = plextest.MinimalMachineID
	aliceID   = plextest.MinimalAliceID
)

type env struct {
	fake   *plextest.Fake
	store  *storage.Store
	poller *streams.Poller
	srv    *webtest.Server
}

func newEnv(t *testing.T, fo plextest.Options) *env {
	t.Helper()
	fake := plextest.NewServer(t, fo)
	client, err := plex.New(plex.Config{TVURL: fake.TVURL(), ClientID: "handlers-streams-test", Retries: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.Memory(t)
	if err := store.PutUser(storage.User{ID: aliceID, Username: "alice", Kind: storage.KindFriend, Status: storage.StatusActive}); err != nil {
		t.Fatal(err)
	}
	p, err := streams.NewPoller(streams.Options{Store: store, Servers: func(context.Context) ([]streams.Target, error) {
		return []streams.Target{{ID: machineID, Name: "Basement", Source: client.Server(fake.URL(), fake.OwnerToken())}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := webtest.New(t, webtest.Options{Mode: web.ModeAdmin, BasePath: "/m", Features: []web.Feature{New(p, store, Options{})}})
	return &env{fake: fake, store: store, poller: p, srv: srv}
}

func (e *env) poll(t *testing.T) {
	t.Helper()
	if _, err := e.poller.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// noToken fails when a response leaks the Plex token.
func (e *env) noToken(t *testing.T, what string, body string, h http.Header) {
	t.Helper()
	tok := e.fake.OwnerToken()
	if strings.Contains(body, tok) {
		t.Errorf("%s: body contains the Plex token", what)
	}
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, tok) {
				t.Errorf("%s: header %s contains the Plex token", what, k)
			}
		}
	}
}

func TestStreamsPage(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Harbor Lights", Transcode: true, VideoResolution: "4k", Player: "Living Room TV"})
	e.poll(t)

	if rec := e.srv.Do("GET", "/streams", web.RoleNone, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous: %d", rec.Code)
	}
	rec := e.srv.Do("GET", "/streams", web.RoleAuditor, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /streams = %d", rec.Code)
	}
	for _, want := range []string{"Harbor Lights (2016)", "alice", "Living Room TV", "Basement", `hx-get="/m/streams/live"`,
		"/m/streams/thumb/" + machineID + "?path=%2Flibrary%2Fmetadata%2F1001%2Fthumb%2F1700000000", "transcode", "video transcode"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "/terminate") || strings.Contains(body, "Stream rules") {
		t.Error("an auditor sees stop buttons or the rules form")
	}
	e.noToken(t, "page", body, rec.Header())

	mod := e.srv.Do("GET", "/streams", web.RoleModerator, nil).Body.String()
	if !strings.Contains(mod, "/m/streams/"+machineID+"/"+s.ID+"/terminate") || strings.Contains(mod, "Stream rules") {
		t.Error("a moderator lacks the stop link or sees the rules")
	}
	if adm := e.srv.Do("GET", "/streams", web.RoleAdmin, nil).Body.String(); !strings.Contains(adm, "Stream rules") {
		t.Error("an admin lacks the rules form")
	}

	live := e.srv.Do("GET", "/streams/live", web.RoleAuditor, nil, "HX-Request", "true")
	if live.Code != http.StatusOK || !strings.Contains(live.Body.String(), `id="live"`) || strings.Contains(live.Body.String(), "<html") {
		t.Errorf("live fragment = %d %.200s", live.Code, live.Body.String())
	}
}

func TestTerminateFromThePage(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	path := "/streams/" + machineID + "/" + s.ID + "/terminate"
	if rec := e.srv.Do("GET", path, web.RoleModerator, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "alice") {
		t.Errorf("terminate form = %d", rec.Code)
	}
	if rec := e.srv.Do("POST", path, web.RoleAuditor, strings.NewReader("reason=x")); rec.Code != http.StatusForbidden {
		t.Errorf("auditor terminate = %d", rec.Code)
	}
	if rec := e.srv.Do("POST", path, web.RoleModerator, strings.NewReader("reason=x"), "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
		t.Errorf("cross-site terminate = %d", rec.Code)
	}
	if len(e.fake.Terminations()) != 0 {
		t.Fatal("a refused request stopped the stream")
	}
	rec := e.srv.Do("POST", path, web.RoleModerator, strings.NewReader(url.Values{"reason": {"Server maintenance at 10pm"}}.Encode()))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("terminate = %d", rec.Code)
	}
	terms := e.fake.Terminations()
	if len(terms) != 1 || terms[0].SessionID != s.ID || terms[0].Reason != "Server maintenance at 10pm" {
		t.Fatalf("terminations = %+v", terms)
	}
	evs, _ := e.store.ListEvents(storage.EventQuery{Type: streams.EventStreamTerminated})
	if len(evs) != 1 || evs[0].Actor != "admin:test-moderator" {
		t.Errorf("events = %+v", evs)
	}
}

func TestThumbnailProxy(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	for _, bad := range []string{"/status/sessions", "/library/metadata/1/thumb/../../../accounts", "/identity", "", "/library/metadata/1/thumb/1?X-Plex-Token=x"} {
		rec := e.srv.Do("GET", "/streams/thumb/"+machineID+"?path="+url.QueryEscape(bad), web.RoleAuditor, nil)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("path %q: %d", bad, rec.Code)
		}
		e.noToken(t, "refused thumb", rec.Body.String(), rec.Header())
	}
	if n := len(e.fake.Calls()); n != 0 {
		t.Fatalf("refused paths reached Plex: %d calls", n)
	}
	if rec := e.srv.Do("GET", "/streams/thumb/"+machineID+"?path=%2Flibrary%2Fmetadata%2F1%2Fthumb%2F1", web.RoleNone, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous thumb = %d", rec.Code)
	}
	rec := e.srv.Do("GET", "/streams/thumb/"+machineID+"?path="+url.QueryEscape("/library/metadata/1001/thumb/1700000000"), web.RoleAuditor, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("thumb = %d %s", rec.Code, rec.Body.String())
	}
	h := rec.Header()
	if !strings.HasPrefix(h.Get("Content-Type"), "image/") || h.Get("Cache-Control") != "private, max-age=86400" || h.Get("X-Content-Type-Options") != "nosniff" || rec.Body.Len() == 0 {
		t.Errorf("thumb headers = %v, %d bytes", h, rec.Body.Len())
	}
	e.noToken(t, "thumb", rec.Body.String(), h)
	calls := e.fake.Calls()
	if len(calls) != 1 || calls[0].TokenInQuery || strings.Contains(calls[0].RawQuery, e.fake.OwnerToken()) || calls[0].Header.Get("X-Plex-Token") != e.fake.OwnerToken() {
		t.Errorf("Plex saw %+v", calls)
	}
	if rec := e.srv.Do("GET", "/streams/thumb/other?path="+url.QueryEscape("/library/metadata/1/thumb/1"), web.RoleAuditor, nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown server thumb = %d", rec.Code)
	}
}

func TestStreamsAPI(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Northbound", Transcode: true, ViewOffset: 600_000, Duration: 6_000_000})
	e.poll(t)
	rec := e.srv.API("GET", "/streams", web.RoleAuditor, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /streams = %d", rec.Code)
	}
	var resp struct {
		Streams []map[string]any `json:"streams"`
		Servers []map[string]any `json:"servers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Streams) != 1 || len(resp.Servers) != 1 {
		t.Fatalf("response = %s", rec.Body.String())
	}
	st := resp.Streams[0]
	for _, k := range []string{"server", "session", "user_id", "title", "player", "state", "progress", "transcode"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stream lacks %q", k)
		}
	}
	if st["server"] != machineID || st["session"] != s.ID || st["user_id"] != float64(aliceID) || st["progress"] != float64(10) || st["transcode"] == nil {
		t.Errorf("stream = %v", st)
	}
	e.noToken(t, "api", rec.Body.String(), rec.Header())
	if rec := e.srv.API("GET", "/streams", web.RoleNone, ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous API = %d", rec.Code)
	}

	if rec := e.srv.API("DELETE", "/streams/"+machineID+"/"+s.ID, web.RoleAuditor, `{"reason":"x"}`); rec.Code != http.StatusForbidden {
		t.Errorf("auditor DELETE = %d", rec.Code)
	}
	if rec := e.srv.API("DELETE", "/streams/"+machineID+"/"+s.ID, web.RoleModerator, `{"reason":"`+strings.Repeat("x", 501)+`"}`); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "reason") {
		t.Errorf("long reason = %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.srv.API("DELETE", "/streams/"+machineID+"/"+s.ID, web.RoleModerator, `{"why":"x"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("unknown field = %d", rec.Code)
	}
	rec = e.srv.API("DELETE", "/streams/"+machineID+"/"+s.ID, web.RoleModerator, `{"reason":"Bandwidth needed"}`)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", rec.Code, rec.Body.String())
	}
	if terms := e.fake.Terminations(); len(terms) != 1 || terms[0].Reason != "Bandwidth needed" {
		t.Errorf("terminations = %+v", terms)
	}
	if rec := e.srv.API("DELETE", "/streams/"+machineID+"/"+s.ID, web.RoleModerator, ""); rec.Code != http.StatusNotFound {
		t.Errorf("second DELETE = %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.srv.API("DELETE", "/streams/nope/"+s.ID, web.RoleModerator, ""); rec.Code != http.StatusNotFound {
		t.Errorf("unknown server = %d", rec.Code)
	}

	rec = e.srv.API("POST", "/streams/poll", web.RoleModerator, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ended":1`) {
		t.Errorf("poll = %d %s", rec.Code, rec.Body.String())
	}
	rec = e.srv.API("GET", "/streams/history?user_id="+itoa(aliceID), web.RoleAuditor, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Northbound") {
		t.Errorf("history = %d %s", rec.Code, rec.Body.String())
	}
	for _, q := range []string{"", "?user_id=x", "?user_id=1&limit=0", "?user_id=1&before=nope"} {
		if rec := e.srv.API("GET", "/streams/history"+q, web.RoleAuditor, ""); rec.Code != http.StatusBadRequest {
			t.Errorf("history%s = %d", q, rec.Code)
		}
	}
	if page := e.srv.Do("GET", "/streams/history?user="+itoa(aliceID), web.RoleAuditor, nil); page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "Northbound") {
		t.Errorf("history page = %d", page.Code)
	}
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

func TestTerminateWithoutPlexPassSaysSo(t *testing.T) {
	e := newEnv(t, plextest.Options{NoPlexPass: true})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	rec := e.srv.API("DELETE", "/streams/"+machineID+"/"+s.ID, web.RoleModerator, `{"reason":"x"}`)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Plex Pass") {
		t.Errorf("DELETE without Plex Pass = %d %s", rec.Code, rec.Body.String())
	}
	path := "/streams/" + machineID + "/" + s.ID + "/terminate"
	rec = e.srv.Do("POST", path, web.RoleModerator, strings.NewReader("reason=x"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("page terminate = %d", rec.Code)
	}
	// The flash travels in a cookie to the next page.
	next := e.srv.Do("GET", "/streams", web.RoleModerator, nil, "Cookie", flashCookie(rec))
	if !strings.Contains(next.Body.String(), "Plex Pass") {
		t.Error("the page does not say that Plex Pass is needed")
	}
}

// flashCookie returns the Set-Cookie values of rec as a Cookie header (with the role cookie).
func flashCookie(rec interface{ Result() *http.Response }) string {
	parts := []string{"webtest_role=moderator"}
	for _, c := range rec.Result().Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func TestRulesForm(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	if rec := e.srv.Do("POST", "/streams/rules", web.RoleModerator, strings.NewReader("max_streams=2")); rec.Code != http.StatusForbidden {
		t.Errorf("moderator rules = %d", rec.Code)
	}
	for _, bad := range []string{"max_streams=-1", "max_streams=abc", "max_streams=101"} {
		if rec := e.srv.Do("POST", "/streams/rules", web.RoleAdmin, strings.NewReader(bad)); rec.Code != http.StatusBadRequest {
			t.Errorf("%s = %d", bad, rec.Code)
		}
	}
	rec := e.srv.Do("POST", "/streams/rules", web.RoleAdmin, strings.NewReader("max_streams=2&no_4k_transcode=on&no_4k_message=No+4K"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save rules = %d", rec.Code)
	}
	r, err := streams.LoadRules(e.store)
	if err != nil || r.MaxStreams != 2 || !r.No4KTranscode || r.RemoteDirectPlayOnly || r.No4KMessage != "No 4K" {
		t.Errorf("rules = %+v %v", r, err)
	}
}

func TestRulesAPI(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	if rec := e.srv.API("PUT", "/streams/rules", web.RoleModerator, `{"max_streams":2}`); rec.Code != http.StatusForbidden {
		t.Errorf("moderator PUT = %d", rec.Code)
	}
	if rec := e.srv.API("PUT", "/streams/rules", web.RoleAdmin, `{"max_streams":-3}`); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"max_streams"`) {
		t.Errorf("bad PUT = %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.srv.API("PUT", "/streams/rules", web.RoleAdmin, `{"max_streams":2,"no_4k_transcode":true}`); rec.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", rec.Code, rec.Body.String())
	}
	rec := e.srv.API("GET", "/streams/rules", web.RoleAuditor, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"max_streams":2`) || !strings.Contains(rec.Body.String(), `"no_4k_transcode":true`) {
		t.Errorf("GET = %d %s", rec.Code, rec.Body.String())
	}
}
