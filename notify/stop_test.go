package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// signalServer is a webhook receiver that reports each request on got and answers status, or, with
// status 0, never answers: the request ends when the client gives up.
func signalServer(t *testing.T, status int) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	got := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
		got <- struct{}{}
		if status == 0 {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// TestDeliveryCutShortByAStopIsNoFailure: a notification whose delivery is cut short by a stop (Caddy
// stopping or reloading: every reload stops the old config's notifier) is not logged as a failed
// delivery, counted in the metrics, recorded as notify.failed or logged as a warning.
func TestDeliveryCutShortByAStopIsNoFailure(t *testing.T) {
	cases := []struct {
		name   string
		status int // what the webhook answers; 0: it never answers
	}{
		{"while the webhook is sent", 0},
		{"while waiting to retry", http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hook, got := signalServer(t, tc.status)
			other := newReceiver(t, 0, 0)
			core, logs := observer.New(zapcore.WarnLevel)
			n, store, obs := newTestNotifier(t, func(o *Options) {
				o.Logger = zap.New(core)
				o.BaseBackoff, o.MaxBackoff = 10*time.Second, 10*time.Second
			})
			if _, err := n.SaveSettings("admin:root", Settings{Kinds: []string{KindServerOffline},
				WebhookURL: hook.URL, DiscordWebhookURL: other.srv.URL + "/api/webhooks/1/x"}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-got
				time.Sleep(50 * time.Millisecond) // with an answer, the notifier is waiting to retry by now
				cancel()                          // the stop arrives mid-delivery
			}()
			n.Notify(storage.Event{Type: "server.offline", Message: "Basement is offline"})
			done := make(chan struct{})
			go func() {
				defer close(done)
				n.Flush(ctx)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the delivery did not end at the stop")
			}
			if d := n.Deliveries(); len(d) != 0 {
				t.Errorf("delivery log after a stop = %+v, want nothing logged", d)
			}
			if o := obs.get(); len(o) != 0 {
				t.Errorf("observed after a stop = %v, want nothing counted", o)
			}
			if evs := events(t, store, EventFailed); len(evs) != 0 {
				t.Errorf("notify.failed events after a stop = %+v", evs)
			}
			if logs.Len() != 0 {
				t.Errorf("logged at the stop: %+v", logs.All())
			}
		})
	}
}
