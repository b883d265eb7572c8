package plexmanager

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// provisionApp builds an App from JSON the way Caddy does (unmarshal, Provision, Validate) and returns
// it with the context's cancel func, which runs Cleanup.
func provisionApp(t *testing.T, raw string) (*App, context.CancelFunc, error) {
	t.Helper()
	var app App
	if err := json.Unmarshal([]byte(raw), &app); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	if err := app.Provision(ctx); err != nil {
		cancel()
		return nil, func() {}, err
	}
	if err := app.Validate(); err != nil {
		_ = app.Cleanup()
		cancel()
		return nil, func() {}, err
	}
	return &app, func() { _ = app.Cleanup(); cancel() }, nil
}

func TestAppResolvesSecretsAndDefaults(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "token")
	if err := os.WriteFile(secretFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PM_TEST_KEY", "0123456789abcdef0123456789abcdef")
	raw := `{"data_dir": "` + filepath.Join(dir, "pm") + `",
		"plex": {"token": "{file.` + secretFile + `}", "servers": ["http://127.0.0.1:32400/"]},
		"api_key": "{env.PM_TEST_KEY}", "sync_every": "2m"}`
	app, done, err := provisionApp(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	r := app.resolved
	if r.plexToken != "file-token" {
		t.Errorf("token not resolved from file (len %d)", len(r.plexToken))
	}
	if r.apiKey != "0123456789abcdef0123456789abcdef" {
		t.Errorf("api key not resolved from env")
	}
	if r.plexServers[0] != "http://127.0.0.1:32400" {
		t.Errorf("server %q", r.plexServers[0])
	}
	if r.syncEvery != 2*time.Minute || r.enforceEvery != DefaultEnforceEvery || r.sessionPoll != DefaultSessionPoll {
		t.Errorf("intervals %v %v %v", r.syncEvery, r.enforceEvery, r.sessionPoll)
	}
	if r.tvURL != "https://plex.tv" || r.authURL != "https://app.plex.tv/auth" {
		t.Errorf("default URLs %q %q", r.tvURL, r.authURL)
	}
	if !r.fromConfig["plex_token"] || !r.fromConfig["sync_every"] || r.fromConfig["enforce_every"] {
		t.Errorf("fromConfig = %v", r.fromConfig)
	}
}

func TestAppValidateRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, raw, want string }{
		{"relative public url", `{"public_url": "join.example.com"}`, "public_url"},
		{"bad server url", `{"plex": {"servers": ["192.168.1.2:32400"]}}`, "plex server"},
		{"short api key", `{"api_key": "short"}`, "api_key"},
		{"discord without secret", `{"discord": {"client_id": "1"}}`, "client_secret"},
		{"discord bot token with a space", `{"discord": {"client_id": "1", "client_secret": "s", "bot_token": "abc def"}}`, "bot_token"},
		{"interval too short", `{"enforce_every": "10ms"}`, "enforce_every"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := strings.Replace(c.raw, "{", `{"data_dir": "`+filepath.Join(dir, "pm", string(rune('a'+i)))+`", `, 1)
			_, done, err := provisionApp(t, raw)
			defer done()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
}

// TestOverlappingConfigsShareTheStore provisions a second app on the same data directory before the
// first is cleaned up, as a Caddy reload does; without the shared handle Badger's directory lock fails.
func TestOverlappingConfigsShareTheStore(t *testing.T) {
	raw := `{"data_dir": "` + filepath.Join(t.TempDir(), "pm") + `"}`
	first, doneFirst, err := provisionApp(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	second, doneSecond, err := provisionApp(t, raw)
	if err != nil {
		doneFirst()
		t.Fatalf("second config on the same data dir: %v", err)
	}
	if first.store != second.store {
		t.Error("the two configs got different store handles")
	}
	doneFirst()
	if err := second.store.ping(); err != nil {
		t.Fatalf("store closed while the second config still uses it: %v", err)
	}
	doneSecond()
	// After the last release the directory is free again: a third open works.
	third, doneThird, err := provisionApp(t, raw)
	if err != nil {
		t.Fatalf("reopen after release: %v", err)
	}
	if third.store == first.store {
		t.Error("expected a fresh handle after the pool released the store")
	}
	doneThird()
}

// TestStopWaitsForWorkers checks that Stop returns only after every worker has finished its current
// step, and that a panicking worker is recovered instead of killing the process.
func TestStopWaitsForWorkers(t *testing.T) {
	app, done, err := provisionApp(t, `{"data_dir": "`+filepath.Join(t.TempDir(), "pm")+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	var finished atomic.Bool
	var panics atomic.Int32
	started := make(chan struct{})
	app.extraWorkers = []worker{
		{name: "slow", run: func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			time.Sleep(300 * time.Millisecond) // a step that takes a while to finish
			finished.Store(true)
			return nil
		}},
		{name: "panicky", run: func(ctx context.Context) error {
			if panics.Add(1) == 1 {
				panic("boom")
			}
			<-ctx.Done()
			return nil
		}},
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	<-started
	if n := app.runningWorkers(); n != len(app.workerList()) {
		t.Errorf("running workers = %d, want %d", n, len(app.workerList()))
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the slow worker finished")
	}
	if n := app.runningWorkers(); n != 0 {
		t.Errorf("running workers after Stop = %d", n)
	}
}

// TestDiscordBotToken: a bot_token gives the notifier a Discord DM sender (resolved from a
// placeholder), none without one; the token is in no error.
func TestDiscordBotToken(t *testing.T) {
	t.Setenv("PM_TEST_BOT", "MTIz.bot-token_value")
	for _, c := range []struct {
		name, discord string
		wantBot       bool
	}{
		{"no discord", ``, false},
		{"discord without a bot", `"discord": {"client_id": "1", "client_secret": "s"},`, false},
		{"discord with a bot", `"discord": {"client_id": "1", "client_secret": "s", "bot_token": "{env.PM_TEST_BOT}"},`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := `{` + c.discord + `"data_dir": "` + filepath.Join(t.TempDir(), "pm") + `"}`
			app, done, err := provisionApp(t, raw)
			defer done()
			if err != nil {
				t.Fatal(err)
			}
			if got := app.discordBot != nil; got != c.wantBot {
				t.Errorf("Discord bot configured = %v, want %v", got, c.wantBot)
			}
		})
	}
	raw := `{"discord": {"client_id": "1", "client_secret": "s", "bot_token": "secret token"}, "data_dir": "` + filepath.Join(t.TempDir(), "pm") + `"}`
	_, done, err := provisionApp(t, raw)
	defer done()
	if err == nil || strings.Contains(err.Error(), "secret token") {
		t.Errorf("a malformed bot token: err = %v (must fail without repeating it)", err)
	}
}
