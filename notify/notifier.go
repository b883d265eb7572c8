package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Defaults of Options.
const (
	DefaultRetries     = 3
	DefaultBaseBackoff = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultQueueSize   = 256
	// deliveryLogSize is how many deliveries Deliveries keeps.
	deliveryLogSize = 100
)

// Options configure a Notifier.
type Options struct {
	// Store holds the settings. Required.
	Store *storage.Store
	// Sealer seals secrets at rest (the root passes its *storage.Sealer). Nil: stored plain.
	Sealer Sealer
	// Record appends an audit event (notify.failed, user.expiring, user.warned). Nil: Store.
	Record func(ev storage.Event) error
	// Observe is called after each delivery with its channel and outcome (metrics).
	Observe func(channel string, err error)
	// HTTPClient sends webhooks (default: a client with Timeout).
	HTTPClient *http.Client
	// Timeout bounds each attempt (default 10s).
	Timeout time.Duration
	// Retries is how many times a failed delivery is repeated (default 3; negative: none).
	Retries int
	// BaseBackoff doubles per retry, with jitter, up to MaxBackoff (defaults 1s and 30s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// QueueSize bounds the messages waiting for Run (default 256); beyond it Notify drops and logs.
	QueueSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives failures (default: none).
	Logger *zap.Logger
	// Mailer sends user warnings by e-mail (default: an SMTP mailer built from the settings).
	Mailer Mailer
	// DM sends user warnings as Discord direct messages (nil: DM warnings are skipped).
	DM DMSender
	// StatusURL turns a status token into the absolute URL of the public status page (the root
	// knows the invite handler's public URL and base path). Nil: warnings carry no link.
	StatusURL func(token string) string
	// PurgeCandidates lists the users the next purge would remove (the root wires the access
	// service's purge preview). Nil: no purge warnings.
	PurgeCandidates func(ctx context.Context) ([]storage.User, error)
}

// Delivery is one entry of the delivery log.
type Delivery struct {
	At       time.Time `json:"at"`
	Channel  string    `json:"channel"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Attempts int       `json:"attempts"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"`
}

// channel is one delivery target.
type channel interface {
	name() string
	send(ctx context.Context, m Message) error
}

// Notifier delivers notifications. Create it with New; it is safe for concurrent use.
type Notifier struct {
	opts  Options
	log   *zap.Logger
	hc    *http.Client
	queue chan Message

	mu       sync.Mutex
	settings *Settings // cache, nil until loaded
	history  []Delivery
	key      []byte // status link key, nil until loaded
}

// New checks opts and returns a Notifier. Nothing is delivered until Run is started.
func New(opts Options) (*Notifier, error) {
	if opts.Store == nil {
		return nil, errors.New("notify: no store")
	}
	if opts.Record == nil {
		opts.Record = opts.Store.RecordEvent
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch {
	case opts.Retries < 0:
		opts.Retries = 0
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = DefaultBaseBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: opts.Timeout}
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	n := &Notifier{opts: opts, log: log, hc: hc, queue: make(chan Message, opts.QueueSize)}
	if opts.Mailer == nil {
		n.opts.Mailer = settingsMailer{n: n}
	}
	return n, nil
}

// Settings returns the current settings (secrets in clear: do not show them; see Public).
func (n *Notifier) Settings() (Settings, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.settings != nil {
		return *n.settings, nil
	}
	s, err := loadSettings(n.opts.Store, n.opts.Sealer)
	if err != nil {
		return Settings{}, err
	}
	n.settings = &s
	return s, nil
}

// SaveSettings merges masked secrets with the stored ones, validates and stores the settings,
// and records a settings.notify_changed event by actor.
func (n *Notifier) SaveSettings(actor string, next Settings) (Settings, error) {
	cur, err := n.Settings()
	if err != nil {
		return Settings{}, err
	}
	next = cur.Merge(next)
	if err := next.Validate(); err != nil {
		return Settings{}, err
	}
	n.mu.Lock()
	err = saveSettings(n.opts.Store, n.opts.Sealer, next)
	if err == nil {
		s := next
		n.settings = &s
	}
	n.mu.Unlock()
	if err != nil {
		return Settings{}, err
	}
	_ = n.opts.Record(storage.Event{Type: "settings.notify_changed", Actor: actor, Message: "Notification settings changed",
		Data: map[string]any{"kinds": next.Kinds, "channels": next.Channels(), "warn_days": next.WarnDays}})
	return next, nil
}

// Notify queues the notification of ev when the admins picked its kind and a channel is set. It
// never blocks: when the queue is full the message is dropped and logged.
func (n *Notifier) Notify(ev storage.Event) {
	kind, ok := KindOf(ev)
	if !ok {
		return
	}
	s, err := n.Settings()
	if err != nil {
		n.log.Error("notification settings unreadable", zap.Error(err))
		return
	}
	if !s.Wants(kind) || len(s.Channels()) == 0 {
		return
	}
	select {
	case n.queue <- messageOf(kind, ev, n.opts.Now()):
	default:
		n.log.Warn("notification queue full; message dropped", zap.String("kind", kind), zap.String("event", ev.Type))
	}
}

// Run delivers queued messages until ctx ends; it returns nil then.
func (n *Notifier) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-n.queue:
			n.deliverAll(ctx, m)
		}
	}
}

