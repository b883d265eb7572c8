package plexmanager

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
	hevents "github.com/plex-manager/caddy-plex-manager/handlers/events"
	hstreams "github.com/plex-manager/caddy-plex-manager/handlers/streams"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/logbuf"
	"github.com/plex-manager/caddy-plex-manager/metrics"
	"github.com/plex-manager/caddy-plex-manager/notify"
	"github.com/plex-manager/caddy-plex-manager/notify/discordbot"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// teeLogs sends a logger's entries to the in-memory log viewer as well.
func teeLogs(l *zap.Logger, buf *logbuf.Buffer) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, buf.Core(zapcore.InfoLevel))
	}))
}

// provisionObservability builds the stream poller, metrics and notifier of this config. Nothing runs
// until Start.
func (a *App) provisionObservability() error {
	store := a.store.store
	poller, err := streams.NewPoller(streams.Options{
		Store:    store,
		Servers:  streams.StoredTargets(store, a.plex, a.ownerToken, a.store.sealer.Open),
		Record:   a.access.Record,
		Activity: a.access,
		OwnerID:  a.ownerPlexID,
		// A transcoded stream only describes the transcoder's output; the resolver reads the
		// source file's resolution (cached) so the no-4K-transcode rule can see it.
		SourceResolution: streams.NewSourceResolver(streams.SourceResolverOptions{}).Resolve,
		Logger:           a.logger.Named("streams"),
	})
	if err != nil {
		return err
	}
	a.poller = poller

	m := metrics.New(metrics.Options{Users: store, Streams: poller, Disk: store})
	if err := m.Register(a.ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	a.metricsSet = m
	a.metrics = m.ObservePlexCall

	dm, err := a.discordDM()
	if err != nil {
		return err
	}
	n, err := notify.New(notify.Options{
		DM:      dm,
		Store:   store,
		Sealer:  a.store.sealer,
		Record:  a.access.Record,
		Observe: m.ObserveNotification,
		Logger:  a.logger.Named("notify"),
		StatusURL: func(token string) string {
			return a.publicURL() + a.inviteBase() + "/access/" + token
		},
		PurgeCandidates: func(ctx context.Context) ([]storage.User, error) {
			plan, err := a.access.PurgePreview(ctx)
			if err != nil {
				return nil, err
			}
			users := make([]storage.User, 0, len(plan.Candidates))
			for _, c := range plan.Candidates {
				u, err := a.store.store.GetUser(c.UserID)
				if err != nil {
					return nil, err
				}
				users = append(users, u)
			}
			return users, nil
		},
	})
	if err != nil {
		return err
	}
	a.notifier = n
	return nil
}

// inviteBase is the base path of the invite handler the status links point to. One App may serve
// several handlers; links use the invite handler registered last (usually the only one).
func (a *App) inviteBase() string {
	a.inviteBaseMu.Lock()
	defer a.inviteBaseMu.Unlock()
	return a.inviteBasePath
}

// observabilityWorkers are the poller, the notifier and the periodic warnings and retention pruning.
func (a *App) observabilityWorkers() []worker {
	return []worker{
		{name: "streams_poll", run: func(ctx context.Context) error {
			for a.ownerToken() == "" {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(5 * time.Second):
				}
			}
			return a.poller.Run(ctx, a.resolved.sessionPoll)
		}},
		{name: "notify", run: a.notifier.Run},
		a.discordBotCheck(),
		{name: "notify_warn_users", run: every(time.Hour, func(ctx context.Context) error {
			_, err := a.notifier.WarnUsers(ctx)
			return err
		})},
		{name: "events_retention", run: every(24*time.Hour, func(context.Context) error {
			_, err := hevents.Prune(a.store.store, time.Now())
			return err
		})},
	}
}

// every runs fn now and then once per period until ctx ends; failures are returned to the worker
// wrapper only if ctx is still alive, which logs them and restarts the loop.
func every(period time.Duration, fn func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			t.Reset(period)
		}
	}
}

// subscribeEvents feeds every committed audit event to the notifier and the metrics.
func (a *App) subscribeEvents() {
	a.unsubscribe = a.store.store.Subscribe(func(ev storage.Event) {
		a.notifier.Notify(ev)
		a.metricsSet.ObserveEvent(ev)
	})
}

// observabilityFeatures are the streams and events/logs/notifications pages.
func (a *App) observabilityFeatures() []web.Feature {
	return []web.Feature{
		hstreams.New(a.poller, a.store.store, hstreams.Options{}),
		hevents.New(a.store.store, a.store.logs, a.notifier),
	}
}

// ownerIDCache remembers the owner's plex.tv id per token, so the poller maps the server's account 1
// without a plex.tv call per poll.
type ownerIDCache struct {
	mu      sync.Mutex
	token   string
	id      int64
	checked time.Time
}

// ownerPlexID returns the owner's plex.tv id (0 while unknown).
func (a *App) ownerPlexID() int64 {
	tok := a.ownerToken()
	if tok == "" {
		return 0
	}
	c := &a.ownerID
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok && (c.id != 0 || time.Since(c.checked) < time.Minute) {
		return c.id
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acct, err := a.plex.Account(ctx, tok)
	c.token, c.checked = tok, time.Now()
	if err != nil {
		a.logger.Warn("reading the Plex owner's account failed", zap.Error(err))
		c.id = 0
		return 0
	}
	c.id = acct.ID
	return c.id
}

// discordDM returns the Discord bot that sends warnings as direct messages, or nil (a nil interface,
// not a nil *discordbot.Client) when no bot_token is configured.
func (a *App) discordDM() (notify.DMSender, error) {
	if a.resolved.discordBot == "" {
		return nil, nil
	}
	bot, err := discordbot.New(discordbot.Config{Token: a.resolved.discordBot, Version: Version})
	if err != nil {
		return nil, fmt.Errorf("plex_manager: discord bot_token: %w", err)
	}
	a.discordBot = bot
	return bot, nil
}

// discordBotCheck is a one-shot worker that reads the bot's own account once after start, so a wrong
// bot_token is reported in the log at once rather than at the first warning; then it waits for ctx.
func (a *App) discordBotCheck() worker {
	return worker{name: "discord_bot_check", run: func(ctx context.Context) error {
		if a.discordBot != nil {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			me, err := a.discordBot.Check(cctx)
			cancel()
			switch {
			case err != nil && ctx.Err() == nil:
				a.logger.Warn("plex_manager: the Discord bot_token does not work; Discord DM warnings will fail", zap.Error(err))
			case err == nil:
				a.logger.Info("plex_manager: Discord DM warnings are sent by the bot", zap.String("bot", me.Username))
			}
		}
		<-ctx.Done()
		return nil
	}}
}
