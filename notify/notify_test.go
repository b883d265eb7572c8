package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// receiver is a local webhook receiver that fails the first `fail` requests with status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	fail   int
	status int
	header http.Header // extra response headers on failures
	body   string      // response body on failures
}

func newReceiver(t *testing.T, fail, status int) *receiver {
	t.Helper()
	r := &receiver{fail: fail, status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.heads = append(r.heads, req.Header.Clone())
		failing := len(r.bodies) <= r.fail
		r.mu.Unlock()
		if failing {
			for k, v := range r.header {
				w.Header()[k] = v
			}
			w.WriteHeader(r.status)
			_, _ = io.WriteString(w, r.body)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.heads...)
}

// observed records Observe calls.
type observed struct {
	mu   sync.Mutex
	list []string
}

func (o *observed) observe(ch string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	res := "ok"
	if err != nil {
		res = "failed"
	}
	o.list = append(o.list, ch+":"+res)
}

func (o *observed) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.list...)
}

// newTestNotifier opens a store and a notifier with fast retries.
func newTestNotifier(t *testing.T, adjust ...func(*Options)) (*Notifier, *storage.Store, *observed) {
	t.Helper()
	store := storetest.Memory(t)
	obs := &observed{}
	opts := Options{Store: store, Observe: obs.observe, BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 2 * time.Second}
	for _, fn := range adjust {
		fn(&opts)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return n, store, obs
}

func events(t *testing.T, store *storage.Store, typ string) []storage.Event {
	t.Helper()
	evs, err := store.ListEvents(storage.EventQuery{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestWebhookSignedAndRetriedUntilDelivered(t *testing.T) {
	rcv := newReceiver(t, 2, http.StatusInternalServerError)
	n, store, obs := newTestNotifier(t)
	const secret = "s3cret-webhook-key"
	if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindStreamKilled}, WebhookURL: rcv.srv.URL + "/hook", WebhookSecret: secret}); err != nil {
		t.Fatal(err)
	}
	n.Notify(storage.Event{ID: "x", Type: "stream.killed", UserID: 7, Message: "Stopped alice's stream of Heat (4K transcode)"})
	n.Notify(storage.Event{Type: "user.updated", Message: "not picked"})
	n.Flush(context.Background())

	bodies, heads := rcv.requests()
	if len(bodies) != 3 {
		t.Fatalf("receiver got %d requests, want 3 (two failures, then success)", len(bodies))
	}
	for i := range bodies {
		if err := VerifySignature(secret, heads[i], bodies[i], time.Now(), 5*time.Minute); err != nil {
			t.Errorf("request %d: signature: %v", i, err)
		}
		if err := VerifySignature("other-secret", heads[i], bodies[i], time.Now(), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("request %d verified under the wrong secret: %v", i, err)
		}
		if heads[i].Get(HeaderKind) != KindStreamKilled || heads[i].Get("Content-Type") != "application/json" {
			t.Errorf("request %d headers = %v", i, heads[i])
		}
	}
	var m Message
	if err := json.Unmarshal(bodies[2], &m); err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindStreamKilled || m.Title != "A stream rule stopped a stream" || !strings.Contains(m.Text, "Heat") || m.Event == nil || m.Event.UserID != 7 {
		t.Errorf("payload = %+v", m)
	}
	d := n.Deliveries()
	if len(d) != 1 || !d[0].OK || d[0].Attempts != 3 || d[0].Channel != ChannelWebhook {
		t.Errorf("delivery log = %+v", d)
	}
	if got := obs.get(); len(got) != 1 || got[0] != "webhook:ok" {
		t.Errorf("observed = %v", got)
	}
	if len(events(t, store, EventFailed)) != 0 {
		t.Error("a delivered message was recorded as failed")
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		fail     int
		attempts int
	}{
		{"permanent 400 is not retried", http.StatusBadRequest, 99, 1},
		{"5xx retried until the retries run out", http.StatusBadGateway, 99, 4},
		{"429 retried", http.StatusTooManyRequests, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, tt.fail, tt.status)
			rcv.header = http.Header{"Retry-After": {"1"}}
			n, store, obs := newTestNotifier(t)
			if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindServerOffline}, WebhookURL: rcv.srv.URL}); err != nil {
				t.Fatal(err)
			}
			n.Notify(storage.Event{Type: "server.offline", Message: "Basement is offline"})
			n.Flush(context.Background())
			bodies, heads := rcv.requests()
			if len(bodies) != tt.attempts {
				t.Fatalf("%d attempts, want %d", len(bodies), tt.attempts)
			}
			if heads[0].Get(HeaderSignature) != "" {
				t.Error("signed without a secret")
			}
			d := n.Deliveries()
			ok := tt.attempts <= tt.fail
			if len(d) != 1 || d[0].Attempts != tt.attempts || d[0].OK == ok {
				t.Errorf("delivery log = %+v", d)
			}
			failed := events(t, store, EventFailed)
			if ok && (len(failed) != 1 || !strings.Contains(failed[0].Message, "HTTP") || strings.Contains(failed[0].Message, rcv.srv.URL)) {
				t.Errorf("failure events = %+v", failed)
			}
			if !ok && len(failed) != 0 {
				t.Errorf("failure events after a delivery = %+v", failed)
			}
			if len(obs.get()) != 1 {
				t.Errorf("observed = %v", obs.get())
			}
		})
	}
}

