// Package metrics exposes the plugin's Prometheus metrics as plain client_golang collectors.
//
// Caddy creates a new metrics registry for every configuration, so the root registers the same
// Metrics on each config's registry with Register, which tolerates collectors that are already
// registered. Keep one Metrics for the life of the process (for example in the pooled store
// handle) so counters do not restart at every reload.
//
// Feeds:
//
//   - ObservePlexCall is plex.Config.Observe: Plex API calls and latency by endpoint and outcome;
//   - ObserveEvent is called with every appended audit event: invites redeemed and enforcement
//     actions by kind and result;
//   - ObserveSync is called after every sync pass: sync duration;
//   - ObserveNotification is called by the notifier after each delivery;
//   - users by status and live streams by server are read lazily at scrape time from the store's
//     read model and the stream poller.
//
// The package does not import Caddy.
package metrics

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Namespace prefixes every metric name.
const Namespace = "plex_manager"

// UserCounter counts users by status; *storage.Store implements it (from its read model, no
// transaction).
type UserCounter interface {
	CountUsers() (byStatus map[string]int, total int, err error)
}

// StreamSource gives the live streams per server; *streams.Poller implements it.
type StreamSource interface {
	Snapshots() []streams.Snapshot
}

// DiskSource gives the free space of the data directory; *storage.Store implements it.
type DiskSource interface {
	DiskSpace() (storage.DiskSpace, error)
}

// Options configure New. Every source is optional; its metrics are then absent.
type Options struct {
	// Disk, when set, exports the data disk's free space and the store's write threshold.
	Disk    DiskSource
	Users   UserCounter
	Streams StreamSource
}

// Metrics holds the collectors. It is safe for concurrent use.
type Metrics struct {
	users         *usersCollector
	disk          *diskCollector
	streams       *streamsCollector
	invites       prometheus.Counter
	enforcement   *prometheus.CounterVec
	plexCalls     *prometheus.CounterVec
	plexLatency   *prometheus.HistogramVec
	syncDuration  *prometheus.HistogramVec
	lastSync      prometheus.Gauge
	notifications *prometheus.CounterVec
}

// New builds the collectors.
func New(opts Options) *Metrics {
	m := &Metrics{
		invites: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "invites_redeemed_total",
			Help: "Invites redeemed (users who joined through an invite).",
		}),
		enforcement: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "enforcement_actions_total",
			Help: "Enforcement actions by kind (start, expire, purge, stream_kill, …) and result (ok, failed, capped).",
		}, []string{"kind", "result"}),
		plexCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "plex_requests_total",
			Help: "HTTP attempts to plex.tv and the Plex Media Servers by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		plexLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "plex_request_duration_seconds",
			Help:    "Duration of HTTP attempts to Plex by endpoint and outcome.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint", "outcome"}),
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "sync_duration_seconds",
			Help:    "Duration of sync passes (users and shares read from Plex) by result.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"result"}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "sync_last_success_timestamp_seconds",
			Help: "Unix time of the last successful sync pass.",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "notifications_total",
			Help: "Notification deliveries by channel and result (ok, failed).",
		}, []string{"channel", "result"}),
	}
	if opts.Users != nil {
		m.users = &usersCollector{src: opts.Users, desc: prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "", "users"),
			"Users by status (active, pending, scheduled, expired, removed).", []string{"status"}, nil)}
	}
	if opts.Streams != nil {
		m.streams = newStreamsCollector(opts.Streams)
	}
	if opts.Disk != nil {
		m.disk = newDiskCollector(opts.Disk)
	}
	return m
}

// collectors lists every collector of m.
func (m *Metrics) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.invites, m.enforcement, m.plexCalls, m.plexLatency, m.syncDuration, m.lastSync, m.notifications}
	if m.users != nil {
		cs = append(cs, m.users)
	}
	if m.streams != nil {
		cs = append(cs, m.streams)
	}
	if m.disk != nil {
		cs = append(cs, m.disk)
	}
	return cs
}

