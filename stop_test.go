package plexmanager

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// TestStopDuringStartupWorkLogsNoFailure: a config stopped (a reload, or Caddy stopping) while its
// start-up work waits for Plex logs no warning: being stopped is not a failure.
func TestStopDuringStartupWorkLogsNoFailure(t *testing.T) {
	fake := plextest.NewServer(t, plextest.Options{})
	fake.Inject(plextest.Fault{Route: "GET /identity", Hang: true})
	raw := `{"data_dir": "` + t.TempDir() + `/pm", "plex": {"token": "` + fake.OwnerToken() + `",
		"servers": ["` + fake.ServerURL(plextest.MinimalMachineID) + `"], "tv_url": "` + fake.TVURL() + `",
		"auth_url": "` + fake.AuthURL() + `"}}`
	app, done, err := provisionApp(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	core, logs := observer.New(zap.WarnLevel)
	app.logger = zap.New(core)
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); fake.CallCount("GET /identity") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the start-up refresh never asked the server")
		}
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, e := range logs.All() {
		if e.Level >= zap.WarnLevel && e.Message != "no admin exists yet: open the admin UI and enter this setup code to create the first admin" {
			t.Errorf("logged at %s when stopped: %q %v", e.Level, e.Message, e.ContextMap())
		}
	}
}
