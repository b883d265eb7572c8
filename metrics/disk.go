package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// diskCollector reads the data disk's free space at scrape time.
type diskCollector struct {
	src     DiskSource
	free    *prometheus.Desc
	minFree *prometheus.Desc
}

func newDiskCollector(src DiskSource) *diskCollector {
	return &diskCollector{
		src: src,
		free: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "data_disk_free_bytes"),
			"Free space of the file system holding the database, as the store's guard reads it.", nil, nil),
		minFree: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "data_disk_min_free_bytes"),
			"Free space below which the store refuses changes (HTTP 507) to keep the database safe.", nil, nil),
	}
}

// Describe sends the metrics' descriptions.
func (c *diskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.free
	ch <- c.minFree
}

// Collect reads the free space; an unreadable one yields an invalid metric, an in-memory store none.
func (c *diskCollector) Collect(ch chan<- prometheus.Metric) {
	d, err := c.src.DiskSpace()
	switch {
	case err != nil:
		ch <- prometheus.NewInvalidMetric(c.free, err)
	case d.Guarded:
		ch <- prometheus.MustNewConstMetric(c.free, prometheus.GaugeValue, float64(d.FreeBytes))
		ch <- prometheus.MustNewConstMetric(c.minFree, prometheus.GaugeValue, float64(d.MinFreeBytes))
	}
}
