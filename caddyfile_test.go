package plexmanager

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func TestGlobalOptionParses(t *testing.T) {
	input := `plex_manager {
		public_url https://join.example.com
		data_dir /srv/pm
		plex {
			token {env.PLEX_TOKEN}
			server http://192.168.1.20:32400
			server http://192.168.1.21:32400
			tv_url http://127.0.0.1:9999
			auth_url http://127.0.0.1:9999/auth
		}
		discord {
			client_id {env.DISCORD_ID}
			client_secret {file./run/secrets/discord}
			guild_id 123456789012345678
			bot_token {env.DISCORD_BOT}
		}
		api_key {env.KEY}
		sync_every 2h
		enforce_every 30s
		session_poll 1d
		demo
	}`
	val, err := parseGlobalOption(caddyfile.NewTestDispenser(input), nil)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	app := val.(httpcaddyfile.App)
	if app.Name != "plex_manager" {
		t.Fatalf("app name %q", app.Name)
	}
	var got App
	if err := json.Unmarshal(app.Value, &got); err != nil {
		t.Fatal(err)
	}
	want := App{
		PublicURL: "https://join.example.com",
		DataDir:   "/srv/pm",
		Plex: &PlexConfig{
			Token:   "{env.PLEX_TOKEN}",
			Servers: []string{"http://192.168.1.20:32400", "http://192.168.1.21:32400"},
			TVURL:   "http://127.0.0.1:9999",
			AuthURL: "http://127.0.0.1:9999/auth",
		},
		Discord:      &DiscordConfig{ClientID: "{env.DISCORD_ID}", ClientSecret: "{file./run/secrets/discord}", GuildID: "123456789012345678", BotToken: "{env.DISCORD_BOT}"},
		APIKey:       "{env.KEY}",
		SyncEvery:    caddy.Duration(2 * time.Hour),
		EnforceEvery: caddy.Duration(30 * time.Second),
		SessionPoll:  caddy.Duration(24 * time.Hour),
		Demo:         true,
	}
	gotJSON, _ := json.Marshal(&got)
	wantJSON, _ := json.Marshal(&want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("parsed\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	// Placeholders must survive into the JSON untouched (resolved only in Provision).
	if !strings.Contains(string(app.Value), `{env.PLEX_TOKEN}`) {
		t.Errorf("placeholder lost in JSON: %s", app.Value)
	}
}

func TestGlobalOptionErrors(t *testing.T) {
	cases := []struct {
		name, input, want string
		line              int
	}{
		{"arguments on the option", "plex_manager extra {\n}", "wrong argument count", 1},
		{"unknown subdirective", "plex_manager {\n\tfoo bar\n}", `unknown subdirective "foo"`, 2},
		{"public_url missing", "plex_manager {\n\tpublic_url\n}", "wrong argument count", 2},
		{"public_url surplus", "plex_manager {\n\tpublic_url a b\n}", "wrong argument count", 2},
		{"public_url duplicate", "plex_manager {\n\tpublic_url a\n\tpublic_url b\n}", `duplicate subdirective "public_url"`, 3},
		{"data_dir missing", "plex_manager {\n\tdata_dir\n}", "wrong argument count", 2},
		{"data_dir surplus", "plex_manager {\n\tdata_dir a b\n}", "wrong argument count", 2},
		{"data_dir duplicate", "plex_manager {\n\tdata_dir a\n\tdata_dir b\n}", "duplicate", 3},
		{"api_key missing", "plex_manager {\n\tapi_key\n}", "wrong argument count", 2},
		{"api_key surplus", "plex_manager {\n\tapi_key a b\n}", "wrong argument count", 2},
		{"api_key duplicate", "plex_manager {\n\tapi_key a\n\tapi_key b\n}", "duplicate", 3},
		{"sync_every missing", "plex_manager {\n\tsync_every\n}", "wrong argument count", 2},
		{"sync_every invalid", "plex_manager {\n\tsync_every soon\n}", "invalid duration", 2},
		{"sync_every negative", "plex_manager {\n\tsync_every -1m\n}", "must be positive", 2},
		{"sync_every surplus", "plex_manager {\n\tsync_every 1m 2m\n}", "wrong argument count", 2},
		{"sync_every duplicate", "plex_manager {\n\tsync_every 1m\n\tsync_every 2m\n}", "duplicate", 3},
		{"enforce_every missing", "plex_manager {\n\tenforce_every\n}", "wrong argument count", 2},
		{"enforce_every invalid", "plex_manager {\n\tenforce_every x\n}", "invalid duration", 2},
		{"enforce_every duplicate", "plex_manager {\n\tenforce_every 1m\n\tenforce_every 1m\n}", "duplicate", 3},
		{"session_poll missing", "plex_manager {\n\tsession_poll\n}", "wrong argument count", 2},
		{"session_poll invalid", "plex_manager {\n\tsession_poll x\n}", "invalid duration", 2},
		{"session_poll duplicate", "plex_manager {\n\tsession_poll 1s\n\tsession_poll 1s\n}", "duplicate", 3},
		{"demo with argument", "plex_manager {\n\tdemo yes\n}", "wrong argument count", 2},
		{"demo duplicate", "plex_manager {\n\tdemo\n\tdemo\n}", "duplicate", 3},
		{"plex with argument", "plex_manager {\n\tplex x {\n\t}\n}", "wrong argument count", 2},
		{"plex duplicate", "plex_manager {\n\tplex {\n\t}\n\tplex {\n\t}\n}", `duplicate subdirective "plex"`, 4},
		{"plex unknown", "plex_manager {\n\tplex {\n\t\turl x\n\t}\n}", `plex: unknown subdirective "url"`, 3},
		{"plex token missing", "plex_manager {\n\tplex {\n\t\ttoken\n\t}\n}", "wrong argument count", 3},
		{"plex token surplus", "plex_manager {\n\tplex {\n\t\ttoken a b\n\t}\n}", "wrong argument count", 3},
		{"plex token duplicate", "plex_manager {\n\tplex {\n\t\ttoken a\n\t\ttoken b\n\t}\n}", `plex: duplicate subdirective "token"`, 4},
		{"plex server missing", "plex_manager {\n\tplex {\n\t\tserver\n\t}\n}", "wrong argument count", 3},
		{"plex server surplus", "plex_manager {\n\tplex {\n\t\tserver a b\n\t}\n}", "wrong argument count", 3},
		{"plex tv_url missing", "plex_manager {\n\tplex {\n\t\ttv_url\n\t}\n}", "wrong argument count", 3},
		{"plex tv_url duplicate", "plex_manager {\n\tplex {\n\t\ttv_url a\n\t\ttv_url b\n\t}\n}", "duplicate", 4},
		{"plex auth_url surplus", "plex_manager {\n\tplex {\n\t\tauth_url a b\n\t}\n}", "wrong argument count", 3},
		{"plex auth_url duplicate", "plex_manager {\n\tplex {\n\t\tauth_url a\n\t\tauth_url b\n\t}\n}", "duplicate", 4},
		{"discord with argument", "plex_manager {\n\tdiscord x\n}", "wrong argument count", 2},
		{"discord unknown", "plex_manager {\n\tdiscord {\n\t\tsecret x\n\t}\n}", `discord: unknown subdirective "secret"`, 3},
		{"discord client_id missing", "plex_manager {\n\tdiscord {\n\t\tclient_id\n\t}\n}", "wrong argument count", 3},
		{"discord client_secret surplus", "plex_manager {\n\tdiscord {\n\t\tclient_secret a b\n\t}\n}", "wrong argument count", 3},
		{"discord guild_id duplicate", "plex_manager {\n\tdiscord {\n\t\tguild_id 1\n\t\tguild_id 2\n\t}\n}", "duplicate", 4},
		{"discord duplicate", "plex_manager {\n\tdiscord {\n\t}\n\tdiscord {\n\t}\n}", "duplicate", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseGlobalOption(caddyfile.NewTestDispenser(c.input), nil)
			if err == nil {
				t.Fatalf("no error for %q", c.input)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			wantLine := "Testfile:" + itoa(c.line)
			if !strings.Contains(err.Error(), wantLine) {
				t.Errorf("error %q lacks the line %q", err, wantLine)
			}
		})
	}
}

func TestGlobalOptionTwiceIsAnError(t *testing.T) {
	_, err := parseGlobalOption(caddyfile.NewTestDispenser("plex_manager {\n}"), httpcaddyfile.App{Name: "plex_manager"})
	if err == nil || !strings.Contains(err.Error(), "only once") {
		t.Fatalf("err = %v", err)
	}
}

func TestHandlerDirective(t *testing.T) {
	cases := []struct {
		name, input string
		want        Handler
		wantErr     string
		line        int
	}{
		{name: "admin", input: "plex_manager admin", want: Handler{Mode: "admin"}},
		{name: "invite with base_path", input: "plex_manager invite {\n\tbase_path /join\n}", want: Handler{Mode: "invite", BasePath: "/join"}},
		{name: "no mode", input: "plex_manager", wantErr: "expected a mode", line: 1},
		{name: "bad mode", input: "plex_manager public", wantErr: `unknown mode "public"`, line: 1},
		{name: "surplus argument", input: "plex_manager admin extra", wantErr: "wrong argument count", line: 1},
		{name: "unknown subdirective", input: "plex_manager admin {\n\troot /x\n}", wantErr: `unknown subdirective "root"`, line: 2},
		{name: "base_path missing", input: "plex_manager admin {\n\tbase_path\n}", wantErr: "wrong argument count", line: 2},
		{name: "base_path surplus", input: "plex_manager admin {\n\tbase_path /a /b\n}", wantErr: "wrong argument count", line: 2},
		{name: "base_path relative", input: "plex_manager admin {\n\tbase_path manage\n}", wantErr: "must start with /", line: 2},
		{name: "base_path duplicate", input: "plex_manager admin {\n\tbase_path /a\n\tbase_path /b\n}", wantErr: "duplicate", line: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				if !strings.Contains(err.Error(), "Testfile:"+itoa(c.line)) {
					t.Errorf("error %q lacks line %d", err, c.line)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Mode != c.want.Mode || h.BasePath != c.want.BasePath {
				t.Errorf("got %+v, want %+v", h, c.want)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestNormalizeBasePathAndPrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "/manage/": "/manage", "manage": "/manage", " /a/b/ ": "/a/b"} {
		if got := normalizeBasePath(in); got != want {
			t.Errorf("normalizeBasePath(%q) = %q, want %q", in, got, want)
		}
	}
	cases := []struct {
		path, base string
		want       bool
	}{
		{"/anything", "", true},
		{"/manage", "/manage", true},
		{"/manage/users", "/manage", true},
		{"/manager", "/manage", false},
		{"/", "/manage", false},
	}
	for _, c := range cases {
		if got := underBasePath(c.path, c.base); got != c.want {
			t.Errorf("underBasePath(%q, %q) = %v", c.path, c.base, got)
		}
	}
}
