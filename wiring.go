package plexmanager

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/users"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// provisionAccess builds the domain engine over the shared store. Passes of overlapping configs are
// serialised by the lock kept in the pooled store handle.
func (a *App) provisionAccess() error {
	svc, err := access.New(access.Options{
		Store:      a.store.store,
		Plex:       access.NewPlexGateway(a.plex, a.ownerToken),
		Logger:     a.logger.Named("access"),
		PassLock:   &a.store.passMu,
		ServerURLs: a.resolved.plexServers,
	})
	if err != nil {
		return fmt.Errorf("plex_manager: access engine: %w", err)
	}
	a.access = svc
	setup, err := auth.NewSetupCodes(a.store.store, nil)
	if err != nil {
		return fmt.Errorf("plex_manager: setup codes: %w", err)
	}
	a.setupCodes = setup
	return nil
}

// accessWorkers turns the engine's loops into app workers. The first enforce run finishes intents a
// crash left behind before it plans anything new.
func (a *App) accessWorkers() []worker {
	var ws []worker
	ws = append(ws, worker{name: "access_resume", run: func(ctx context.Context) error {
		if a.ownerToken() != "" {
			if _, err := a.access.Servers(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("refreshing the Plex servers failed", zap.Error(err))
			}
			if err := a.access.ResumeIntents(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("finishing interrupted Plex changes failed; the enforce loop retries", zap.Error(err))
			}
		}
		<-ctx.Done()
		return nil
	}})
	for _, l := range a.access.Loops(a.loopIntervals()) {
		loop := l
		ws = append(ws, worker{name: loop.Name, run: func(ctx context.Context) error {
			// Nothing to do until Plex is connected (the setup wizard may still be open).
			for a.ownerToken() == "" {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(5 * time.Second):
				}
			}
			return loop.Serve(ctx)
		}})
	}
	return ws
}

// issueSetupCode prints a one-time setup code while the instance has no admin: whoever can read the
// server's log (or reach the local admin endpoint) can claim a fresh instance, a stranger who only
// reaches the public site cannot.
func (a *App) issueSetupCode() (string, error) {
	n, err := a.store.store.CountAdmins()
	if err != nil {
		return "", fmt.Errorf("counting admins: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	code, exp, err := a.setupCodes.Issue()
	if err != nil {
		return "", err
	}
	a.logger.Warn(handlers.SetupCodeLogMessage, zap.String("setup_code", code), zap.Time("expires_at", exp))
	return code, nil
}

// features lists the feature packages mounted on both handlers (each keeps the routes of its mode).
func (a *App) features() []web.Feature {
	var fs []web.Feature
	fs = append(fs, a.usersFeature)
	fs = append(fs, a.observabilityFeatures()...)
	fs = append(fs, a.inviteFeature)
	return fs
}

// provisionUsers builds the users, dashboard, servers and passes pages and API.
func (a *App) provisionUsers() error {
	iv := a.loopIntervals()
	uf, err := users.New(users.Options{
		Engine:       a.access,
		Store:        a.store.store,
		StreamCounts: a.poller.StreamCounts,
		Logger:       a.logger.Named("users"),
		Intervals:    &iv,
	})
	if err != nil {
		return fmt.Errorf("plex_manager: users pages: %w", err)
	}
	a.usersFeature = uf
	return nil
}

// publicURL is the address invitees reach: the Caddyfile's public_url, else the one set in the UI.
func (a *App) publicURL() string {
	if a.resolved.publicURL != "" {
		return a.resolved.publicURL
	}
	st, err := handlers.LoadAppSettings(a.store.store)
	if err != nil {
		return ""
	}
	return strings.TrimRight(st.PublicURL, "/")
}

// streamCount is the number of live streams in the last poll.
func (a *App) streamCount() int {
	n := 0
	for _, s := range a.poller.Snapshots() {
		n += len(s.Streams)
	}
	return n
}

// settingsChanged is called by the UI after the Plex token, the servers or the public URL changed: the
// servers (and their libraries) are refreshed from Plex at once in the background, so an invite form
// right after the setup wizard already lists the libraries.
func (a *App) settingsChanged() {
	select {
	case a.refresh <- struct{}{}:
	default: // a refresh is already queued
	}
}

// refreshWorker refreshes the servers whenever settingsChanged asks.
func (a *App) refreshWorker() worker {
	return worker{name: "servers_refresh", run: func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-a.refresh:
			}
			if a.ownerToken() == "" {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			if _, err := a.access.Servers(rctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("refreshing the Plex servers after a settings change failed", zap.Error(err))
			}
			cancel()
		}
	}}
}

// loopIntervals are the engine loops' periods from the config; the engine settings page shows the
// same values the loops use.
func (a *App) loopIntervals() access.Intervals {
	return access.Intervals{Sync: a.resolved.syncEvery, Enforce: a.resolved.enforceEvery}
}
