package plexmanager

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/access/invite/discord"
	"github.com/plex-manager/caddy-plex-manager/handlers/invites"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// provisionInvites builds the invite service, its sign-in flow and the web feature.
func (a *App) provisionInvites() error {
	svc, err := invite.New(invite.Options{
		Store:  a.store.store,
		Access: a.access,
		Logger: a.logger.Named("invites"),
		LinkBase: func() string {
			u := a.publicURL()
			if u == "" {
				return ""
			}
			return u + a.inviteBase()
		},
		DiscordEnabled: func() bool { return a.resolved.discordID != "" && a.resolved.discordSecret != "" },
		DefaultGuildID: a.resolved.discordGuildID,
		// Public invite pages keep what they read per code until the store changes.
		Generation: a.store.store.Generation,
	})
	if err != nil {
		return fmt.Errorf("plex_manager: invites: %w", err)
	}
	opts := invite.FlowOptions{Service: svc, Plex: a.plex}
	if a.resolved.discordID != "" && a.resolved.discordSecret != "" {
		dp, err := discord.New(discord.Config{ClientID: a.resolved.discordID, ClientSecret: a.resolved.discordSecret})
		if err != nil {
			return fmt.Errorf("plex_manager: discord: %w", err)
		}
		opts.Discord = dp
	}
	flow, err := invite.NewFlow(opts)
	if err != nil {
		return fmt.Errorf("plex_manager: invites: %w", err)
	}
	feat, err := invites.New(invites.Options{Service: svc, Flow: flow, Logger: a.logger.Named("invites")})
	if err != nil {
		return fmt.Errorf("plex_manager: invites: %w", err)
	}
	a.inviteSvc, a.inviteFeature = svc, feat
	return nil
}

// inviteWorkers settles reservations a crash left behind, at start and every few minutes.
func (a *App) inviteWorkers() []worker {
	return []worker{{name: "invite_sweep", run: func(ctx context.Context) error {
		t := time.NewTicker(5 * time.Minute)
		defer t.Stop()
		for {
			if n, err := a.inviteSvc.SweepStale(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("settling stale invite reservations failed", zap.Error(err))
			} else if err == nil && n > 0 {
				a.logger.Info("settled stale invite reservations", zap.Int("count", n))
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}}}
}

var _ web.Feature = (*invites.Feature)(nil)
