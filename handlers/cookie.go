package handlers

import (
	"net/http"
	"time"
)

// newCookie returns a cookie scoped to this handler: Path is the base path (or "/"), HttpOnly,
// SameSite=Lax (the returns from Plex and Discord sign-in are cross-site top-level GETs, which
// Strict cookies would miss), and Secure when the public URL is https. maxAge 0 makes a session
// cookie; a negative maxAge deletes the cookie.
func (s *server) newCookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     s.cfg.BasePath,
		HttpOnly: true,
		Secure:   s.cfg.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	}
	if c.Path == "" {
		c.Path = "/"
	}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}