func TestDiscordWebhook(t *testing.T) {
	rcv := newReceiver(t, 1, http.StatusTooManyRequests)
	rcv.body = `{"message":"You are being rate limited.","retry_after":0.01,"global":false}`
	n, _, _ := newTestNotifier(t)
	if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindUserJoined}, DiscordWebhookURL: rcv.srv.URL + "/api/webhooks/1/tok"}); err != nil {
		t.Fatal(err)
	}
	n.Notify(storage.Event{Type: "user.joined", InviteID: "i1", Message: "alice joined with invite Friends"})
	n.Flush(context.Background())
	bodies, _ := rcv.requests()
	if len(bodies) != 2 {
		t.Fatalf("%d requests", len(bodies))
	}
	var p struct {
		Embeds []struct {
			Title, Description string
		}
		AllowedMentions struct {
			Parse []string
		} `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(bodies[1], &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Embeds) != 1 || p.Embeds[0].Title != "A user joined" || p.Embeds[0].Description != "alice joined with invite Friends" || p.AllowedMentions.Parse == nil {
		t.Errorf("discord payload = %s", bodies[1])
	}
}

func TestShoutrrrGeneric(t *testing.T) {
	rcv := newReceiver(t, 0, 0)
	n, _, obs := newTestNotifier(t)
	u := "generic+" + rcv.srv.URL + "/notify?template=json"
	if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindTokenInvalid}, ShoutrrrURLs: []string{u}}); err != nil {
		t.Fatal(err)
	}
	n.Notify(storage.Event{Type: "plex.token_invalid", Message: "Plex refused the token"})
	n.Flush(context.Background())
	bodies, _ := rcv.requests()
	if len(bodies) != 1 {
		t.Fatalf("%d requests", len(bodies))
	}
	var p map[string]string
	if err := json.Unmarshal(bodies[0], &p); err != nil {
		t.Fatalf("body %s: %v", bodies[0], err)
	}
	if p["title"] != "Plex refused the token" || !strings.Contains(p["message"], "Plex refused the token") {
		t.Errorf("payload = %v", p)
	}
	if got := obs.get(); len(got) != 1 || got[0] != "shoutrrr:ok" {
		t.Errorf("observed = %v", got)
	}

	// A failing service: the error names no credential.
	rcv.srv.Close()
	secretURL := "generic+http://127.0.0.1:1/hook/verysecretpath?token=abcdef123456"
	n2, store2, _ := newTestNotifier(t, func(o *Options) { o.Retries = -1 })
	if _, err := n2.SaveSettings("admin:root", Settings{Kinds: []string{KindTokenInvalid}, ShoutrrrURLs: []string{secretURL}}); err != nil {
		t.Fatal(err)
	}
	err := n2.Test(context.Background(), "shoutrrr:1", "admin:root")
	if err == nil {
		t.Fatal("sending to a closed port succeeded")
	}
	for _, leak := range []string{"verysecretpath", "abcdef123456"} {
		if strings.Contains(err.Error(), leak) || strings.Contains(n2.Deliveries()[0].Error, leak) {
			t.Errorf("error leaks %q: %v", leak, err)
		}
	}
	_ = store2
}

func TestTestButton(t *testing.T) {
	rcv := newReceiver(t, 0, 0)
	n, _, _ := newTestNotifier(t)
	if err := n.Test(context.Background(), ChannelWebhook, "admin:root"); !errors.Is(err, ErrNoChannel) {
		t.Errorf("test of an unconfigured channel = %v", err)
	}
	if _, err := n.SaveSettings("admin:root", Settings{WebhookURL: rcv.srv.URL, WebhookSecret: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Test(context.Background(), ChannelWebhook, "admin:root"); err != nil {
		t.Fatalf("Test: %v", err)
	}
	bodies, _ := rcv.requests()
	if len(bodies) != 1 || !strings.Contains(string(bodies[0]), `"kind":"test"`) || !strings.Contains(string(bodies[0]), "admin:root") {
		t.Errorf("test message = %s", bodies)
	}
}

func TestNotifyFiltersAndNeverBlocks(t *testing.T) {
	n, _, _ := newTestNotifier(t, func(o *Options) { o.QueueSize = 2 })
	// No channel: nothing queued even for a picked kind.
	if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindAccessExpired}}); err != nil {
		t.Fatal(err)
	}
	n.Notify(storage.Event{Type: "user.expired"})
	if len(n.queue) != 0 {
		t.Fatal("queued without a channel")
	}
	if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindAccessExpired}, WebhookURL: "http://127.0.0.1:1/x"}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		n.Notify(storage.Event{Type: "user.expired"})
	}
	n.Notify(storage.Event{Type: "notify.failed"})
	if len(n.queue) != 2 {
		t.Errorf("queue length %d, want 2 (full, rest dropped)", len(n.queue))
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		ev   storage.Event
		want string
	}{
		{storage.Event{Type: "user.joined"}, KindUserJoined},
		{storage.Event{Type: "invite.redeemed"}, KindUserJoined},
		{storage.Event{Type: "invite.used_up"}, KindInviteUsedUp},
		{storage.Event{Type: EventExpiring}, KindAccessExpiring},
		{storage.Event{Type: "user.expired"}, KindAccessExpired},
		{storage.Event{Type: "purge.done"}, KindPurgeDone},
		{storage.Event{Type: "pass.purge", Data: map[string]any{"report": map[string]any{"removed": []any{1.0, 2.0}}}}, KindPurgeDone},
		{storage.Event{Type: "pass.purge", Data: map[string]any{"report": struct {
			Removed []int64 `json:"removed"`
		}{[]int64{5}}}}, KindPurgeDone},
		{storage.Event{Type: "pass.purge", Data: map[string]any{"report": map[string]any{"removed": []any{}}}}, ""},
		{storage.Event{Type: "pass.purge"}, ""},
		{storage.Event{Type: "stream.killed"}, KindStreamKilled},
		{storage.Event{Type: "stream.kill_failed"}, KindStreamKilled},
		{storage.Event{Type: "server.offline"}, KindServerOffline},
		{storage.Event{Type: "plex.token_invalid"}, KindTokenInvalid},
		{storage.Event{Type: "notify.failed"}, ""},
		{storage.Event{Type: "user.updated"}, ""},
	}
	for _, tt := range tests {
		got, ok := KindOf(tt.ev)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("KindOf(%s) = %q %v, want %q", tt.ev.Type, got, ok, tt.want)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"kind":"test"}`)
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1800000000")
	h.Set(HeaderSignature, Sign("k", 1_800_000_000, body))
	if err := VerifySignature("k", h, body, now, time.Minute); err != nil {
		t.Errorf("valid: %v", err)
	}
	if err := VerifySignature("k", h, []byte(`{"kind":"tampered"}`), now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := VerifySignature("k", h, body, now.Add(2*time.Minute), time.Minute); !errors.Is(err, ErrStale) {
		t.Errorf("replayed late: %v", err)
	}
	h2 := h.Clone()
	h2.Set(HeaderTimestamp, "1800000001")
	if err := VerifySignature("k", h2, body, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other timestamp: %v", err)
	}
	h2.Del(HeaderTimestamp)
	if err := VerifySignature("k", h2, body, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("no timestamp: %v", err)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
