// Command fakeplex serves plextest's fake of plex.tv, the Plex auth app and
// a few Plex Media Servers with demo data, for demos and manual testing.
//
//	go run ./cmd/fakeplex -addr 127.0.0.1:32400 -token TOKEN
//
// It prints the base URL, the auth URL and each server's URL, never a token,
// and shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// config is what the flags say.
type config struct {
	addr        string
	token       string
	servers     int
	friends     int
	historyDays int
	seed        int64
	pinInterval time.Duration
	minimal     bool
}

// parseFlags reads the command line (without the program name).
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("fakeplex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:32400", "listen address (host:port)")
	fs.StringVar(&c.token, "token", "", "the owner's plex.tv token (default: random; sign in through the auth page instead)")
	fs.IntVar(&c.servers, "servers", 3, "number of servers")
	fs.IntVar(&c.friends, "friends", 40, "number of friends")
	fs.IntVar(&c.historyDays, "history-days", 120, "days of watch history")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the generated demo data")
	fs.DurationVar(&c.pinInterval, "pin-interval", time.Second, "shortest allowed gap between two polls of one PIN")
	fs.BoolVar(&c.minimal, "minimal", false, "serve the small test seed (1 server, 3 friends) instead of demo data")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	switch {
	case c.servers < 1:
		return config{}, errors.New("-servers must be at least 1")
	case c.friends < 0:
		return config{}, errors.New("-friends must not be negative")
	case c.historyDays < 1:
		return config{}, errors.New("-history-days must be at least 1")
	case c.pinInterval < 0:
		return config{}, errors.New("-pin-interval must not be negative")
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return config{}, fmt.Errorf("-addr %q: %w", c.addr, err)
	}
	return c, nil
}

// options turns the config into plextest options.
func (c config) options() (plextest.Options, error) {
	token := c.token
	if token == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return plextest.Options{}, fmt.Errorf("generating the owner token: %w", err)
		}
		token = hex.EncodeToString(b)
	}
	seed := plextest.SeedMinimal()
	if !c.minimal {
		friends := c.friends
		if friends == 0 {
			friends = -1 // SeedDemo: none (0 means its default)
		}
		seed = plextest.SeedDemo(plextest.DemoOptions{Servers: c.servers, Friends: friends,
			HistoryDays: c.historyDays, Seed: c.seed})
	}
	return plextest.Options{OwnerToken: token, Seed: seed, PINPollInterval: c.pinInterval}, nil
}

// baseURL is the URL clients use for a listener address.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	opts, err := c.options()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.addr, err)
	}
	fake := plextest.New(opts)
	fake.SetBaseURL(baseURL(ln.Addr()))
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}

	fmt.Fprintf(stdout, "fakeplex: base URL %s\n", fake.URL())
	fmt.Fprintf(stdout, "fakeplex: auth URL %s\n", fake.AuthURL())
	for _, s := range fake.Servers() {
		fmt.Fprintf(stdout, "fakeplex: server %q %s %s\n", s.Name, s.MachineID, s.URL)
	}
	if c.token == "" {
		fmt.Fprintln(stdout, "fakeplex: no -token given: the owner token is random; sign in through the auth URL")
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	fake.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	fmt.Fprintln(stdout, "fakeplex: stopped")
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "fakeplex:", err)
		os.Exit(1)
	}
}
