package invites

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// maxBuckets bounds the limiter's memory: beyond it, full buckets are dropped, then (under a
// flood of addresses) the oldest half.
const maxBuckets = 10000

// limiter is a token bucket per client address, in memory.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	now     func() time.Time
	buckets map[string]*bucket
}

// bucket is one client's tokens at a time.
type bucket struct {
	tokens float64
	at     time.Time
}

// newLimiter allows burst requests at once and one more every every.
func newLimiter(burst int, every time.Duration, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), every: every, now: now, buckets: make(map[string]*bucket)}
}

// allow takes a token for ip; when none is left it reports how long until one is.
func (l *limiter) allow(ip string) (bool, time.Duration) {
	key := clientKey(ip)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.every))
	return false, max(wait, time.Second)
}

// refill adds the tokens earned since the bucket was last seen.
func (l *limiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.every))
		b.at = now
	}
}

// evict drops buckets that are full again (their clients are back to a fresh start anyway); if
// that frees too little, it drops the least recently seen half.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets*3/4 {
		return
	}
	var cut time.Time
	times := make([]time.Time, 0, len(l.buckets))
	for _, b := range l.buckets {
		times = append(times, b.at)
	}
	cut = median(times)
	for k, b := range l.buckets {
		if !b.at.After(cut) {
			delete(l.buckets, k)
		}
	}
}

// median returns the middle time of ts (ts is reordered).
func median(ts []time.Time) time.Time {
	sortTimes(ts)
	return ts[len(ts)/2]
}

// clientKey groups addresses: an IPv4 address (also written IPv4-mapped) is itself, an IPv6
// address its /64 (one customer's network), anything unparsable (or with a zone) is used as is.
// The common case, a plain IPv4 address, costs no allocation: netip accepts only the canonical
// dotted form, so the input is already the key.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" {
		return ip
	}
	if a.Is4() {
		return ip
	}
	if a.Is4In6() {
		return a.Unmap().String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.Addr().String() + "/64"
}

// sortTimes sorts ts ascending.
func sortTimes(ts []time.Time) {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
}
