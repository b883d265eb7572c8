package plexmanager

import (
	"slices"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("plex_manager", parseGlobalOption)
	httpcaddyfile.RegisterHandlerDirective("plex_manager", parseHandlerDirective)
	// After respond and metrics, so `respond /robots.txt …` or basic_auth in the same site still run first.
	httpcaddyfile.RegisterDirectiveOrder("plex_manager", httpcaddyfile.Before, "reverse_proxy")
}

// parseGlobalOption parses the `plex_manager` global option into the app's JSON. A second
// `plex_manager` block is an error rather than a merge, so a config says each thing once.
func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("plex_manager: the global option may appear only once")
	}
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "plex_manager", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile sets up the app from Caddyfile tokens. Syntax:
//
//	plex_manager {
//		public_url <url>
//		data_dir   <path>
//		plex {
//			token    <token>
//			server   <url>          # repeatable
//			tv_url   <url>
//			auth_url <url>
//		}
//		discord {
//			client_id     <id>
//			client_secret <secret>
//			guild_id      <id>
//		}
//		api_key       <key>
//		sync_every    <duration>
//		enforce_every <duration>
//		session_poll  <duration>
//		demo
//	}
//
// Secrets should be {env.*} or {file.*} placeholders: they stay placeholders in the JSON and are
// resolved when the app is provisioned.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume the option name
	one := func(dst *string) func(*caddyfile.Dispenser) error {
		return func(d *caddyfile.Dispenser) error { return oneArg(d, dst) }
	}
	dur := func(dst *caddy.Duration) func(*caddyfile.Dispenser) error {
		return func(d *caddyfile.Dispenser) error { return durationArg(d, dst) }
	}
	return parseBlock(d, "plex_manager", subdirectives{
		"public_url":    one(&a.PublicURL),
		"data_dir":      one(&a.DataDir),
		"api_key":       one(&a.APIKey),
		"sync_every":    dur(&a.SyncEvery),
		"enforce_every": dur(&a.EnforceEvery),
		"session_poll":  dur(&a.SessionPoll),
		"demo": func(d *caddyfile.Dispenser) error {
			if d.NextArg() {
				return d.ArgErr()
			}
			a.Demo = true
			return nil
		},
		"plex": func(d *caddyfile.Dispenser) error {
			p := new(PlexConfig)
			a.Plex = p
			return parseBlock(d, "plex_manager: plex", subdirectives{
				"token": one(&p.Token),
				"server": func(d *caddyfile.Dispenser) error {
					var s string
					err := oneArg(d, &s)
					p.Servers = append(p.Servers, s)
					return err
				},
				"tv_url":   one(&p.TVURL),
				"auth_url": one(&p.AuthURL),
			}, "server")
		},
		"discord": func(d *caddyfile.Dispenser) error {
			c := new(DiscordConfig)
			a.Discord = c
			return parseBlock(d, "plex_manager: discord", subdirectives{
				"client_id":     one(&c.ClientID),
				"client_secret": one(&c.ClientSecret),
				"guild_id":      one(&c.GuildID),
				"bot_token":     one(&c.BotToken),
			})
		},
	})
}

// subdirectives maps the subdirectives a block accepts to their parsers; a parser starts with the
// dispenser on the subdirective's name.
type subdirectives map[string]func(d *caddyfile.Dispenser) error

// parseBlock reads the rest of the current line (which must have no arguments) and its block: every
// subdirective must be known and, unless listed in repeatable, appear once. Errors name the line.
func parseBlock(d *caddyfile.Dispenser, what string, subs subdirectives, repeatable ...string) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		parse, ok := subs[name]
		if !ok {
			return d.Errf("%s: unknown subdirective %q", what, name)
		}
		if seen[name] && !slices.Contains(repeatable, name) {
			return d.Errf("%s: duplicate subdirective %q", what, name)
		}
		seen[name] = true
		if err := parse(d); err != nil {
			return err
		}
	}
	return nil
}

// oneArg reads exactly one argument of the current subdirective.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// durationArg reads exactly one duration argument (units as caddy.ParseDuration, including d).
func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil {
		return d.Errf("plex_manager: %s: invalid duration %q: %v", d.Val(), s, err)
	}
	if dur <= 0 {
		return d.Errf("plex_manager: %s must be positive", d.Val())
	}
	*dst = caddy.Duration(dur)
	return nil
}

// parseHandlerDirective builds the handler from a `plex_manager` directive.
func parseHandlerDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	plex_manager admin|invite {
//		base_path <path>
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume the directive name
	if !d.NextArg() {
		return d.Err("plex_manager: expected a mode: admin or invite")
	}
	h.Mode = d.Val()
	if h.Mode != "admin" && h.Mode != "invite" {
		return d.Errf("plex_manager: unknown mode %q (want admin or invite)", h.Mode)
	}
	return parseBlock(d, "plex_manager", subdirectives{
		"base_path": func(d *caddyfile.Dispenser) error {
			if err := oneArg(d, &h.BasePath); err != nil {
				return err
			}
			if len(h.BasePath) == 0 || h.BasePath[0] != '/' {
				return d.Errf("plex_manager: base_path must start with /, got %q", h.BasePath)
			}
			return nil
		},
	})
}

// Interface guards.
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
