package users

import (
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

func TestPagesRender(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, p := range []string{"/", "/users", "/users/22526914", "/users/22526914/remove", "/users/invite",
		"/users/bulk?id=22526914&id=22522496", "/users/pending", "/users/home", "/servers", "/schedule", "/sync", "/enforce", "/purge",
		"/users/home/22526914/remove"} {
		rec := e.srv.Do("GET", p, web.RoleAdmin, nil)
		wantStatus(t, rec, statusOK, p)
	}
}
