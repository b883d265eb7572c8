package discordbot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plex-manager/caddy-plex-manager/access/invite/discordtest"
	"github.com/plex-manager/caddy-plex-manager/notify"
	"github.com/plex-manager/caddy-plex-manager/notify/discordbot"
)

var _ notify.DMSender = (*discordbot.Client)(nil)

// Accounts of the fake.
const (
	alice  = "300000000000000001" // accepts DMs
	bob    = "300000000000000002" // closed DMs
	carol  = "300000000000000003"
	nobody = "300000000000000009" // no such account
)

// newFake starts the fake Discord with alice, bob and carol.
func newFake(t *testing.T) *discordtest.Server {
	t.Helper()
	fake := discordtest.NewServer(t, discordtest.Options{})
	fake.AddUser(discordtest.User{ID: alice, Username: "alice"})
	fake.AddUser(discordtest.User{ID: bob, Username: "bob", DMsClosed: true})
	fake.AddUser(discordtest.User{ID: carol, Username: "carol"})
	return fake
}

// newClient returns a client of the fake with short waits; edit changes the config.
func newClient(t *testing.T, apiURL string, edit func(*discordbot.Config)) *discordbot.Client {
	t.Helper()
	cfg := discordbot.Config{
		Token: discordtest.DefaultBotToken, APIURL: apiURL,
		BaseBackoff: 5 * time.Millisecond, MaxRetryWait: 2 * time.Second, Timeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := discordbot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendDM(t *testing.T) {
	long := strings.Repeat("ab😀", 700) // 2100 characters
	tests := []struct {
		name      string
		token     string
		user      string
		text      string
		wantErr   error
		want      string // content alice received ("" with an error)
		openCalls int
		msgCalls  int
	}{
		{"message", "", alice, "Your access ends on 1 May.", nil, "Your access ends on 1 May.", 1, 1},
		{"exactly 2000 characters", "", alice, strings.Repeat("é", 2000), nil, strings.Repeat("é", 2000), 1, 1},
		{"cut at 2000 characters", "", alice, long, nil, string([]rune(long)[:1999]) + "…", 1, 1},
		{"invalid UTF-8 made valid", "", alice, "a\xffb", nil, "a\uFFFDb", 1, 1},
		{"mention is sent as text", "", alice, "@everyone look", nil, "@everyone look", 1, 1},
		{"closed DMs", "", bob, "hi", discordbot.ErrCannotDM, "", 1, 1},
		{"unknown user", "", nobody, "hi", discordbot.ErrUnknownUser, "", 1, 0},
		{"wrong token", "Bot wrong-token", alice, "hi", discordbot.ErrInvalidToken, "", 1, 0},
		{"not a snowflake", "", "alice", "hi", discordbot.ErrInvalidUserID, "", 0, 0},
		{"path in the id", "", "1/../../x", "hi", discordbot.ErrInvalidUserID, "", 0, 0},
		{"empty text", "", alice, "", discordbot.ErrEmptyMessage, "", 0, 0},
		{"blank text", "", alice, " \n ", discordbot.ErrEmptyMessage, "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			c := newClient(t, fake.APIURL(), func(cfg *discordbot.Config) {
				if tc.token != "" {
					cfg.Token = tc.token
				}
			})
			err := c.SendDM(context.Background(), tc.user, tc.text)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("SendDM: %v, want %v", err, tc.wantErr)
			}
			if open, msg := fake.CallCount(discordtest.RouteOpenDM), fake.CallCount(discordtest.RouteCreateMessage); open != tc.openCalls || msg != tc.msgCalls {
				t.Errorf("%d channel and %d message requests, want %d and %d (final answers are not retried)", open, msg, tc.openCalls, tc.msgCalls)
			}
			dms := fake.DMs(alice)
			if tc.want == "" {
				if len(dms) != 0 {
					t.Errorf("alice received %d messages", len(dms))
				}
				return
			}
			if len(dms) != 1 || dms[0].Content != tc.want {
				t.Fatalf("alice received %d messages: %+v", len(dms), dms)
			}
			if n := utf8.RuneCountInString(dms[0].Content); n > discordbot.MaxContentLength {
				t.Errorf("%d characters sent", n)
			}
			for _, call := range fake.Calls() {
				if call.UserAgent != "DiscordBot ("+discordbot.ProjectURL+", "+discordbot.DefaultVersion+")" {
					t.Errorf("User-Agent %q", call.UserAgent)
				}
			}
		})
	}
}

