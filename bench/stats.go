package main

import (
	"fmt"
	"slices"
	"time"
)

// durations summarises a sample of latencies or wall times.
type durations struct {
	n                  int
	mean, min, max     time.Duration
	p50, p90, p95, p99 time.Duration
}

// summarize sorts a copy of sample and computes its summary (nearest-rank percentiles). An empty
// sample gives the zero summary.
func summarize(sample []time.Duration) durations {
	if len(sample) == 0 {
		return durations{}
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return durations{
		n:    len(s),
		mean: sum / time.Duration(len(s)),
		min:  s[0],
		max:  s[len(s)-1],
		p50:  percentile(s, 50),
		p90:  percentile(s, 90),
		p95:  percentile(s, 95),
		p99:  percentile(s, 99),
	}
}

// percentile returns the nearest-rank p-th percentile of a sorted, non-empty sample.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p/100*float64(len(sorted))+0.999999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// median returns the median of a non-empty sample of floats (the lower middle for even sizes).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// fmtDur prints a duration with three significant digits in a fitting unit.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return sig3(d.Seconds()) + " s"
	case d >= time.Millisecond:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	case d >= time.Microsecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	default:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	}
}

// sig3 prints x (≥ 1) with three significant digits.
func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// mib prints a byte count in MiB with one decimal.
func mib(b uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