// Register registers every collector on reg. Collectors already registered there (a reload that
// registers again on the same registry) are not an error.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	if reg == nil {
		return errors.New("metrics: no registry")
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue
			}
			return fmt.Errorf("registering plex_manager metrics: %w", err)
		}
	}
	return nil
}

// ObservePlexCall counts one HTTP attempt to Plex; pass it as plex.Config.Observe. The endpoint
// is the client's route template (no ids, no tokens), so the label set stays small.
func (m *Metrics) ObservePlexCall(c plex.CallInfo) {
	outcome := PlexOutcome(c)
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = "unknown"
	}
	m.plexCalls.WithLabelValues(endpoint, outcome).Inc()
	m.plexLatency.WithLabelValues(endpoint, outcome).Observe(c.Duration.Seconds())
}

// PlexOutcome names the outcome of an attempt: "ok" for 2xx and 3xx, "http_4xx"-style classes
// with 401, 404, 410 and 429 kept apart ("http_401"), "timeout" or "error" without a response.
func PlexOutcome(c plex.CallInfo) string {
	switch {
	case c.Status >= 200 && c.Status < 400 && c.Err == nil:
		return "ok"
	case c.Status == 401 || c.Status == 404 || c.Status == 410 || c.Status == 429:
		return "http_" + strconv.Itoa(c.Status)
	case c.Status >= 400 && c.Status < 600:
		return "http_" + strconv.Itoa(c.Status/100) + "xx"
	case c.Err != nil && (strings.Contains(c.Err.Error(), "timeout") || strings.Contains(c.Err.Error(), "deadline")):
		return "timeout"
	}
	return "error"
}

// ObserveSync records one sync pass.
func (m *Metrics) ObserveSync(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.syncDuration.WithLabelValues(result).Observe(d.Seconds())
	if err == nil {
		m.lastSync.SetToCurrentTime()
	}
}

// ObserveNotification records one notification delivery (after its retries).
func (m *Metrics) ObserveNotification(channel string, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.notifications.WithLabelValues(channel, result).Inc()
}

// ObserveEvent counts the audit events that are metrics: invite redemptions and enforcement
// actions (see EnforcementAction). Call it after every appended event.
func (m *Metrics) ObserveEvent(ev storage.Event) {
	if InviteRedeemed(ev) {
		m.invites.Inc()
	}
	if kind, result, ok := EnforcementAction(ev); ok {
		m.enforcement.WithLabelValues(kind, result).Inc()
	}
}

// InviteRedeemed reports whether ev records a user joining through an invite: invite.redeemed,
// or user.joined carrying the invite's id.
func InviteRedeemed(ev storage.Event) bool {
	return ev.Type == "invite.redeemed" || (ev.Type == "user.joined" && ev.InviteID != "")
}

// enforcementKinds maps event types to (kind, result).
var enforcementKinds = map[string][2]string{
	"user.started":                {"start", "ok"},
	"user.expired":                {"expire", "ok"},
	"user.library_started":        {"library_start", "ok"},
	"user.library_expired":        {"library_expire", "ok"},
	"user.purged":                 {"purge", "ok"},
	"enforce.capped":              {"expire", "capped"},
	"purge.capped":                {"purge", "capped"},
	streams.EventStreamKilled:     {"stream_kill", "ok"},
	streams.EventStreamKillFailed: {"stream_kill", "failed"},
}

// EnforcementAction classifies ev as an enforcement action: access started or expired (whole or
// per library), users purged, removal caps hit, streams stopped by a rule, and failed Plex
// intents (kind from Data["kind"]). ok is false for other events.
func EnforcementAction(ev storage.Event) (kind, result string, ok bool) {
	if kr, found := enforcementKinds[ev.Type]; found {
		return kr[0], kr[1], true
	}
	if ev.Type == "intent.failed" {
		kind, _ := ev.Data["kind"].(string)
		if kind == "" {
			kind = "intent"
		}
		return kind, "failed", true
	}
	return "", "", false
}
