package plexmanager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// demos shares the embedded Plex fake across config reloads, so a reload keeps the demo's Plex state
// (shares made through the UI stay visible) and its URL.
var demos = caddy.NewUsagePool()

// demoHandle is the running demo fake.
type demoHandle struct {
	fake   *plextest.Fake
	server *http.Server
	url    string
}

// demoShutdownGrace is how long Destruct lets requests in flight at the demo fake finish before it
// closes their connections. Caddy runs the old config's Cleanup inside a reload, so this bounds how
// long a reload can wait for the simulated Plex (CI saw a 5 s wait make a /load time out).
const demoShutdownGrace = time.Second

// Destruct stops the demo fake: a graceful shutdown for demoShutdownGrace, then connections still
// busy are closed (it is a simulated Plex; a cut answer is only a failed call for a config that is
// going away).
func (d *demoHandle) Destruct() error {
	if d.fake != nil {
		d.fake.Close() // releases requests held by Hang faults
	}
	ctx, cancel := context.WithTimeout(context.Background(), demoShutdownGrace)
	defer cancel()
	if err := d.server.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		return d.server.Close()
	} else if err != nil {
		return fmt.Errorf("stopping the demo Plex: %w", err)
	}
	return nil
}

// provisionDemo starts (or reuses) the fake on a loopback port and points the app at it. The listener is
// opened here rather than in Start because the Plex client and the handlers need the fake's URL from
// Provision on; `caddy validate` releases it again in Cleanup.
func (a *App) provisionDemo() error {
	const key = "demo"
	val, _, err := demos.LoadOrNew(key, func() (caddy.Destructor, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listening for the demo Plex: %w", err)
		}
		fake := plextest.New(plextest.Options{
			Seed: plextest.SeedDemo(plextest.DemoOptions{Servers: 3, Friends: 40, HistoryDays: 120, Seed: 1}),
		})
		u := "http://" + ln.Addr().String()
		fake.SetBaseURL(u)
		srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.logger.Error("demo Plex stopped", zap.Error(err))
			}
		}()
		return &demoHandle{fake: fake, server: srv, url: u}, nil
	})
	if err != nil {
		return fmt.Errorf("plex_manager: demo: %w", err)
	}
	a.demoKey = key
	a.demo = val.(*demoHandle)

	// The demo replaces whatever Plex settings the config had.
	r := &a.resolved
	r.tvURL = a.demo.fake.TVURL()
	r.authURL = a.demo.fake.AuthURL()
	r.plexToken = a.demo.fake.OwnerToken()
	r.plexServers = nil
	for _, s := range a.demo.fake.Servers() {
		r.plexServers = append(r.plexServers, s.URL)
	}
	r.fromConfig["plex_token"] = true
	r.fromConfig["plex_servers"] = true
	if r.publicURL == "" {
		r.publicURL = "http://localhost:8080"
	}
	a.logger.Info("demo mode: simulated Plex running", zap.String("url", a.demo.url), zap.Int("servers", len(r.plexServers)))
	return nil
}

// releaseDemo gives back one reference to the demo fake.
func releaseDemo(key string) error {
	if _, err := demos.Delete(key); err != nil {
		return fmt.Errorf("plex_manager: stopping the demo Plex: %w", err)
	}
	return nil
}
