// Command caddy is Caddy with its standard modules and the Plex Manager plugin, for `go run` and tests.
// Release binaries are built with xcaddy (see the README); the result is the same program.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/plex-manager/caddy-plex-manager"
)

func main() {
	caddycmd.Main()
}
