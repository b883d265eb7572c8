package discordtest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite/discordtest"
)

// answer is a decoded response of the fake.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// code returns the JSON error code of the answer (-1 when absent).
func (a answer) code() int {
	if c, ok := a.body["code"].(float64); ok {
		return int(c)
	}
	return -1
}

// call sends one request to the fake.
func call(t *testing.T, fake *discordtest.Server, method, path, auth, contentType, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, fake.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "DiscordBot (https://example.com, 1)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v", method, path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return a
}

const (
	alice  = "300000000000000001" // DMs open
	bob    = "300000000000000002" // DMs closed
	nobody = "300000000000000009"
)

// botFake starts a fake with two users.
func botFake(t *testing.T) *discordtest.Server {
	t.Helper()
	fake := discordtest.NewServer(t, discordtest.Options{})
	fake.AddUser(discordtest.User{ID: alice, Username: "alice"})
	fake.AddUser(discordtest.User{ID: bob, Username: "bob", DMsClosed: true})
	return fake
}

// bot is the right Authorization header.
func bot(fake *discordtest.Server) string { return "Bot " + fake.BotToken() }

// openChannel opens the DM channel with user and returns its id.
func openChannel(t *testing.T, fake *discordtest.Server, user string) string {
	t.Helper()
	a := call(t, fake, "POST", "/api/v10/users/@me/channels", bot(fake), "application/json", `{"recipient_id":"`+user+`"}`)
	if a.status != http.StatusOK {
		t.Fatalf("opening a DM with %s: %d %v", user, a.status, a.body)
	}
	return a.body["id"].(string)
}

func TestBotMe(t *testing.T) {
	fake := botFake(t)
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"bot token", "Bot " + discordtest.DefaultBotToken, http.StatusOK},
		{"wrong token", "Bot nope", http.StatusUnauthorized},
		{"token without Bot prefix", discordtest.DefaultBotToken, http.StatusUnauthorized},
		{"lower-case prefix", "bot " + discordtest.DefaultBotToken, http.StatusUnauthorized},
		{"missing", "", http.StatusUnauthorized},
		{"unknown bearer", "Bearer " + discordtest.DefaultBotToken, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, fake, "GET", "/api/v10/users/@me", tc.auth, "", "")
			if a.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", a.status, tc.status, a.body)
			}
			if tc.status == http.StatusOK {
				if a.body["id"] != discordtest.BotID || a.body["bot"] != true || a.body["username"] != discordtest.BotUsername {
					t.Errorf("bot user %v", a.body)
				}
				return
			}
			if a.body["message"] != "401: Unauthorized" || a.code() != 0 {
				t.Errorf("401 body %v", a.body)
			}
		})
	}
}

func TestOpenDM(t *testing.T) {
	fake := botFake(t)
	tests := []struct {
		name        string
		auth        string
		contentType string
		body        string
		status      int
		code        int
	}{
		{"user", bot(fake), "application/json", `{"recipient_id":"` + alice + `"}`, 200, -1},
		{"numeric id", bot(fake), "application/json; charset=utf-8", `{"recipient_id":` + alice + `}`, 200, -1},
		{"closed DMs still get a channel", bot(fake), "application/json", `{"recipient_id":"` + bob + `"}`, 200, -1},
		{"unknown user", bot(fake), "application/json", `{"recipient_id":"` + nobody + `"}`, 404, discordtest.CodeUnknownUser},
		{"not a snowflake", bot(fake), "application/json", `{"recipient_id":"alice"}`, 400, discordtest.CodeInvalidFormBody},
		{"leading zero", bot(fake), "application/json", `{"recipient_id":"0` + alice + `"}`, 400, discordtest.CodeInvalidFormBody},
		{"missing recipient", bot(fake), "application/json", `{}`, 400, discordtest.CodeInvalidFormBody},
		{"recipient of the wrong type", bot(fake), "application/json", `{"recipient_id":true}`, 400, discordtest.CodeInvalidFormBody},
		{"form body", bot(fake), "application/x-www-form-urlencoded", "recipient_id=" + alice, 400, discordtest.CodeInvalidFormBody},
		{"no content type", bot(fake), "", `{"recipient_id":"` + alice + `"}`, 400, discordtest.CodeInvalidFormBody},
		{"malformed JSON", bot(fake), "application/json", `{"recipient_id":`, 400, discordtest.CodeInvalidJSON},
		{"wrong token", "Bot nope", "application/json", `{"recipient_id":"` + alice + `"}`, 401, 0},
		{"OAuth user token", "Bearer x", "application/json", `{"recipient_id":"` + alice + `"}`, 401, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, fake, "POST", "/api/v10/users/@me/channels", tc.auth, tc.contentType, tc.body)
			if a.status != tc.status || (tc.code >= 0 && a.code() != tc.code) {
				t.Fatalf("answer %d code %d, want %d code %d (%v)", a.status, a.code(), tc.status, tc.code, a.body)
			}
			if a.status == http.StatusOK {
				recipients, _ := a.body["recipients"].([]any)
				if a.body["type"] != float64(1) || len(recipients) != 1 {
					t.Errorf("channel %v", a.body)
				}
			}
		})
	}
	first, _ := fake.DMChannel(alice)
	if again := openChannel(t, fake, alice); again != first || first == "" {
		t.Errorf("the DM channel with a user changed: %q then %q", first, again)
	}
	if _, ok := fake.DMChannel(nobody); ok {
		t.Error("a channel was opened with an unknown user")
	}
}

