package streams

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Errors of Terminate and Thumb; test with errors.Is.
var (
	// ErrUnknownServer: no server with that id is configured.
	ErrUnknownServer = errors.New("unknown server")
	// ErrNotArtwork: the thumbnail path is not an artwork path.
	ErrNotArtwork = errors.New("not an artwork path")
	// ErrNoSession: the stream has no session id to terminate with.
	ErrNoSession = errors.New("no session id")
	// ErrNotRecorded: Terminate stopped the stream, but its stream.terminated event could not be
	// recorded (the error also wraps the store's: storage.ErrDiskFull, storage.ErrClosed, …). The
	// stream is stopped all the same; see Stopped.
	ErrNotRecorded = errors.New("the stream was stopped, but the stop was not recorded")
)

// Stopped reports whether a Terminate that returned err stopped the stream: when it succeeded,
// and when only recording the stop failed (ErrNotRecorded).
func Stopped(err error) bool { return err == nil || errors.Is(err, ErrNotRecorded) }

// DefaultTerminateReason is shown on the player when an admin gives no reason.
const DefaultTerminateReason = "The server owner has ended the stream."

// MaxReasonLength bounds a termination message.
const MaxReasonLength = 500

// enforce applies the rules to the polled streams: it terminates the kills (or, in dry run,
// returns them flagged) and records an event per kill. It stops at a kill cut short because ctx
// ended, which it neither reports nor records. It returns the results and, in dry run,
// the flagged streams.
func (p *Poller) enforce(ctx context.Context, targets []Target, all []Stream, now time.Time) ([]KillResult, map[string]string) {
	flagged := map[string]string{}
	rules, err := LoadRules(p.opts.Store)
	if err != nil {
		p.log.Error("stream rules not applied", zap.Error(err))
		return nil, flagged
	}
	users := map[int64]storage.User{}
	for _, s := range all {
		if s.UserID == 0 || s.Owner {
			continue
		}
		if u, err := p.opts.Store.CachedUser(s.UserID); err == nil {
			users[s.UserID] = u
		}
	}
	kills := Evaluate(all, users, rules)
	for k, at := range p.attempted {
		if now.Sub(at) >= killRetryAfter {
			delete(p.attempted, k)
		}
	}
	sources := map[string]Source{}
	for _, t := range targets {
		sources[t.ID] = t.Source
	}
	var out []KillResult
	for _, k := range kills {
		id := k.Stream.Server + "/" + k.Stream.Key()
		if rules.DryRun {
			flagged[id] = k.Rule
			out = append(out, KillResult{Kill: k, DryRun: true})
			continue
		}
		if _, waiting := p.attempted[id]; waiting {
			continue
		}
		err := p.terminate(ctx, sources[k.Stream.Server], k.Stream.Session, k.Message)
		if err != nil && ctx.Err() != nil {
			// Stopped (Caddy stopping or reloading) while the stream was being stopped: the call was cut
			// short, not refused. Record nothing and hold nothing back; the next poll decides again.
			break
		}
		if errors.Is(err, plex.ErrNotFound) {
			continue // it ended on its own, or another poller stopped it
		}
		out = append(out, KillResult{Kill: k, Err: err})
		ev := storage.Event{
			At: now, Type: EventStreamKilled, Actor: SystemActor, UserID: k.Stream.UserID, ServerID: k.Stream.Server,
			Message: fmt.Sprintf("Stopped %s's stream of %s (%s)", cmp.Or(k.Stream.Username, "a user"), k.Stream.Title, ruleLabel(k.Rule)),
			Data: map[string]any{
				"rule": k.Rule, "user": k.Stream.Username, "title": k.Stream.Title, "server": k.Stream.ServerName,
				"session": k.Stream.Session, "message": k.Message, "player": k.Stream.Player.Title,
			},
		}
		if err != nil {
			p.attempted[id] = now
			ev.Type = EventStreamKillFailed
			ev.Message = fmt.Sprintf("Could not stop %s's stream of %s (%s): %s", cmp.Or(k.Stream.Username, "a user"), k.Stream.Title, ruleLabel(k.Rule), Explain(err))
			ev.Data["error"] = Explain(err)
			p.log.Warn("stream rule could not stop a stream", zap.String("rule", k.Rule), zap.String("server", k.Stream.Server), zap.Error(err))
		}
		if rerr := p.opts.Record(ev); rerr != nil {
			p.log.Error("recording a stream kill", zap.Error(rerr))
		}
	}
	return out, flagged
}

// terminate stops one stream on src.
func (p *Poller) terminate(ctx context.Context, src Source, session, reason string) error {
	if src == nil {
		return ErrUnknownServer
	}
	if session == "" {
		return ErrNoSession
	}
	cctx, cancel := context.WithTimeout(ctx, p.opts.PollTimeout)
	defer cancel()
	return src.Terminate(cctx, session, reason)
}

