package streams

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Source is what the poller needs from one Plex Media Server; *plex.Server implements it.
type Source interface {
	// Sessions lists the streams playing now.
	Sessions(ctx context.Context) ([]plex.Session, error)
	// Terminate stops a stream and shows reason on the player.
	Terminate(ctx context.Context, sessionID, reason string) error
	// Thumb fetches artwork by its path.
	Thumb(ctx context.Context, path string) (plex.Image, error)
}

// Target is one server to poll.
type Target struct {
	// ID is the machineIdentifier; Name the friendly name.
	ID   string
	Name string
	// Source talks to the server with the owner's (or the server's) token.
	Source Source
}

// ActivityMarker records that a user was seen streaming; access.Service implements it.
type ActivityMarker interface {
	MarkActivity(userID int64, at time.Time) error
}

// Defaults of Options.
const (
	DefaultPollTimeout   = 20 * time.Second
	DefaultActivityEvery = 15 * time.Minute
	// killRetryAfter is how long a stream whose termination failed is left alone before the
	// rules try again (so a server without Plex Pass does not get a failed call, and the log a
	// failure event, on every poll).
	killRetryAfter = 10 * time.Minute
)

// Options configure a Poller.
type Options struct {
	// Store holds the users (joined to streams, read from the read model), the rules setting and
	// the history events. Required.
	Store *storage.Store
	// Servers lists the servers to poll; it is called at every poll, so servers added or removed
	// take effect at the next one. Required.
	Servers func(ctx context.Context) ([]Target, error)
	// Record appends an audit event. Pass access.Service.Record so that the hooks run after
	// each event (notifications, metrics); nil appends to Store directly.
	Record func(ev storage.Event) error
	// Activity receives the users' last activity (access.Service). Nil: not recorded.
	Activity ActivityMarker
	// OwnerID returns the owner's plex.tv id, so the server's account 1 maps to it. Nil or 0:
	// the owner's streams have user id 0.
	OwnerID func() int64
	// SourceResolution reports the source file's video resolution of a stream whose video is
	// transcoded (the session only describes the transcoder's output). Nil: unknown, and the
	// no-4K-transcode rule cannot recognise such streams.
	SourceResolution func(ctx context.Context, t Target, s plex.Session) (string, error)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives poll failures (default: none).
	Logger *zap.Logger
	// PollTimeout bounds the poll of one server (default 20s).
	PollTimeout time.Duration
	// ActivityEvery is how often a user still streaming is marked active again (default 15m);
	// a stream's start and end always mark.
	ActivityEvery time.Duration
}

// Snapshot is the latest state of one server.
type Snapshot struct {
	// Server is the machineIdentifier; Name the friendly name.
	Server string `json:"server"`
	Name   string `json:"name"`
	// FetchedAt is when the poll ended; Online is false when it failed, Error says why.
	FetchedAt time.Time `json:"fetched_at"`
	Online    bool      `json:"online"`
	Error     string    `json:"error,omitempty"`
	// Streams are the server's streams (empty when the poll failed), newest first.
	Streams []Stream `json:"streams"`
	// Totals sums Streams.
	Totals Totals `json:"totals"`
}

// KillResult is one stream a rule stopped (or tried to).
type KillResult struct {
	Kill
	// Err is why Plex refused, or nil.
	Err error
	// DryRun is true when the rules only report.
	DryRun bool
}

// Report summarises one poll.
type Report struct {
	// At is when the poll started.
	At time.Time
	// Servers polled, Failed among them; Streams seen in all.
	Servers int
	Failed  int
	Streams int
	// Ended counts the streams recorded in the history.
	Ended int
	// Kills lists what the rules stopped or would stop.
	Kills []KillResult
}

// liveStream is a stream the poller tracks between polls.
type liveStream struct {
	stream   Stream
	lastSeen time.Time
}

// Poller polls the servers' sessions. Create it with NewPoller; it is safe for concurrent use.
type Poller struct {
	opts Options
	log  *zap.Logger

	// pollMu serialises polls and guards the fields below it.
	pollMu    sync.Mutex
	live      map[string]map[string]*liveStream // server → stream key
	state     map[string]string                 // server → online, offline, unauthorized
	attempted map[string]time.Time              // server/key → failed kill time
	marked    map[int64]time.Time               // user → last MarkActivity

	// mu guards the published snapshots.
	mu      sync.RWMutex
	snaps   map[string]Snapshot
	flagged map[string]string // server/key → rule, in dry run
	polled  time.Time
}