func TestSendDMCachesChannels(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake.APIURL(), func(cfg *discordbot.Config) { cfg.CacheSize = 2 })
	ctx := context.Background()
	steps := []struct {
		user  string
		opens int // RouteOpenDM calls so far
	}{
		{alice, 1},
		{alice, 1}, // cached
		{carol, 2},
		{alice, 2}, // still cached (2 entries)
		{addDave(fake), 3},
		{carol, 4}, // carol was the least recently used: dropped
		{alice, 5}, // dropped by carol's return
	}
	for i, st := range steps {
		if err := c.SendDM(ctx, st.user, "hi"); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n := fake.CallCount(discordtest.RouteOpenDM); n != st.opens {
			t.Fatalf("step %d (%s): %d channel requests, want %d", i, st.user, n, st.opens)
		}
	}
	if n := len(fake.DMs(alice)); n != 4 {
		t.Errorf("alice received %d messages, want 4", n)
	}
}

// addDave adds a fourth account that accepts DMs.
func addDave(fake *discordtest.Server) string {
	return fake.AddUser(discordtest.User{ID: "300000000000000004", Username: "dave"}).ID
}

func TestSendDMRetries(t *testing.T) {
	msg, open := discordtest.RouteCreateMessage, discordtest.RouteOpenDM
	tests := []struct {
		name    string
		faults  []discordtest.Fault
		edit    func(*discordbot.Config)
		ctxFor  time.Duration // 0: no deadline
		wantErr error
		// wantStatus is the status of a final *APIError that matches none of the sentinels.
		wantStatus int
		msgCalls   int
		minTime    time.Duration
		maxTime    time.Duration
	}{
		{"429 twice, then sent", []discordtest.Fault{{Route: msg, Status: 429, Count: 2, RetryAfter: 60 * time.Millisecond}}, nil, 0, nil, 0, 3, 120 * time.Millisecond, 2 * time.Second},
		{"global 429 on the channel, then sent", []discordtest.Fault{{Route: open, Status: 429, Count: 1, RetryAfter: 50 * time.Millisecond, Global: true}}, nil, 0, nil, 0, 1, 50 * time.Millisecond, 2 * time.Second},
		{"429 until the retries run out", []discordtest.Fault{{Route: msg, Status: 429, RetryAfter: 10 * time.Millisecond}}, func(c *discordbot.Config) { c.Retries = 2 }, 0, discordbot.ErrRateLimited, 0, 3, 20 * time.Millisecond, 2 * time.Second},
		{"429 longer than MaxRetryWait", []discordtest.Fault{{Route: msg, Status: 429, RetryAfter: 5 * time.Second}}, nil, 0, discordbot.ErrRateLimited, 0, 1, 0, time.Second},
		{"429 longer than the context allows", []discordtest.Fault{{Route: msg, Status: 429, RetryAfter: 1500 * time.Millisecond}}, nil, 500 * time.Millisecond, discordbot.ErrRateLimited, 0, 1, 0, 400 * time.Millisecond},
		{"502 twice, then sent", []discordtest.Fault{{Route: msg, Status: 502, Count: 2}}, nil, 0, nil, 0, 3, 0, 2 * time.Second},
		{"503 until the retries run out", []discordtest.Fault{{Route: msg, Status: 503}}, nil, 0, discordbot.ErrUnavailable, 0, 4, 0, 2 * time.Second},
		{"500 without retries", []discordtest.Fault{{Route: msg, Status: 500}}, func(c *discordbot.Config) { c.Retries = -1 }, 0, discordbot.ErrUnavailable, 0, 1, 0, time.Second},
		{"403 other than 50007 is final", []discordtest.Fault{{Route: msg, Status: 403, Code: 50001, Message: "Missing Access"}}, nil, 0, nil, 403, 1, 0, time.Second},
		{"400 is final", []discordtest.Fault{{Route: msg, Status: 400, Code: 50035, Message: "Invalid Form Body"}}, nil, 0, nil, 400, 1, 0, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			for _, f := range tc.faults {
				fake.Inject(f)
			}
			c := newClient(t, fake.APIURL(), tc.edit)
			ctx := context.Background()
			if tc.ctxFor > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxFor)
				defer cancel()
			}
			start := time.Now()
			err := c.SendDM(ctx, alice, "hello")
			took := time.Since(start)
			var apiErr *discordbot.APIError
			if err != nil && !errors.As(err, &apiErr) {
				t.Fatalf("the error is not an *APIError: %T %v", err, err)
			}
			switch {
			case tc.wantStatus != 0:
				sentinels := []error{discordbot.ErrCannotDM, discordbot.ErrUnknownUser, discordbot.ErrInvalidToken, discordbot.ErrRateLimited, discordbot.ErrUnavailable}
				if err == nil || apiErr.Status != tc.wantStatus || slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
					t.Fatalf("SendDM: %v, want a plain HTTP %d API error", err, tc.wantStatus)
				}
			case !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil):
				t.Fatalf("SendDM: %v, want %v", err, tc.wantErr)
			}
			if n := fake.CallCount(msg); n != tc.msgCalls {
				t.Errorf("%d message requests, want %d", n, tc.msgCalls)
			}
			if took < tc.minTime || took > tc.maxTime {
				t.Errorf("took %v, want between %v and %v", took, tc.minTime, tc.maxTime)
			}
			wantSent := 0
			if err == nil {
				wantSent = 1
			}
			if n := len(fake.DMs(alice)); n != wantSent {
				t.Errorf("alice received %d messages, want %d", n, wantSent)
			}
		})
	}
}

