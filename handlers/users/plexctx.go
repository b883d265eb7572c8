package users

import (
	"context"
	"net/http"
	"time"
)

// PlexEditTimeout bounds how long a single-user edit waits for Plex before it answers. The engine keeps
// the change as an intent and retries it, so an unresponsive Plex gets a prompt "will be retried" (202)
// instead of a request that outlives reverse proxies' timeouts (the client's own retries could take a
// minute). Bulk edits are not bounded this way: they report per user.
const PlexEditTimeout = 20 * time.Second

// plexEditContext is the request's context with PlexEditTimeout.
func plexEditContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), PlexEditTimeout)
}
