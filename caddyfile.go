package plexmanager

import (
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
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if seen[name] {
			return d.Errf("plex_manager: duplicate subdirective %q", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "public_url":
			err = oneArg(d, &a.PublicURL)
		case "data_dir":
			err = oneArg(d, &a.DataDir)
		case "api_key":
			err = oneArg(d, &a.APIKey)
		case "sync_every":
			err = durationArg(d, &a.SyncEvery)
		case "enforce_every":
			err = durationArg(d, &a.EnforceEvery)
		case "session_poll":
			err = durationArg(d, &a.SessionPoll)
		case "demo":
			if d.NextArg() {
				return d.ArgErr()
			}
			a.Demo = true
		case "plex":
			a.Plex = new(PlexConfig)
			err = a.Plex.unmarshalCaddyfile(d)
		case "discord":
			a.Discord = new(DiscordConfig)
			err = a.Discord.unmarshalCaddyfile(d)
		default:
			return d.Errf("plex_manager: unknown subdirective %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *PlexConfig) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if seen[name] && name != "server" {
			return d.Errf("plex_manager: plex: duplicate subdirective %q", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "token":
			err = oneArg(d, &p.Token)
		case "server":
			var s string
			err = oneArg(d, &s)
			p.Servers = append(p.Servers, s)
		case "tv_url":
			err = oneArg(d, &p.TVURL)
		case "auth_url":
			err = oneArg(d, &p.AuthURL)
		default:
			return d.Errf("plex_manager: plex: unknown subdirective %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *DiscordConfig) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if seen[name] {
			return d.Errf("plex_manager: discord: duplicate subdirective %q", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "client_id":
			err = oneArg(d, &c.ClientID)
		case "client_secret":
			err = oneArg(d, &c.ClientSecret)
		case "guild_id":
			err = oneArg(d, &c.GuildID)
		default:
			return d.Errf("plex_manager: discord: unknown subdirective %q", name)
		}
		if err != nil {
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
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if seen[name] {
			return d.Errf("plex_manager: duplicate subdirective %q", name)
		}
		seen[name] = true
		switch name {
		case "base_path":
			if err := oneArg(d, &h.BasePath); err != nil {
				return err
			}
			if len(h.BasePath) == 0 || h.BasePath[0] != '/' {
				return d.Errf("plex_manager: base_path must start with /, got %q", h.BasePath)
			}
		default:
			return d.Errf("plex_manager: unknown subdirective %q", name)
		}
	}
	return nil
}

// Interface guards.
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