func TestCreateMessage(t *testing.T) {
	fake := botFake(t)
	aliceCh, bobCh := openChannel(t, fake, alice), openChannel(t, fake, bob)
	full := strings.Repeat("é", discordtest.MaxMessageLength)
	tests := []struct {
		name    string
		channel string
		auth    string
		body    string
		status  int
		code    int
		stored  string // content expected in alice's DMs afterwards ("": nothing new)
	}{
		{"message", aliceCh, bot(fake), `{"content":"hello"}`, 200, -1, "hello"},
		{"2000 characters of 2 bytes", aliceCh, bot(fake), `{"content":"` + full + `"}`, 200, -1, full},
		{"2001 characters", aliceCh, bot(fake), `{"content":"` + full + `x"}`, 400, discordtest.CodeInvalidFormBody, ""},
		{"empty", aliceCh, bot(fake), `{"content":""}`, 400, discordtest.CodeEmptyMessage, ""},
		{"blank", aliceCh, bot(fake), `{"content":" \n\t"}`, 400, discordtest.CodeEmptyMessage, ""},
		{"no content", aliceCh, bot(fake), `{}`, 400, discordtest.CodeEmptyMessage, ""},
		{"content of the wrong type", aliceCh, bot(fake), `{"content":5}`, 400, discordtest.CodeInvalidFormBody, ""},
		{"nonce too long", aliceCh, bot(fake), `{"content":"x","nonce":"` + strings.Repeat("n", 26) + `"}`, 400, discordtest.CodeInvalidFormBody, ""},
		{"closed DMs", bobCh, bot(fake), `{"content":"hello"}`, 403, discordtest.CodeCannotMessageUser, ""},
		{"closed DMs, empty content", bobCh, bot(fake), `{"content":""}`, 400, discordtest.CodeEmptyMessage, ""},
		{"unknown channel", "400000000000000001", bot(fake), `{"content":"hello"}`, 404, discordtest.CodeUnknownChannel, ""},
		{"wrong token", aliceCh, "Bot nope", `{"content":"hello"}`, 401, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(fake.DMs(alice))
			a := call(t, fake, "POST", "/api/v10/channels/"+tc.channel+"/messages", tc.auth, "application/json", tc.body)
			if a.status != tc.status || (tc.code >= 0 && a.code() != tc.code) {
				t.Fatalf("answer %d code %d, want %d code %d (%v)", a.status, a.code(), tc.status, tc.code, a.body)
			}
			dms := fake.DMs(alice)
			switch {
			case tc.stored == "" && len(dms) != before:
				t.Errorf("a refused message was stored: %d → %d", before, len(dms))
			case tc.stored != "" && (len(dms) != before+1 || dms[len(dms)-1].Content != tc.stored || dms[len(dms)-1].ChannelID != aliceCh):
				t.Errorf("message not stored: %d → %d", before, len(dms))
			case tc.stored != "" && (a.body["id"] != dms[len(dms)-1].ID || a.body["channel_id"] != aliceCh):
				t.Errorf("message object %v", a.body)
			}
		})
	}
	if dms := fake.DMs(bob); len(dms) != 0 {
		t.Errorf("bob, whose DMs are closed, received %d messages", len(dms))
	}
	if a := call(t, fake, "GET", "/api/v10/channels/"+aliceCh+"/messages", bot(fake), "", ""); a.status != http.StatusNotFound {
		t.Errorf("GET on the message route: %d", a.status)
	}
}

