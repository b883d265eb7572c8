package handlers

import (
	"context"
	"net/http"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// WithClientIP returns ctx carrying ip as the request's client address (see web.WithClientIP).
// The root package passes the address Caddy determined (trusted proxies honoured), so handlers
// never parse X-Forwarded-For themselves.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return web.WithClientIP(ctx, ip)
}

// ClientIP returns the client address stored by WithClientIP, falling back to the host part of
// r.RemoteAddr (see web.ClientIP).
func ClientIP(r *http.Request) string { return web.ClientIP(r) }