// NewPoller checks opts and returns a Poller with no snapshot yet.
func NewPoller(opts Options) (*Poller, error) {
	if opts.Store == nil {
		return nil, errors.New("streams: no store")
	}
	if opts.Servers == nil {
		return nil, errors.New("streams: no server list")
	}
	if opts.Record == nil {
		opts.Record = opts.Store.RecordEvent
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = DefaultPollTimeout
	}
	if opts.ActivityEvery <= 0 {
		opts.ActivityEvery = DefaultActivityEvery
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Poller{
		opts: opts, log: log,
		live: map[string]map[string]*liveStream{}, state: map[string]string{},
		attempted: map[string]time.Time{}, marked: map[int64]time.Time{},
		snaps: map[string]Snapshot{}, flagged: map[string]string{},
	}, nil
}

// Run polls at once and then every interval until ctx ends; it returns nil then. A failed poll
// is logged and the loop goes on.
func (p *Poller) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("streams: poll interval must be positive, got %s", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("polling streams failed", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// serverResult is the outcome of polling one server.
type serverResult struct {
	target   Target
	sessions []plex.Session
	err      error
}

// Poll reads every server once, updates the snapshots, records ended streams and server state
// changes, and applies the rules. It returns an error only when the server list cannot be read;
// a failing server is reported in its snapshot.
func (p *Poller) Poll(ctx context.Context) (Report, error) {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()

	now := p.opts.Now().UTC()
	rep := Report{At: now}
	targets, err := p.opts.Servers(ctx)
	if err != nil {
		return rep, fmt.Errorf("listing servers to poll: %w", err)
	}
	results := p.fetchAll(ctx, targets)
	rep.Servers = len(results)
	if err := ctx.Err(); err != nil {
		// Stopped mid-poll (Caddy stopping or reloading): the answers cut short say nothing about the
		// servers. Keep the last snapshots, record no "offline" event, apply no rule.
		return rep, fmt.Errorf("polling streams: %w", err)
	}

	ownerID := int64(0)
	if p.opts.OwnerID != nil {
		ownerID = p.opts.OwnerID()
	}
	snaps := make(map[string]Snapshot, len(results))
	var all []Stream
	seen := map[string]bool{}
	for _, res := range results {
		t := res.target
		seen[t.ID] = true
		p.noteState(t, res.err, now)
		if res.err != nil {
			rep.Failed++
			snaps[t.ID] = Snapshot{Server: t.ID, Name: t.Name, FetchedAt: p.opts.Now().UTC(), Error: explainPoll(res.err)}
			continue
		}
		streams, ended := p.merge(ctx, t, res.sessions, ownerID, now)
		rep.Ended += p.recordEnded(ended, now)
		all = append(all, streams...)
		snaps[t.ID] = Snapshot{Server: t.ID, Name: t.Name, FetchedAt: p.opts.Now().UTC(), Online: true, Streams: streams}
	}
	for id := range p.live {
		if !seen[id] {
			delete(p.live, id)
			delete(p.state, id)
		}
	}
	rep.Streams = len(all)

	kills, flagged := p.enforce(ctx, targets, all, now)
	rep.Kills = kills
	stopped := map[string]bool{}
	for _, k := range kills {
		if k.Err == nil && !k.DryRun {
			stopped[k.Stream.Server+"/"+k.Stream.Key()] = true
		}
	}
	for id, s := range snaps {
		s.Streams = slices.DeleteFunc(s.Streams, func(st Stream) bool { return stopped[st.Server+"/"+st.Key()] })
		slices.SortFunc(s.Streams, func(a, b Stream) int {
			return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(a.Key(), b.Key()))
		})
		s.Totals = TotalsOf(s.Streams)
		snaps[id] = s
	}
	p.markActivity(all, now)

	p.mu.Lock()
	p.snaps, p.flagged, p.polled = snaps, flagged, now
	p.mu.Unlock()
	return rep, nil
}

// fetchAll polls every target concurrently, each under PollTimeout.
func (p *Poller) fetchAll(ctx context.Context, targets []Target) []serverResult {
	results := make([]serverResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		results[i].target = t
		if t.Source == nil {
			results[i].err = fmt.Errorf("server %s has no connection", t.ID)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					results[i].err = fmt.Errorf("polling server %s panicked: %v", t.ID, r)
				}
			}()
			cctx, cancel := context.WithTimeout(ctx, p.opts.PollTimeout)
			defer cancel()
			results[i].sessions, results[i].err = t.Source.Sessions(cctx)
		}()
	}
	wg.Wait()
	return results
}

// merge turns one server's sessions into streams, carrying StartedAt over from the previous
// poll, joining users, and returns the streams and those that ended since the previous poll.
func (p *Poller) merge(ctx context.Context, t Target, sessions []plex.Session, ownerID int64, now time.Time) ([]Stream, []liveStream) {
	prev := p.live[t.ID]
	next := make(map[string]*liveStream, len(sessions))
	out := make([]Stream, 0, len(sessions))
	for _, s := range sessions {
		st := fromSession(t.ID, t.Name, s, ownerID)
		key := st.Key()
		if old, ok := prev[key]; ok {
			st.StartedAt = old.stream.StartedAt
			if st.Quality.SourceResolution == "" {
				st.Quality.SourceResolution = old.stream.Quality.SourceResolution
			}
		} else {
			st.StartedAt = now
		}
		if st.Quality.SourceResolution == "" && p.opts.SourceResolution != nil {
			if res, err := p.opts.SourceResolution(ctx, t, s); err == nil {
				st.Quality.SourceResolution = NormalizeResolution(res)
			} else {
				p.log.Debug("source resolution unknown", zap.String("server", t.ID), zap.Error(err))
			}
		}
		p.joinUser(&st)
		next[key] = &liveStream{stream: st, lastSeen: now}
		out = append(out, st)
	}
	var ended []liveStream
	for key, old := range prev {
		if _, ok := next[key]; !ok {
			ended = append(ended, *old)
		}
	}
	slices.SortFunc(ended, func(a, b liveStream) int { return a.stream.StartedAt.Compare(b.stream.StartedAt) })
	p.live[t.ID] = next
	return out, ended
}

