package events

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/logbuf"
	"github.com/plex-manager/caddy-plex-manager/notify"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

type env struct {
	store    *storage.Store
	logs     *logbuf.Buffer
	notifier *notify.Notifier
	admin    *webtest.Server
	invite   *webtest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := storetest.Memory(t)
	logs := logbuf.New(100)
	n, err := notify.New(notify.Options{Store: store, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	feat := New(store, logs, n)
	return &env{store: store, logs: logs, notifier: n,
		admin:  webtest.New(t, webtest.Options{Mode: web.ModeAdmin, Features: []web.Feature{feat}}),
		invite: webtest.New(t, webtest.Options{Mode: web.ModeInvite, Features: []web.Feature{feat}})}
}

// seed appends n events per type, one minute apart, from base.
func (e *env) seed(t *testing.T, base time.Time) {
	t.Helper()
	i := 0
	for _, ev := range []storage.Event{
		{Type: "user.expired", Actor: "system", UserID: 100, Message: "alice expired"},
		{Type: "user.joined", Actor: "user:200", UserID: 200, InviteID: "inv1", Message: "bob joined"},
		{Type: "stream.killed", Actor: "system", UserID: 100, Message: "=cmd|' /C calc'!A0", Data: map[string]any{"rule": "max_streams"}},
		{Type: "settings.changed", Actor: "admin:root", Message: "settings, with \"quotes\"\nand a newline"},
	} {
		ev.At = base.Add(time.Duration(i) * time.Minute)
		i++
		if _, err := e.store.AppendEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventsPageFiltersAndDetail(t *testing.T) {
	e := newEnv(t)
	e.seed(t, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC))
	tests := []struct {
		query string
		want  []string
		not   []string
	}{
		{"", []string{"alice expired", "bob joined", "settings, with"}, nil},
		{"?type=user.", []string{"alice expired", "bob joined"}, []string{"settings, with", "calc"}},
		{"?type=user.joined", []string{"bob joined"}, []string{"alice expired"}},
		{"?actor=admin%3Aroot", []string{"settings, with"}, []string{"bob joined"}},
		{"?user_id=100", []string{"alice expired", "calc"}, []string{"bob joined"}},
		{"?since=2026-02-01T10:01:00Z&until=2026-02-01T10:02:00Z", []string{"bob joined", "calc"}, []string{"alice expired", "settings, with"}},
		{"?until=2026-01-31", nil, []string{"alice expired"}},
	}
	for _, tt := range tests {
		rec := e.admin.Do("GET", "/events"+tt.query, web.RoleAuditor, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", tt.query, rec.Code)
			continue
		}
		body := rec.Body.String()
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: lacks %q", tt.query, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(body, w) {
				t.Errorf("%s: shows %q", tt.query, w)
			}
		}
	}
	for _, bad := range []string{"?user_id=abc", "?since=yesterday", "?type=a/b"} {
		if rec := e.admin.Do("GET", "/events"+bad, web.RoleAuditor, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
	if rec := e.admin.Do("GET", "/events", web.RoleNone, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous: %d", rec.Code)
	}
	evs, _ := e.store.ListEvents(storage.EventQuery{Type: "stream.killed"})
	rec := e.admin.Do("GET", "/events/"+evs[0].ID, web.RoleAuditor, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "max_streams") {
		t.Errorf("detail = %d", rec.Code)
	}
	if rec := e.admin.Do("GET", "/events/nope", web.RoleAuditor, nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown event = %d", rec.Code)
	}
	// Export links carry the filter.
	body := e.admin.Do("GET", "/events?type=user.", web.RoleAuditor, nil).Body.String()
	if !strings.Contains(body, `href="/events/export?format=csv&amp;type=user."`) {
		t.Errorf("export link lacks the filter: %s", regexp.MustCompile(`href="/events/export[^"]*"`).FindString(body))
	}
}

func TestExportStreamsEveryMatchingEvent(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	// More than one storage page (1000) so the export pages through the cursor.
	for i := range 1205 {
		typ := "user.updated"
		if i%5 == 0 {
			typ = "sync.confirmed"
		}
		if _, err := e.store.AppendEvent(storage.Event{At: base.Add(time.Duration(i) * time.Second), Type: typ, Actor: "system", Message: fmt.Sprintf("event %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	e.seed(t, base.Add(24*time.Hour))

	rec := e.admin.Do("GET", "/events/export?format=csv", web.RoleAuditor, nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv = %d %v", rec.Code, rec.Header())
	}
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+1205+4 || rows[0][0] != "id" {
		t.Fatalf("csv rows = %d", len(rows))
	}
	var sawFormula, sawNewline bool
	for _, r := range rows[1:] {
		if strings.Contains(r[7], "calc") {
			sawFormula = strings.HasPrefix(r[7], "'=")
		}
		if strings.Contains(r[7], "quotes") {
			sawNewline = strings.Contains(r[7], "\n") && strings.Contains(r[7], `"quotes"`)
		}
	}
	if !sawFormula || !sawNewline {
		t.Errorf("formula guarded %v, multi-line cell kept %v", sawFormula, sawNewline)
	}

	rec = e.admin.Do("GET", "/events/export?format=json&type=sync.confirmed", web.RoleAuditor, nil)
	var evs []storage.Event
	if err := json.Unmarshal(rec.Body.Bytes(), &evs); err != nil {
		t.Fatalf("json export: %v", err)
	}
	if len(evs) != 241 {
		t.Errorf("json export has %d events, want 241", len(evs))
	}
	for _, ev := range evs {
		if ev.Type != "sync.confirmed" {
			t.Fatalf("filter not applied: %s", ev.Type)
		}
	}
	for _, bad := range []string{"?format=xml", "?format=csv&since=x"} {
		if rec := e.admin.Do("GET", "/events/export"+bad, web.RoleAuditor, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("%s = %d", bad, rec.Code)
		}
	}
}

func TestEventsAPI(t *testing.T) {
	e := newEnv(t)
	e.seed(t, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC))
	rec := e.admin.API("GET", "/events?type=user.&since=2026-02-01", web.RoleAuditor, "")
	var resp ListResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %v", rec.Code, err)
	}
	if len(resp.Events) != 2 || resp.Events[0].Type != "user.joined" || resp.Next != "" {
		t.Errorf("events = %+v", resp)
	}
	rec = e.admin.API("GET", "/events?limit=1", web.RoleAuditor, "")
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	if len(resp.Events) != 1 || resp.Next == "" {
		t.Fatalf("page 1 = %+v", resp)
	}
	rec = e.admin.API("GET", "/events?limit=1&before="+resp.Next, web.RoleAuditor, "")
	var page2 ListResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &page2)
	if len(page2.Events) != 1 || page2.Events[0].ID >= resp.Events[0].ID {
		t.Errorf("page 2 = %+v", page2)
	}
	for q, field := range map[string]string{"?since=nope": "since", "?limit=0": "limit", "?user_id=x": "user_id", "?before=zzz": "before"} {
		rec := e.admin.API("GET", "/events"+q, web.RoleAuditor, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), field) {
			t.Errorf("%s = %d %s", q, rec.Code, rec.Body.String())
		}
	}
	if rec := e.admin.API("GET", "/events", web.RoleNone, ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous = %d", rec.Code)
	}
}

func TestRetentionAndPrune(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, age := range []int{400, 40, 10, 1} {
		if _, err := e.store.AppendEvent(storage.Event{At: now.Add(-time.Duration(age) * 24 * time.Hour), Type: "user.updated", Actor: "system", Message: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Prune(e.store, now)
	if err != nil || n != 1 {
		t.Fatalf("Prune with the default 365 days = %d, %v", n, err)
	}
	if rec := e.admin.Do("POST", "/events/retention", web.RoleModerator, strings.NewReader("retention_days=30")); rec.Code != http.StatusForbidden {
		t.Errorf("moderator = %d", rec.Code)
	}
	if rec := e.admin.Do("POST", "/events/retention", web.RoleAdmin, strings.NewReader("retention_days=30")); rec.Code != http.StatusSeeOther {
		t.Fatalf("save = %d", rec.Code)
	}
	for _, bad := range []int{-1, 3651} {
		if err := SaveRetention(e.store, bad); err == nil {
			t.Errorf("SaveRetention(%d) accepted", bad)
		}
	}
	if n, err := Prune(e.store, now); err != nil || n != 1 {
		t.Fatalf("Prune at 30 days = %d, %v", n, err)
	}
	if err := SaveRetention(e.store, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := Prune(e.store, now.Add(1000*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("Prune with retention 0 = %d, %v", n, err)
	}
	if evs, _ := e.store.ListEvents(storage.EventQuery{Type: "events.pruned"}); len(evs) != 2 {
		t.Errorf("pruned events = %d", len(evs))
	}
}

func TestLogViewer(t *testing.T) {
	e := newEnv(t)
	logger := zap.New(e.logs.Core(zapcore.DebugLevel)).Named("plex_manager")
	logger.Debug("debug line")
	logger.Info("sync finished", zap.String("token", "owner-token-value"))
	logger.Warn("server slow", zap.String("url", "http://pms/?X-Plex-Token=abcdef"))
	logger.Error("sync failed")

	if rec := e.admin.Do("GET", "/logs", web.RoleModerator, nil); rec.Code != http.StatusForbidden {
		t.Errorf("moderator = %d", rec.Code)
	}
	rec := e.admin.Do("GET", "/logs", web.RoleAdmin, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "sync finished") || strings.Contains(body, "debug line") {
		t.Fatalf("logs = %d", rec.Code)
	}
	if strings.Contains(body, "owner-token-value") || strings.Contains(body, "abcdef") {
		t.Error("the log page shows a secret")
	}
	if i, j := strings.Index(body, "sync failed"), strings.Index(body, "sync finished"); i < 0 || i > j {
		t.Error("not newest first")
	}
	body = e.admin.Do("GET", "/logs?level=warn&q=sync", web.RoleAdmin, nil).Body.String()
	if !strings.Contains(body, "sync failed") || strings.Contains(body, "server slow") || strings.Contains(body, "sync finished") {
		t.Error("filters not applied")
	}
	rows := e.admin.Do("GET", "/logs/rows?level=debug&follow=1", web.RoleAdmin, nil, "HX-Request", "true")
	if !strings.Contains(rows.Body.String(), `hx-trigger="every 2s"`) || !strings.Contains(rows.Body.String(), "debug line") || strings.Contains(rows.Body.String(), "<html") {
		t.Errorf("rows fragment = %.300s", rows.Body.String())
	}
	dl := e.admin.Do("GET", "/logs/download?level=debug", web.RoleAdmin, nil)
	if !strings.Contains(dl.Header().Get("Content-Disposition"), "attachment") || strings.Count(dl.Body.String(), "\n") != 4 || strings.Contains(dl.Body.String(), "owner-token-value") {
		t.Errorf("download = %v %q", dl.Header(), dl.Body.String())
	}
	dl = e.admin.Do("GET", "/logs/download?format=json&level=error", web.RoleAdmin, nil)
	var entry logbuf.Entry
	if err := json.Unmarshal(dl.Body.Bytes(), &entry); err != nil || entry.Message != "sync failed" {
		t.Errorf("json download = %q %v", dl.Body.String(), err)
	}
}

func TestNotificationSettingsPage(t *testing.T) {
	e := newEnv(t)
	if rec := e.admin.Do("GET", "/notifications", web.RoleModerator, nil); rec.Code != http.StatusForbidden {
		t.Errorf("moderator = %d", rec.Code)
	}
	form := url.Values{"kinds": {notify.KindStreamKilled, notify.KindServerOffline}, "webhook_url": {"http://127.0.0.1:1/hook"},
		"webhook_secret": {"hook-secret-xyz"}, "warn_days": {"7"}}
	if rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader(form.Encode())); rec.Code != http.StatusSeeOther {
		t.Fatalf("save = %d %s", rec.Code, rec.Body.String())
	}
	page := e.admin.Do("GET", "/notifications", web.RoleAdmin, nil).Body.String()
	if strings.Contains(page, "hook-secret-xyz") || !strings.Contains(page, notify.Mask) || !strings.Contains(page, "Send a test to webhook") {
		t.Error("the page shows the secret or lacks the test button")
	}
	// Saving the page as shown keeps the secret.
	form.Set("webhook_secret", notify.Mask)
	if rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader(form.Encode())); rec.Code != http.StatusSeeOther {
		t.Fatalf("second save = %d", rec.Code)
	}
	if s, _ := e.notifier.Settings(); s.WebhookSecret != "hook-secret-xyz" || len(s.Kinds) != 2 || s.WarnDays != 7 {
		t.Errorf("settings = %+v", s)
	}
	for _, bad := range []url.Values{{"kinds": {"nope"}}, {"warn_days": {"x"}}, {"webhook_url": {"ftp://x"}}} {
		rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader(bad.Encode()))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "flash-error") {
			t.Errorf("%v = %d", bad, rec.Code)
		}
	}
	// The test button reports the failure (nothing listens on port 1) in the delivery log.
	rec := e.admin.Do("POST", "/notifications/test", web.RoleAdmin, strings.NewReader("channel=webhook"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("test = %d", rec.Code)
	}
	if d := e.notifier.Deliveries(); len(d) != 1 || d[0].OK || d[0].Kind != notify.KindTest {
		t.Errorf("deliveries = %+v", d)
	}
	if !strings.Contains(e.admin.Do("GET", "/notifications", web.RoleAdmin, nil).Body.String(), "failed") {
		t.Error("the failed delivery is not shown")
	}
}

// TestNotificationFormRefusalKeepsWhatWasTyped: a refused save shows the shoutrrr lines as posted (the
// hidden saved ones and a newly typed one), and saving that form again keeps every URL it stood for.
func TestNotificationFormRefusalKeepsWhatWasTyped(t *testing.T) {
	e := newEnv(t)
	saved := []string{"generic://example.com/hooks/aaaa1111", "generic://example.com/hooks/bbbb2222"}
	form := url.Values{"kinds": {notify.KindStreamKilled}, "shoutrrr_urls": {strings.Join(saved, "\n")}}
	if rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader(form.Encode())); rec.Code != http.StatusSeeOther {
		t.Fatalf("save = %d %s", rec.Code, rec.Body.String())
	}
	shown := textareaValue(t, e.admin.Do("GET", "/notifications", web.RoleAdmin, nil).Body.String(), "shoutrrr_urls")
	if strings.Contains(shown, "aaaa1111") || strings.Count(shown, "\n") != 1 {
		t.Fatalf("shown shoutrrr lines = %q", shown)
	}
	// The admin adds a URL before the hidden ones and mistypes the warning days.
	typed := "generic://example.org/new/cccc3333"
	form.Set("shoutrrr_urls", typed+"\n"+shown)
	form.Set("warn_days", "x")
	rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader(form.Encode()))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("refused save = %d", rec.Code)
	}
	again := textareaValue(t, rec.Body.String(), "shoutrrr_urls")
	if again != typed+"\n"+shown {
		t.Fatalf("the refused form shows %q, want what was posted %q", again, typed+"\n"+shown)
	}
	form.Set("shoutrrr_urls", again)
	form.Set("warn_days", "3")
	if rec := e.admin.Do("POST", "/notifications", web.RoleAdmin, strings.NewReader(form.Encode())); rec.Code != http.StatusSeeOther {
		t.Fatalf("corrected save = %d %s", rec.Code, rec.Body.String())
	}
	s, _ := e.notifier.Settings()
	if want := append([]string{typed}, saved...); !slices.Equal(s.ShoutrrrURLs, want) {
		t.Errorf("stored shoutrrr URLs = %q, want %q", s.ShoutrrrURLs, want)
	}
}

// textareaValue returns the unescaped text of the textarea named name in page.
func textareaValue(t *testing.T, page, name string) string {
	t.Helper()
	start := strings.Index(page, `name="`+name+`"`)
	if start < 0 {
		t.Fatalf("no textarea %q in the page", name)
	}
	open := strings.Index(page[start:], ">")
	end := strings.Index(page[start:], "</textarea>")
	if open < 0 || end < open {
		t.Fatalf("textarea %q not closed", name)
	}
	return html.UnescapeString(page[start+open+1 : start+end])
}

func TestPublicAccessStatusPage(t *testing.T) {
	e := newEnv(t)
	exp := time.Now().Add(72 * time.Hour).UTC()
	if err := e.store.PutServer(storage.Server{ID: "srv1", Name: "Basement", Libraries: []storage.Library{{Key: "1", Title: "Movies"}, {Key: "2", Title: "Shows"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutUser(storage.User{ID: 500, Username: "alice", Kind: storage.KindFriend, Status: storage.StatusActive, ExpiresAt: &exp,
		Shares: map[string]storage.Share{"srv1": {Libraries: []string{"2"}}}}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.notifier.StatusToken(500, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rec := e.invite.Do("GET", "/access/"+tok, web.RoleNone, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "alice") || !strings.Contains(body, "Basement") || !strings.Contains(body, "Shows") || strings.Contains(body, "Movies") {
		t.Fatalf("status page = %d %s", rec.Code, body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("status page cacheable")
	}
	bad := tok[:len(tok)-1] + "A"
	if bad == tok {
		bad = tok[:len(tok)-1] + "B"
	}
	for _, tk := range []string{bad, "nope", strings.Repeat("a", 200)} {
		if rec := e.invite.Do("GET", "/access/"+tk, web.RoleNone, nil); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "alice") {
			t.Errorf("token %q = %d", tk, rec.Code)
		}
	}
	// Not served on the admin handler.
	if rec := e.admin.Do("GET", "/access/"+tok, web.RoleNone, nil); rec.Code == http.StatusOK {
		t.Error("the admin handler serves the public page")
	}
}
