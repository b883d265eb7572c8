package auth

import (
	"strings"
	"sync"
	"time"
)

// ThrottleOptions configures a Throttle. Zero fields take the defaults in parentheses.
type ThrottleOptions struct {
	// Window is how far back failures count (15m).
	Window time.Duration
	// AccountLimit is how many failures within Window lock an account (5).
	AccountLimit int
	// IPLimit is how many failures within Window lock a client address (20).
	IPLimit int
	// BaseDelay is the first lockout's length (1m); each further lockout doubles it.
	BaseDelay time.Duration
	// MaxDelay caps a lockout (1h).
	MaxDelay time.Duration
	// MaxKeys bounds how many accounts and addresses are tracked (10000 each); beyond it the
	// oldest idle entries are forgotten.
	MaxKeys int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Throttle limits sign-in attempts per account and per client address: failures are counted in a
// sliding window, and reaching the limit locks the key for a delay that doubles with every
// further lockout (up to MaxDelay) until the key has been quiet for a whole window. It lives in
// memory; the root keeps one instance across config reloads. Safe for concurrent use.
type Throttle struct {
	opts     ThrottleOptions
	mu       sync.Mutex
	accounts map[string]*throttleEntry
	ips      map[string]*throttleEntry
}

// throttleEntry is the state of one key.
type throttleEntry struct {
	failures    []time.Time
	lockedUntil time.Time
	lockouts    int
	last        time.Time
}

// NewThrottle returns a Throttle with opts (defaults filled).
func NewThrottle(opts ThrottleOptions) *Throttle {
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	if opts.AccountLimit <= 0 {
		opts.AccountLimit = 5
	}
	if opts.IPLimit <= 0 {
		opts.IPLimit = 20
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = time.Minute
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = time.Hour
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 10000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Throttle{opts: opts, accounts: map[string]*throttleEntry{}, ips: map[string]*throttleEntry{}}
}

// accountKey normalises an account name (usernames are case-insensitive).
func accountKey(account string) string { return strings.ToLower(strings.TrimSpace(account)) }

// Wait returns how long the caller must wait before trying account from ip again; 0 means it
// may try now. An empty account or ip is not checked.
func (t *Throttle) Wait(account, ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	var wait time.Duration
	if account != "" {
		if e := t.accounts[accountKey(account)]; e != nil && e.lockedUntil.After(now) {
			wait = e.lockedUntil.Sub(now)
		}
	}
	if ip != "" {
		if e := t.ips[ip]; e != nil && e.lockedUntil.After(now) {
			wait = max(wait, e.lockedUntil.Sub(now))
		}
	}
	return wait
}

// Fail records a failed attempt on account from ip.
func (t *Throttle) Fail(account, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	if account != "" {
		t.fail(t.accounts, accountKey(account), t.opts.AccountLimit, now)
	}
	if ip != "" {
		t.fail(t.ips, ip, t.opts.IPLimit, now)
	}
}

// fail records one failure of key in m and locks it when the limit is reached.
func (t *Throttle) fail(m map[string]*throttleEntry, key string, limit int, now time.Time) {
	e := m[key]
	if e == nil {
		if len(m) >= t.opts.MaxKeys {
			t.evict(m, now)
		}
		e = &throttleEntry{}
		m[key] = e
	}
	// A key quiet for a whole window after its last lockout starts over.
	if e.lockouts > 0 && now.Sub(laterOf(e.lockedUntil, e.last)) > t.opts.Window {
		e.lockouts = 0
	}
	e.last = now
	e.failures = append(pruneBefore(e.failures, now.Add(-t.opts.Window)), now)
	if len(e.failures) >= limit {
		delay := t.opts.BaseDelay << min(e.lockouts, 20)
		if delay > t.opts.MaxDelay || delay <= 0 {
			delay = t.opts.MaxDelay
		}
		e.lockouts++
		e.lockedUntil = now.Add(delay)
		e.failures = e.failures[:0]
	}
}

// Succeed records a successful sign-in: the account's failures and lockouts are forgotten (the
// address keeps its count, so one valid account cannot launder guesses at others).
func (t *Throttle) Succeed(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, accountKey(account))
}

// evict forgets idle entries (not locked, last failure outside the window); if none are idle,
// the least recently active one.
func (t *Throttle) evict(m map[string]*throttleEntry, now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, e := range m {
		if !e.lockedUntil.After(now) && now.Sub(e.last) > t.opts.Window {
			delete(m, k)
			continue
		}
		if oldestKey == "" || e.last.Before(oldest) {
			oldestKey, oldest = k, e.last
		}
	}
	if len(m) >= t.opts.MaxKeys && oldestKey != "" {
		delete(m, oldestKey)
	}
}

// pruneBefore drops times before cutoff from a sorted slice.
func pruneBefore(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	return append(ts[:0], ts[i:]...)
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
