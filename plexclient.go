package plexmanager

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/plex"
)

// provisionPlex builds the Plex client. The client identifier is persisted in the store, so every
// config and every restart presents the same device to plex.tv (PINs created before a reload can still
// be checked, and the account's device list does not fill up).
func (a *App) provisionPlex() error {
	clientID, err := a.store.store.ClientID()
	if err != nil {
		return fmt.Errorf("plex_manager: reading the Plex client identifier: %w", err)
	}
	c, err := plex.New(plex.Config{
		TVURL:    a.resolved.tvURL,
		AuthURL:  a.resolved.authURL,
		ClientID: clientID,
		Product:  "Caddy Plex Manager",
		Version:  Version,
		Timeout:  15 * time.Second,
		Observe:  a.observePlexCall,
	})
	if err != nil {
		return fmt.Errorf("plex_manager: Plex client: %w", err)
	}
	a.plex = c
	return nil
}

// observePlexCall is the Plex client's metrics hook.
func (a *App) observePlexCall(info plex.CallInfo) {
	if a.metrics != nil {
		a.metrics(info)
	}
}

// ownerToken returns the server owner's plex.tv token: the Caddyfile's, else the one the setup wizard
// or the settings page stored (sealed). "" means Plex is not connected yet.
func (a *App) ownerToken() string {
	if a.resolved.plexToken != "" {
		return a.resolved.plexToken
	}
	tok, err := handlers.PlexOwnerToken(a.store.store, a.store.sealer)
	if err != nil {
		a.logger.Error("the stored Plex token cannot be read (secret.key replaced?); enter it again in the settings", zap.Error(err))
		return ""
	}
	return tok
}
