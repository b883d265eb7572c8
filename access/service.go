package access

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Defaults of Options and Settings.
const (
	// DefaultRemovalCap is the most shares a single automatic pass may remove.
	DefaultRemovalCap = 10
	// DefaultShrinkPercent and DefaultShrinkMinUsers: a sync that would mark more than this share of
	// the active users (and at least this many) as removed is held for the admin's confirmation.
	DefaultShrinkPercent  = 20
	DefaultShrinkMinUsers = 3 // see DefaultShrinkPercent
	// DefaultInactiveDays is the purge's inactivity threshold.
	DefaultInactiveDays = 30
	// DefaultRetryBase and DefaultRetryMax bound the backoff of an intent that failed because Plex was
	// unreachable: base·2^(attempts-1), at most max.
	DefaultRetryBase = time.Minute
	DefaultRetryMax  = time.Hour // see DefaultRetryBase
	// DefaultHistoryLookback is how far back the first history pass of a server reads.
	DefaultHistoryLookback = 365 * 24 * time.Hour
)

// Options configure New. Store and Plex are required.
type Options struct {
	// Store is the shared Badger store.
	Store *storage.Store
	// Plex is the gateway to plex.tv and the servers (NewPlexGateway in production).
	Plex Gateway
	// Now is the clock (default time.Now). Every stored time is UTC.
	Now func() time.Time
	// Logger receives warnings about failed passes (default: discard). Tokens are never logged.
	Logger *zap.Logger
	// PassLock serialises passes and Plex changes. The root shares one lock across the Service
	// instances of overlapping Caddy configs on the same store. Nil: a lock private to this Service.
	PassLock sync.Locker
	// ServerURLs are the Plex Media Server base URLs from the configuration; Servers refreshes them
	// together with the servers already stored.
	ServerURLs []string
	// Defaults fill Settings fields the admin has not set (zero fields take the package defaults).
	Defaults Settings
	// RetryBase and RetryMax bound the retry backoff of intents (defaults DefaultRetryBase/Max).
	RetryBase time.Duration
	RetryMax  time.Duration // see RetryBase
	// HistoryLookback is how far back the first history pass of a server reads
	// (default DefaultHistoryLookback).
	HistoryLookback time.Duration
	// PlexCallTimeout bounds each Plex call, the client's retries included (default
	// DefaultPlexCallTimeout; history reads have DefaultHistoryReadTimeout).
	PlexCallTimeout time.Duration
}

// Service is the domain engine: it mirrors Plex into the store (Sync), applies access windows
// (Enforce), purges inactive users, and carries out every admin change to users, shares, invites and
// the Plex Home. Decisions are pure functions (the Plan* functions) of the store, Plex's answers and the
// time; the Service gathers their inputs, runs them and applies their plans through intents. It is safe
// for concurrent use.
type Service struct {
	store     *storage.Store
	gw        Gateway
	now       func() time.Time
	log       *zap.Logger
	lock      sync.Locker
	urls      []string
	defaults  Settings
	retryBase time.Duration
	retryMax  time.Duration
	lookback  time.Duration
	// tokenBad mirrors the stored token state (see observe).
	tokenBad atomic.Bool
	// tvMu guards tvFailing: the groups of plex.tv calls (callsSharing, …) whose last attempt failed in
	// a way that may pass; anyCallRecovers stands for every group (intents waiting after a restart).
	// The first answer to a call of a failing group makes the waiting retries due (see notePlexTV).
	tvMu      sync.Mutex
	tvFailing map[string]bool
	// wake asks the enforcement loop for a pass now (buffered: wakes coalesce).
	wake chan struct{}
	// sweepMu guards lastSweep, when finished intents were last pruned (see sweepIntents).
	sweepMu   sync.Mutex
	lastSweep time.Time
}

// New checks opts and returns a Service. It reads the store but makes no Plex call; call
// ResumeIntents at start.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("access: Options.Store is required")
	}
	if opts.Plex == nil {
		return nil, errors.New("access: Options.Plex is required")
	}
	s := &Service{
		store: opts.Store, gw: opts.Plex, now: opts.Now, log: opts.Logger, lock: opts.PassLock,
		urls: append([]string(nil), opts.ServerURLs...), defaults: opts.Defaults.withDefaults(),
		retryBase: opts.RetryBase, retryMax: opts.RetryMax, lookback: opts.HistoryLookback,
		wake: make(chan struct{}, 1),
	}
	callTimeout := opts.PlexCallTimeout
	if callTimeout <= 0 {
		callTimeout = DefaultPlexCallTimeout
	}
	s.gw = &boundedGateway{gw: opts.Plex, timeout: callTimeout, history: max(DefaultHistoryReadTimeout, callTimeout),
		tvResult: s.notePlexTV}
	if err := s.defaults.Validate(); err != nil {
		return nil, fmt.Errorf("access: Options.Defaults: %w", err)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.lock == nil {
		s.lock = &sync.Mutex{}
	}
	if s.retryBase <= 0 {
		s.retryBase = DefaultRetryBase
	}
	if s.retryMax < s.retryBase {
		s.retryMax = max(DefaultRetryMax, s.retryBase)
	}
	if s.lookback <= 0 {
		s.lookback = DefaultHistoryLookback
	}
	if err := s.loadTokenState(); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	if err := s.loadRetryState(); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return s, nil
}

// clock returns the current time in UTC.
func (s *Service) clock() time.Time { return s.now().UTC() }

// Store returns the store the Service works on.
func (s *Service) Store() *storage.Store { return s.store }
