package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// userStatuses are always exported, zero when no user has them.
var userStatuses = []string{storage.StatusActive, storage.StatusPending, storage.StatusScheduled, storage.StatusExpired, storage.StatusRemoved}

// usersCollector reads the users by status at scrape time.
type usersCollector struct {
	src  UserCounter
	desc *prometheus.Desc
}

// Describe sends the metric's description.
func (c *usersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect counts the users; a failing store yields an invalid metric so the scrape shows the
// error instead of wrong zeros.
func (c *usersCollector) Collect(ch chan<- prometheus.Metric) {
	by, _, err := c.src.CountUsers()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	seen := map[string]bool{}
	for _, s := range userStatuses {
		seen[s] = true
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(by[s]), s)
	}
	for s, n := range by {
		if !seen[s] {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), s)
		}
	}
}

// streamsCollector reads the poller's snapshots at scrape time.
type streamsCollector struct {
	src        StreamSource
	streams    *prometheus.Desc
	transcodes *prometheus.Desc
	bandwidth  *prometheus.Desc
	online     *prometheus.Desc
}

func newStreamsCollector(src StreamSource) *streamsCollector {
	labels := []string{"server", "server_name"}
	return &streamsCollector{
		src: src,
		streams: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "live_streams"),
			"Live streams per server at the last poll.", labels, nil),
		transcodes: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "live_transcodes"),
			"Live streams transcoding video or audio per server at the last poll.", labels, nil),
		bandwidth: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "live_bandwidth_kbps"),
			"Bandwidth of the live streams per server at the last poll, in kbit/s.", labels, nil),
		online: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "server_online"),
			"1 when the server answered the last session poll.", labels, nil),
	}
}

// Describe sends the metrics' descriptions.
func (c *streamsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.streams
	ch <- c.transcodes
	ch <- c.bandwidth
	ch <- c.online
}

// Collect sends one series of each metric per server.
func (c *streamsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src.Snapshots() {
		online := 0.0
		if s.Online {
			online = 1
		}
		ch <- prometheus.MustNewConstMetric(c.online, prometheus.GaugeValue, online, s.Server, s.Name)
		if !s.Online {
			continue // unknown, not zero
		}
		ch <- prometheus.MustNewConstMetric(c.streams, prometheus.GaugeValue, float64(s.Totals.Streams), s.Server, s.Name)
		ch <- prometheus.MustNewConstMetric(c.transcodes, prometheus.GaugeValue, float64(s.Totals.Transcodes), s.Server, s.Name)
		ch <- prometheus.MustNewConstMetric(c.bandwidth, prometheus.GaugeValue, float64(s.Totals.Bandwidth), s.Server, s.Name)
	}
}
