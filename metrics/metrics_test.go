package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// scenario builds a store with users, a plextest server with streams polled through the real
// client whose Observe hook feeds the metrics, and runs a few events through ObserveEvent.
func scenario(t *testing.T) (*Metrics, *prometheus.Registry, *plextest.Fake) {
	t.Helper()
	store := storetest.Memory(t)
	for i, status := range []string{storage.StatusActive, storage.StatusActive, storage.StatusActive, storage.StatusPending, storage.StatusExpired} {
		if err := store.PutUser(storage.User{ID: int64(100 + i), Username: "u" + status, Kind: storage.KindFriend, Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	fake := plextest.NewServer(t, plextest.Options{})
	var m *Metrics
	client, err := plex.New(plex.Config{TVURL: fake.TVURL(), ClientID: "metrics-test", Retries: -1,
		Observe: func(c plex.CallInfo) { m.ObservePlexCall(c) }})
	if err != nil {
		t.Fatal(err)
	}
	poller, err := streams.NewPoller(streams.Options{Store: store, Servers: func(context.Context) ([]streams.Target, error) {
		return []streams.Target{{ID: plextest.MinimalMachineID, Name: "Basement", Source: client.Server(fake.URL(), fake.OwnerToken())}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	m = New(Options{Users: store, Streams: poller})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}

	fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: 22526914, Bandwidth: 4000})
	fake.StartSession(plextest.MinimalMachineID, plextest.Session{AccountID: 22522496, Transcode: true, Bandwidth: 2000})
	if _, err := poller.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	fake.Inject(plextest.Fault{Route: "GET /status/sessions", Status: 401, Count: 1})
	if _, err := client.Server(fake.URL(), fake.OwnerToken()).Sessions(context.Background()); err == nil {
		t.Fatal("the injected 401 did not fail")
	}

	for _, ev := range []storage.Event{
		{Type: "user.joined", InviteID: "inv1"},
		{Type: "user.joined", InviteID: "inv2"},
		{Type: "user.joined"}, // adopted from Plex, not through an invite
		{Type: "invite.redeemed"},
		{Type: "user.expired"},
		{Type: "user.expired"},
		{Type: "user.purged"},
		{Type: streams.EventStreamKilled},
		{Type: streams.EventStreamKillFailed},
		{Type: "intent.failed", Data: map[string]any{"kind": "remove_share"}},
		{Type: "intent.failed"},
		{Type: "purge.capped"},
		{Type: "user.updated"},
	} {
		m.ObserveEvent(ev)
	}
	m.ObserveSync(1500*time.Millisecond, nil)
	m.ObserveSync(3*time.Second, errors.New("plex down"))
	m.ObserveNotification("webhook", nil)
	m.ObserveNotification("discord", errors.New("429"))
	return m, reg, fake
}

func TestCollectorsAfterAScenario(t *testing.T) {
	_, reg, _ := scenario(t)
	const want = `
# HELP plex_manager_users Users by status (active, pending, scheduled, expired, removed).
# TYPE plex_manager_users gauge
plex_manager_users{status="active"} 3
plex_manager_users{status="expired"} 1
plex_manager_users{status="pending"} 1
plex_manager_users{status="removed"} 0
plex_manager_users{status="scheduled"} 0
# HELP plex_manager_invites_redeemed_total Invites redeemed (users who joined through an invite).
# TYPE plex_manager_invites_redeemed_total counter
plex_manager_invites_redeemed_total 3
# HELP plex_manager_enforcement_actions_total Enforcement actions by kind (start, expire, purge, stream_kill, …) and result (ok, failed, capped).
# TYPE plex_manager_enforcement_actions_total counter
plex_manager_enforcement_actions_total{kind="expire",result="ok"} 2
plex_manager_enforcement_actions_total{kind="intent",result="failed"} 1
plex_manager_enforcement_actions_total{kind="purge",result="capped"} 1
plex_manager_enforcement_actions_total{kind="purge",result="ok"} 1
plex_manager_enforcement_actions_total{kind="remove_share",result="failed"} 1
plex_manager_enforcement_actions_total{kind="stream_kill",result="failed"} 1
plex_manager_enforcement_actions_total{kind="stream_kill",result="ok"} 1
# HELP plex_manager_live_streams Live streams per server at the last poll.
# TYPE plex_manager_live_streams gauge
plex_manager_live_streams{server="93c418a691854d3be47ead674134d86a3f5e00f4",server_name="Basement"} 2
# HELP plex_manager_live_transcodes Live streams transcoding video or audio per server at the last poll.
# TYPE plex_manager_live_transcodes gauge
plex_manager_live_transcodes{server="93c418a691854d3be47ead674134d86a3f5e00f4",server_name="Basement"} 1
# HELP plex_manager_live_bandwidth_kbps Bandwidth of the live streams per server at the last poll, in kbit/s.
# TYPE plex_manager_live_bandwidth_kbps gauge
plex_manager_live_bandwidth_kbps{server="93c418a691854d3be47ead674134d86a3f5e00f4",server_name="Basement"} 6000
# HELP plex_manager_server_online 1 when the server answered the last session poll.
# TYPE plex_manager_server_online gauge
plex_manager_server_online{server="93c418a691854d3be47ead674134d86a3f5e00f4",server_name="Basement"} 1
# HELP plex_manager_plex_requests_total HTTP attempts to plex.tv and the Plex Media Servers by endpoint and outcome.
# TYPE plex_manager_plex_requests_total counter
plex_manager_plex_requests_total{endpoint="GET {pms}/status/sessions",outcome="http_401"} 1
plex_manager_plex_requests_total{endpoint="GET {pms}/status/sessions",outcome="ok"} 1
# HELP plex_manager_notifications_total Notification deliveries by channel and result (ok, failed).
# TYPE plex_manager_notifications_total counter
plex_manager_notifications_total{channel="discord",result="failed"} 1
plex_manager_notifications_total{channel="webhook",result="ok"} 1
`
	names := []string{"plex_manager_users", "plex_manager_invites_redeemed_total", "plex_manager_enforcement_actions_total",
		"plex_manager_live_streams", "plex_manager_live_transcodes", "plex_manager_live_bandwidth_kbps", "plex_manager_server_online",
		"plex_manager_plex_requests_total", "plex_manager_notifications_total"}
	if err := gatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}

	// Histograms: gather and inspect.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		found[mf.GetName()] = true
		switch mf.GetName() {
		case "plex_manager_plex_request_duration_seconds":
			var n uint64
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
				if s := m.GetHistogram().GetSampleSum(); s <= 0 || s > 5 {
					t.Errorf("latency sum %v s is not sane", s)
				}
			}
			if n != 2 {
				t.Errorf("latency samples = %d, want 2", n)
			}
		case "plex_manager_sync_duration_seconds":
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				result := m.GetLabel()[0].GetValue()
				if h.GetSampleCount() != 1 || (result == "ok" && h.GetSampleSum() != 1.5) || (result == "failed" && h.GetSampleSum() != 3) {
					t.Errorf("sync %s: count %d sum %v", result, h.GetSampleCount(), h.GetSampleSum())
				}
			}
		case "plex_manager_sync_last_success_timestamp_seconds":
			if v := mf.GetMetric()[0].GetGauge().GetValue(); time.Since(time.Unix(int64(v), 0)) > time.Minute {
				t.Errorf("last sync timestamp %v is not recent", v)
			}
		}
	}
	for _, name := range []string{"plex_manager_plex_request_duration_seconds", "plex_manager_sync_duration_seconds", "plex_manager_sync_last_success_timestamp_seconds"} {
		if !found[name] {
			t.Errorf("%s not gathered", name)
		}
	}
	mfs, err = reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := promlint.NewWithMetricFamilies(mfs).Lint(); err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestRegisterTwiceAndOnNewRegistries(t *testing.T) {
	m, reg, _ := scenario(t)
	if err := m.Register(reg); err != nil {
		t.Errorf("second Register on the same registry: %v", err)
	}
	// A reload: a new registry per config, the same Metrics (counters keep their values).
	reg2 := prometheus.NewRegistry()
	if err := m.Register(reg2); err != nil {
		t.Fatal(err)
	}
	const invites = `
# HELP plex_manager_invites_redeemed_total Invites redeemed (users who joined through an invite).
# TYPE plex_manager_invites_redeemed_total counter
plex_manager_invites_redeemed_total 3
`
	if err := gatherAndCompare(reg2, strings.NewReader(invites), "plex_manager_invites_redeemed_total"); err != nil {
		t.Errorf("new registry after a reload: %v", err)
	}
	// A different collector with the same name is a real conflict.
	reg3 := prometheus.NewRegistry()
	reg3.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "plex_manager_invites_redeemed_total", Help: "other"}))
	if err := m.Register(reg3); err == nil {
		t.Error("a conflicting collector was accepted")
	}
	if err := m.Register(nil); err == nil {
		t.Error("nil registry accepted")
	}
}