func TestSendDMRateLimitMessage(t *testing.T) {
	fake := newFake(t)
	fake.Inject(discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 429, RetryAfter: 64500 * time.Millisecond, Global: true})
	err := newClient(t, fake.APIURL(), nil).SendDM(context.Background(), alice, "hello")
	var apiErr *discordbot.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 64500*time.Millisecond || !apiErr.Global {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(err.Error(), "global rate limit, retry after 1m4.5s") {
		t.Errorf("message %q", err)
	}
}

func TestSendDMReopensLostChannel(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake.APIURL(), nil)
	ctx := context.Background()
	if err := c.SendDM(ctx, alice, "one"); err != nil {
		t.Fatal(err)
	}
	fake.Inject(discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 404, Code: discordbot.CodeUnknownChannel, Message: "Unknown Channel", Count: 1})
	if err := c.SendDM(ctx, alice, "two"); err != nil {
		t.Fatalf("a lost cached channel must be opened again: %v", err)
	}
	if n := fake.CallCount(discordtest.RouteOpenDM); n != 2 {
		t.Errorf("%d channel requests, want 2", n)
	}
	// An unknown channel that was just opened is not opened again and again.
	fake.Inject(discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 404, Code: discordbot.CodeUnknownChannel, Message: "Unknown Channel"})
	c2 := newClient(t, fake.APIURL(), nil)
	if err := c2.SendDM(ctx, alice, "three"); err == nil {
		t.Fatal("SendDM succeeded against a channel that is always unknown")
	}
	if n := fake.CallCount(discordtest.RouteOpenDM); n != 3 {
		t.Errorf("%d channel requests, want 3", n)
	}
	if got := fake.DMs(alice); len(got) != 2 || got[1].Content != "two" {
		t.Errorf("alice received %+v", got)
	}
}

// loseFirstAnswer passes requests to next but answers the first message post with a 502 after
// Discord processed it, as when a proxy loses the answer.
type loseFirstAnswer struct {
	next http.Handler
	lost atomic.Bool
}

func (l *loseFirstAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/messages") && l.lost.CompareAndSwap(false, true) {
		l.next.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
		return
	}
	l.next.ServeHTTP(w, r)
}

func TestSendDMRetryPostsOnce(t *testing.T) {
	fake := discordtest.New(discordtest.Options{})
	fake.AddUser(discordtest.User{ID: alice})
	srv := httptest.NewServer(&loseFirstAnswer{next: fake})
	t.Cleanup(srv.Close)
	fake.SetBaseURL(srv.URL)
	if err := newClient(t, fake.APIURL(), nil).SendDM(context.Background(), alice, "only once"); err != nil {
		t.Fatalf("SendDM: %v", err)
	}
	if n := fake.CallCount(discordtest.RouteCreateMessage); n != 2 {
		t.Fatalf("%d message requests, want 2 (one retry)", n)
	}
	if dms := fake.DMs(alice); len(dms) != 1 {
		t.Fatalf("the retry posted the message again: %d messages", len(dms))
	}
}