func TestCreateMessageNonce(t *testing.T) {
	fake := botFake(t)
	ch := openChannel(t, fake, alice)
	post := func(body string) answer {
		return call(t, fake, "POST", "/api/v10/channels/"+ch+"/messages", bot(fake), "application/json", body)
	}
	first := post(`{"content":"warning","nonce":"n-1","enforce_nonce":true}`)
	second := post(`{"content":"warning","nonce":"n-1","enforce_nonce":true}`)
	if first.status != 200 || second.status != 200 || first.body["id"] != second.body["id"] {
		t.Fatalf("an enforced nonce must return the first message: %v / %v", first.body, second.body)
	}
	if n := len(fake.DMs(alice)); n != 1 {
		t.Fatalf("%d messages stored for one enforced nonce", n)
	}
	post(`{"content":"warning","nonce":"n-1"}`)
	post(`{"content":"warning","nonce":12345,"enforce_nonce":true}`)
	if n := len(fake.DMs(alice)); n != 3 {
		t.Fatalf("a nonce without enforce_nonce, or a new nonce, must create a message: %d stored", n)
	}
}

func TestBotFaults(t *testing.T) {
	fake := botFake(t)
	ch := openChannel(t, fake, alice)
	msgPath := "/api/v10/channels/" + ch + "/messages"
	tests := []struct {
		name   string
		fault  discordtest.Fault
		check  func(t *testing.T, a answer)
		status int
	}{
		{"rate limited", discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 429, Count: 1, RetryAfter: 1500 * time.Millisecond}, func(t *testing.T, a answer) {
			h := a.header
			if a.body["retry_after"] != 1.5 || a.body["global"] != false || h.Get("Retry-After") != "2" ||
				h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset-After") != "1.500" ||
				h.Get("X-RateLimit-Scope") != "user" || h.Get("X-RateLimit-Bucket") == "" || h.Get("X-RateLimit-Global") != "" {
				t.Errorf("429 answer %v %v", a.body, h)
			}
			reset, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64)
			if now := float64(time.Now().Unix()); err != nil || reset < now || reset > now+3 {
				t.Errorf("X-RateLimit-Reset %q", h.Get("X-RateLimit-Reset"))
			}
		}, 429},
		{"global rate limit", discordtest.Fault{Status: 429, Count: 1, Global: true}, func(t *testing.T, a answer) {
			if a.body["retry_after"] != 1.0 || a.body["global"] != true || a.header.Get("X-RateLimit-Global") != "true" || a.header.Get("X-RateLimit-Scope") != "global" {
				t.Errorf("global 429 answer %v %v", a.body, a.header)
			}
		}, 429},
		{"server error", discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 502, Count: 1}, func(t *testing.T, a answer) {
			if a.body["message"] != "injected fault" {
				t.Errorf("5xx answer %v", a.body)
			}
		}, 502},
		{"coded error", discordtest.Fault{Route: discordtest.RouteCreateMessage, Status: 404, Count: 1, Code: 10003, Message: "Unknown Channel"}, func(t *testing.T, a answer) {
			if a.body["message"] != "Unknown Channel" || a.code() != 10003 {
				t.Errorf("coded answer %v", a.body)
			}
		}, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.Inject(tc.fault)
			a := call(t, fake, "POST", msgPath, bot(fake), "application/json", `{"content":"x"}`)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d", a.status, tc.status)
			}
			tc.check(t, a)
			if a := call(t, fake, "POST", msgPath, bot(fake), "application/json", `{"content":"x"}`); a.status != 200 {
				t.Errorf("a fault with Count 1 answered twice: %d", a.status)
			}
		})
	}
	if n := len(fake.DMs(alice)); n != len(tests) {
		t.Errorf("%d messages stored, want %d (faulted requests store nothing)", n, len(tests))
	}
}

func TestBotCallLog(t *testing.T) {
	fake := botFake(t)
	ch := openChannel(t, fake, alice)
	call(t, fake, "POST", "/api/v10/channels/"+ch+"/messages", bot(fake), "application/json", `{"content":"x"}`)
	call(t, fake, "POST", "/api/v10/channels/"+ch+"/messages", bot(fake), "application/json", `{"content":""}`)
	if n := fake.CallCount(discordtest.RouteCreateMessage); n != 2 {
		t.Fatalf("%d calls on the message route, want 2", n)
	}
	calls := fake.Calls()
	last := calls[len(calls)-1]
	if last.Path != "/api/v10/channels/"+ch+"/messages" || last.Status != 400 || last.UserAgent != "DiscordBot (https://example.com, 1)" {
		t.Errorf("last call %+v", last)
	}
	if calls[0].Route != discordtest.RouteOpenDM || calls[0].Status != 200 {
		t.Errorf("first call %+v", calls[0])
	}
}