// failingUsers is a UserCounter whose store is closed.
type failingUsers struct{}

func (failingUsers) CountUsers() (map[string]int, int, error) { return nil, 0, storage.ErrClosed }

func TestUsersCollectorReportsStoreErrors(t *testing.T) {
	m := New(Options{Users: failingUsers{}})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Gather with a closed store = %v", err)
	}
}

func TestOfflineServerHasNoStreamCount(t *testing.T) {
	src := fixedSnapshots{{Server: "a", Name: "A", Online: false, Error: "down"}}
	m := New(Options{Streams: src})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	const want = `
# HELP plex_manager_server_online 1 when the server answered the last session poll.
# TYPE plex_manager_server_online gauge
plex_manager_server_online{server="a",server_name="A"} 0
`
	if err := gatherAndCompare(reg, strings.NewReader(want), "plex_manager_server_online", "plex_manager_live_streams"); err != nil {
		t.Fatal(err)
	}
}

type fixedSnapshots []streams.Snapshot

func (f fixedSnapshots) Snapshots() []streams.Snapshot { return f }

func TestPlexOutcome(t *testing.T) {
	tests := []struct {
		c    plex.CallInfo
		want string
	}{
		{plex.CallInfo{Status: 200}, "ok"},
		{plex.CallInfo{Status: 204}, "ok"},
		{plex.CallInfo{Status: 401, Err: errors.New("x")}, "http_401"},
		{plex.CallInfo{Status: 429}, "http_429"},
		{plex.CallInfo{Status: 422}, "http_4xx"},
		{plex.CallInfo{Status: 503}, "http_5xx"},
		{plex.CallInfo{Err: errors.New("context deadline exceeded")}, "timeout"},
		{plex.CallInfo{Err: errors.New("connection refused")}, "error"},
		{plex.CallInfo{Status: 200, Err: errors.New("body too large")}, "error"},
	}
	for _, tt := range tests {
		if got := PlexOutcome(tt.c); got != tt.want {
			t.Errorf("PlexOutcome(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}