func TestSendDMStopsAfterInvalidToken(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake.APIURL(), func(cfg *discordbot.Config) { cfg.Token = "revoked-token" })
	ctx := context.Background()
	for i := range 3 {
		if err := c.SendDM(ctx, alice, "hi"); !errors.Is(err, discordbot.ErrInvalidToken) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if n := len(fake.Calls()); n != 1 {
		t.Errorf("%d requests with a refused token, want 1", n)
	}
}

func TestSendDMContext(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake.APIURL(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.SendDM(ctx, alice, "hi"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	// A cancellation while waiting for a retry ends the wait at once.
	fake.Inject(discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 503})
	ctx, cancel = context.WithCancel(context.Background())
	c = newClient(t, fake.APIURL(), func(cfg *discordbot.Config) { cfg.BaseBackoff = time.Second })
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if err := c.SendDM(ctx, alice, "hi"); err == nil {
		t.Fatal("SendDM succeeded")
	}
	if took := time.Since(start); took > 700*time.Millisecond {
		t.Errorf("the retry wait outlived the context by %v", took-100*time.Millisecond)
	}
	if len(fake.DMs(alice)) != 0 {
		t.Error("a message was stored")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		faults  []discordtest.Fault
		wantErr error
	}{
		{"valid token", "", nil, nil},
		{"Bot prefix in the setting", "Bot " + discordtest.DefaultBotToken, nil, nil},
		{"wrong token", "nope", nil, discordbot.ErrInvalidToken},
		{"5xx then fine", "", []discordtest.Fault{{Route: discordtest.RouteMe, Status: 503, Count: 1}}, nil},
		{"rate limited beyond the budget", "", []discordtest.Fault{{Route: discordtest.RouteMe, Status: 429, RetryAfter: time.Minute}}, discordbot.ErrRateLimited},
		{"unavailable", "", []discordtest.Fault{{Route: discordtest.RouteMe, Status: 500}}, discordbot.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			for _, f := range tc.faults {
				fake.Inject(f)
			}
			c := newClient(t, fake.APIURL(), func(cfg *discordbot.Config) {
				if tc.token != "" {
					cfg.Token = tc.token
				}
			})
			me, err := c.Check(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Check: %v, want %v", err, tc.wantErr)
			}
			if err == nil && (me.ID != discordtest.BotID || me.Username != discordtest.BotUsername) {
				t.Errorf("bot %+v", me)
			}
		})
	}
}

func TestCheckRejectsOddAnswers(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"not JSON", "<html>ok</html>"},
		{"no id", `{"username":"x","bot":true}`},
		{"not a bot", `{"id":"300000000000000001","username":"alice","bot":false}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			if _, err := newClient(t, srv.URL, nil).Check(context.Background()); err == nil {
				t.Fatal("Check accepted the answer")
			}
		})
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	// A hostile or broken server that echoes the Authorization header everywhere.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0.01")
		switch {
		case strings.HasSuffix(r.URL.Path, "/@me"):
			w.WriteHeader(http.StatusUnauthorized)
		case strings.HasSuffix(r.URL.Path, "/channels"):
			_, _ = w.Write([]byte(`{"id":"400000000000000001"}`))
			return
		default:
			w.WriteHeader(http.StatusTooManyRequests)
		}
		_, _ = w.Write([]byte(`{"message":"bad ` + auth + `","code":0}`))
	}))
	t.Cleanup(echo.Close)
	c := newClient(t, echo.URL, func(cfg *discordbot.Config) { cfg.Token = secretToken })
	ctx := context.Background()
	errs := []error{c.SendDM(ctx, alice, "hi")}
	_, err := c.Check(ctx)
	errs = append(errs, err)
	// And a request that gets no answer at all.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	errs = append(errs, newClient(t, dead.URL, func(cfg *discordbot.Config) { cfg.Token = secretToken; cfg.Retries = -1 }).SendDM(ctx, alice, "hi"))
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		if strings.Contains(err.Error(), "do-not-print-me") {
			t.Errorf("case %d: the error shows the token: %v", i, err)
		}
	}
	if !errors.Is(errs[0], discordbot.ErrRateLimited) || !errors.Is(errs[1], discordbot.ErrInvalidToken) || !errors.Is(errs[2], discordbot.ErrUnavailable) {
		t.Errorf("errors %v", errs)
	}
}