// Flush delivers the queued messages now (tests, shutdown); it returns when the queue is empty.
func (n *Notifier) Flush(ctx context.Context) {
	for {
		select {
		case m := <-n.queue:
			n.deliverAll(ctx, m)
		default:
			return
		}
	}
}

// channels builds the configured channels.
func (n *Notifier) channels(s Settings) []channel {
	var out []channel
	if s.WebhookURL != "" {
		out = append(out, webhook{url: s.WebhookURL, secret: s.WebhookSecret, hc: n.hc, now: n.opts.Now})
	}
	if s.DiscordWebhookURL != "" {
		out = append(out, discord{url: s.DiscordWebhookURL, hc: n.hc})
	}
	for i, u := range s.ShoutrrrURLs {
		out = append(out, shoutrrrChannel{label: fmt.Sprintf("%s:%d", ChannelShoutrrr, i+1), url: u, timeout: n.opts.Timeout})
	}
	return out
}

// deliverAll sends m to every configured channel.
func (n *Notifier) deliverAll(ctx context.Context, m Message) {
	s, err := n.Settings()
	if err != nil {
		n.log.Error("notification settings unreadable", zap.Error(err))
		return
	}
	for _, ch := range n.channels(s) {
		if ctx.Err() != nil {
			return // stopped: the channels not tried yet are not failures either
		}
		if err := n.deliver(ctx, ch, m); err != nil && ctx.Err() == nil {
			// The audit log gets the kind of failure only: an error's text may quote the URL.
			reason := failureReason(err)
			ev := storage.Event{Type: EventFailed, Actor: "system",
				Message: fmt.Sprintf("Notification %q could not be sent to %s: %s", m.Title, ch.name(), reason),
				Data:    map[string]any{"channel": ch.name(), "kind": m.Kind, "error": reason}}
			if rerr := n.opts.Record(ev); rerr != nil {
				n.log.Error("recording a failed notification", zap.Error(rerr))
			}
		}
	}
}

// deliver sends m on ch with retries and backoff, logs the outcome and returns the last error. A
// delivery cut short because ctx ended (Caddy stopping or reloading) was not refused: it is neither
// logged nor counted, and the error wraps ctx's.
func (n *Notifier) deliver(ctx context.Context, ch channel, m Message) error {
	var err error
	attempts := 0
	for attempt := 0; attempt <= n.opts.Retries; attempt++ {
		if attempt > 0 {
			wait := max(n.backoff(attempt), retryAfterOf(err))
			wait = min(wait, n.opts.MaxBackoff)
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(wait):
			}
			if ctx.Err() != nil {
				break
			}
		}
		attempts++
		actx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
		err = ch.send(actx, m)
		cancel()
		if err == nil || permanent(err) {
			break
		}
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("delivering to %s: stopped before it was done: %w", ch.name(), ctx.Err())
	}
	d := Delivery{At: n.opts.Now().UTC(), Channel: ch.name(), Kind: m.Kind, Title: m.Title, Attempts: attempts, OK: err == nil}
	if err != nil {
		d.Error = err.Error()
		n.log.Warn("notification not delivered", zap.String("channel", ch.name()), zap.String("kind", m.Kind),
			zap.Int("attempts", attempts), zap.String("error", d.Error))
	}
	n.mu.Lock()
	n.history = append(n.history, d)
	if len(n.history) > deliveryLogSize {
		n.history = n.history[len(n.history)-deliveryLogSize:]
	}
	n.mu.Unlock()
	if n.opts.Observe != nil {
		n.opts.Observe(channelKind(ch.name()), err)
	}
	return err
}

// channelKind strips the index of shoutrrr channels for metrics labels.
func channelKind(name string) string {
	kind, _, _ := strings.Cut(name, ":")
	return kind
}

// backoff is the wait before retry n (1-based): BaseBackoff·2^(n-1) with ±20 % jitter.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.opts.BaseBackoff << (attempt - 1)
	if d <= 0 || d > n.opts.MaxBackoff {
		d = n.opts.MaxBackoff
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
	return d - d/10 + jitter
}

// Deliveries returns the delivery log, newest first.
func (n *Notifier) Deliveries() []Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Delivery, len(n.history))
	for i, d := range n.history {
		out[len(n.history)-1-i] = d
	}
	return out
}

// ErrNoChannel: Test was asked for a channel that is not configured.
var ErrNoChannel = errors.New("that channel is not configured")

// Test sends a test message to one configured channel ("webhook", "discord", "shoutrrr:1"…) now,
// with the retries, and returns the outcome.
func (n *Notifier) Test(ctx context.Context, channelName, actor string) error {
	s, err := n.Settings()
	if err != nil {
		return err
	}
	for _, ch := range n.channels(s) {
		if ch.name() != channelName {
			continue
		}
		m := Message{Kind: KindTest, Title: titleOf(KindTest), Text: fmt.Sprintf("Test message sent by %s from Plex Manager.", actor), At: n.opts.Now().UTC()}
		return n.deliver(ctx, ch, m)
	}
	return ErrNoChannel
}
