package web

import (
	"context"
	"net"
	"net/http"
)

// clientIPKey is the context key WithClientIP stores the client address under.
type clientIPKey struct{}

// WithClientIP returns ctx carrying ip as the request's client address. The root package passes
// the address Caddy determined (trusted proxies honoured), so handlers never parse
// X-Forwarded-For themselves.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the client address stored by WithClientIP, falling back to the host part of
// r.RemoteAddr.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
