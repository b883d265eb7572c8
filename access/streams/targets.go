package streams

import (
	"cmp"
	"context"
	"fmt"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// StoredTargets returns an Options.Servers function over the servers in the store: each is
// reached at its stored URL with its own access token when one is stored (opened with open,
// since tokens are sealed at rest) or else with the owner's token. Servers without a URL are
// skipped. open may be nil when tokens are not sealed.
func StoredTargets(store *storage.Store, client *plex.Client, ownerToken func() string, open func(sealed string) (string, error)) func(ctx context.Context) ([]Target, error) {
	return func(context.Context) ([]Target, error) {
		servers, err := store.ListServers()
		if err != nil {
			return nil, fmt.Errorf("reading servers: %w", err)
		}
		out := make([]Target, 0, len(servers))
		for _, s := range servers {
			if s.URL == "" {
				continue
			}
			token := s.Token
			if token != "" && open != nil && storage.IsSealed(token) {
				if token, err = open(token); err != nil {
					return nil, fmt.Errorf("opening the token of server %s: %w", s.ID, err)
				}
			}
			token = cmp.Or(token, ownerToken())
			out = append(out, Target{ID: s.ID, Name: cmp.Or(s.Name, s.ID), Source: client.Server(s.URL, token)})
		}
		return out, nil
	}
}