// joinUser fills the stored user's name when the stream's user is known.
func (p *Poller) joinUser(st *Stream) {
	if st.UserID == 0 {
		return
	}
	u, err := p.opts.Store.CachedUser(st.UserID)
	if err != nil {
		return
	}
	st.Known = true
	if name := cmp.Or(u.Username, u.Title, u.Email); name != "" {
		st.Username = name
	}
}

// noteState records server.offline, server.online and plex.token_invalid on state changes.
func (p *Poller) noteState(t Target, err error, now time.Time) {
	state := "online"
	switch {
	case err == nil:
	case errors.Is(err, plex.ErrUnauthorized):
		state = "unauthorized"
	default:
		state = "offline"
	}
	prev, known := p.state[t.ID]
	p.state[t.ID] = state
	if prev == state || (!known && state == "online") {
		return
	}
	ev := storage.Event{At: now, Actor: SystemActor, ServerID: t.ID, Data: map[string]any{"server": t.Name}}
	switch state {
	case "online":
		ev.Type, ev.Message = EventServerOnline, fmt.Sprintf("Server %s answers again", t.Name)
	case "offline":
		ev.Type, ev.Message = EventServerOffline, fmt.Sprintf("Server %s is offline: %s", t.Name, explainPoll(err))
		ev.Data["error"] = explainPoll(err)
	case "unauthorized":
		ev.Type, ev.Message = EventTokenInvalid, fmt.Sprintf("Server %s refused the Plex token", t.Name)
	}
	if rerr := p.opts.Record(ev); rerr != nil {
		p.log.Error("recording server state", zap.String("server", t.ID), zap.Error(rerr))
	}
}

// markActivity marks the users seen streaming: new streams at once, continuing ones at most
// every ActivityEvery.
func (p *Poller) markActivity(streams []Stream, now time.Time) {
	if p.opts.Activity == nil {
		return
	}
	for _, s := range streams {
		if s.Owner || !s.Known {
			continue
		}
		last, ok := p.marked[s.UserID]
		if ok && now.Sub(last) < p.opts.ActivityEvery && !s.StartedAt.Equal(now) {
			continue
		}
		p.mark(s.UserID, now)
	}
}

// mark calls the ActivityMarker and remembers when.
func (p *Poller) mark(userID int64, at time.Time) {
	if p.opts.Activity == nil || p.marked[userID].Equal(at) {
		return
	}
	if err := p.opts.Activity.MarkActivity(userID, at); err != nil {
		p.log.Warn("recording last activity", zap.Int64("user", userID), zap.Error(err))
		return
	}
	p.marked[userID] = at
}

// Snapshots returns the latest snapshot of every server, ordered by server name.
func (p *Poller) Snapshots() []Snapshot {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Snapshot, 0, len(p.snaps))
	for _, s := range p.snaps {
		s.Streams = slices.Clone(s.Streams)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Server, b.Server)) })
	return out
}

// Streams returns the streams of every server, newest first.
func (p *Poller) Streams() []Stream {
	var out []Stream
	for _, s := range p.Snapshots() {
		out = append(out, s.Streams...)
	}
	slices.SortStableFunc(out, func(a, b Stream) int { return b.StartedAt.Compare(a.StartedAt) })
	return out
}

// Stream returns one stream of the latest snapshots.
func (p *Poller) Stream(serverID, session string) (Stream, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, s := range p.snaps[serverID].Streams {
		if s.Session == session {
			return s, true
		}
	}
	return Stream{}, false
}

// Flagged returns the rule that would stop a stream in dry run ("" when none).
func (p *Poller) Flagged(serverID, key string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.flagged[serverID+"/"+key]
}

// LastPoll returns when the latest poll started (zero before the first).
func (p *Poller) LastPoll() time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.polled
}

// StreamCounts returns the number of live streams per server id (metrics).
func (p *Poller) StreamCounts() map[string]int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make(map[string]int, len(p.snaps))
	for id, s := range p.snaps {
		out[id] = len(s.Streams)
	}
	return out
}

// explainPoll turns a poll failure into a message safe to show (plex errors never carry tokens
// or URLs with queries).
func explainPoll(err error) string {
	var pe *plex.Error
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, plex.ErrUnauthorized):
			return "the server refused the Plex token"
		case errors.Is(err, plex.ErrOffline):
			return "the server did not answer"
		}
		return pe.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the server did not answer in time"
	}
	return err.Error()
}