// ruleLabel names a rule in a sentence.
func ruleLabel(rule string) string {
	switch rule {
	case RuleMaxStreams:
		return "too many simultaneous streams"
	case RuleNo4KTranscode:
		return "4K transcode"
	case RuleRemoteDirectPlay:
		return "remote stream not in direct play"
	}
	return rule
}

// target finds a server by id.
func (p *Poller) target(ctx context.Context, serverID string) (Target, error) {
	targets, err := p.opts.Servers(ctx)
	if err != nil {
		return Target{}, fmt.Errorf("listing servers: %w", err)
	}
	for _, t := range targets {
		if t.ID == serverID && t.Source != nil {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("server %q: %w", serverID, ErrUnknownServer)
}

// Terminate stops a stream on behalf of actor ("admin:<name>", "apikey:<name>") with reason shown
// on the player (DefaultTerminateReason when empty) and records a stream.terminated event. Plex
// refuses without Plex Pass: the error then matches plex.ErrPlexPassRequired (see Explain). A stream
// stopped whose event could not be recorded is an error matching ErrNotRecorded (see Stopped).
func (p *Poller) Terminate(ctx context.Context, actor, serverID, session, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = DefaultTerminateReason
	}
	if len(reason) > MaxReasonLength {
		return fmt.Errorf("the reason must be at most %d characters", MaxReasonLength)
	}
	if strings.TrimSpace(session) == "" {
		return ErrNoSession
	}
	t, err := p.target(ctx, serverID)
	if err != nil {
		return err
	}
	if err := p.terminate(ctx, t.Source, session, reason); err != nil {
		return fmt.Errorf("stopping stream %s on %s: %w", session, t.Name, err)
	}
	st, _ := p.Stream(serverID, session)
	p.mu.Lock()
	if snap, ok := p.snaps[serverID]; ok {
		kept := make([]Stream, 0, len(snap.Streams))
		for _, s := range snap.Streams {
			if s.Session != session {
				kept = append(kept, s)
			}
		}
		snap.Streams, snap.Totals = kept, TotalsOf(kept)
		p.snaps[serverID] = snap
	}
	p.mu.Unlock()
	ev := storage.Event{
		Type: EventStreamTerminated, Actor: actor, UserID: st.UserID, ServerID: serverID,
		Message: fmt.Sprintf("Stopped %s's stream of %s: %s", cmp.Or(st.Username, "a user"), cmp.Or(st.Title, "an item"), reason),
		Data:    map[string]any{"user": st.Username, "title": st.Title, "server": t.Name, "session": session, "reason": reason},
	}
	if err := p.opts.Record(ev); err != nil {
		p.log.Error("a stopped stream could not be recorded", zap.String("server", serverID), zap.String("actor", actor), zap.Error(err))
		return fmt.Errorf("%w: %w", ErrNotRecorded, err)
	}
	return nil
}

// Thumb fetches artwork from a server for the thumbnail proxy. Only artwork paths are accepted
// (plex.ValidArtworkPath); anything else is ErrNotArtwork before any call.
func (p *Poller) Thumb(ctx context.Context, serverID, path string) (plex.Image, error) {
	if !plex.ValidArtworkPath(path) {
		return plex.Image{}, ErrNotArtwork
	}
	t, err := p.target(ctx, serverID)
	if err != nil {
		return plex.Image{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.opts.PollTimeout)
	defer cancel()
	img, err := t.Source.Thumb(cctx, path)
	if err != nil {
		return plex.Image{}, fmt.Errorf("artwork from %s: %w", t.Name, err)
	}
	return img, nil
}

// Explain turns an error of Terminate or Thumb into a sentence for the admin.
func Explain(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotRecorded):
		return "The stream was stopped, but the stop could not be written to the event log: " + storeTrouble(err)
	case errors.Is(err, plex.ErrPlexPassRequired):
		return "Plex refused: stopping streams needs Plex Pass on the server owner's account."
	case errors.Is(err, plex.ErrNotFound):
		return "That stream has already ended."
	case errors.Is(err, ErrUnknownServer):
		return "That server is not managed here."
	case errors.Is(err, ErrNoSession):
		return "Plex did not give this stream a session id, so it cannot be stopped."
	case errors.Is(err, ErrNotArtwork):
		return "Only artwork can be fetched."
	case errors.Is(err, plex.ErrUnauthorized):
		return "The server refused the Plex token."
	case errors.Is(err, plex.ErrOffline), errors.Is(err, context.DeadlineExceeded):
		return "The server did not answer."
	}
	var pe *plex.Error
	if errors.As(err, &pe) && pe.Message != "" {
		return pe.Message
	}
	return err.Error()
}

// storeTrouble says in fixed words why the store refused a write (never the store's own text: it
// names paths).
func storeTrouble(err error) string {
	switch {
	case errors.Is(err, storage.ErrDiskFull):
		return "the data disk is full."
	case errors.Is(err, storage.ErrClosed):
		return "the database is not available (the server is stopping or reloading)."
	}
	return "the database refused it; the error has been logged."
}
