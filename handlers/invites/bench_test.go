package invites

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
)

// discardWriter is a ResponseWriter that keeps the headers and drops the body, so a benchmark
// measures the handler rather than a recorder's buffer.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.n += len(b)
	return len(b), nil
}

// BenchmarkPublicInvitePage serves the public pages of the invite handler as the root mounts it
// (store in the Deps, so the app name is read as in production; rate limiting on, the clock moving
// on by one refill per request so that no answer is a 429): a real invite page and the handler's
// landing page, each without and with a store change counter (Options.Generation and
// Deps.StoreGeneration; nothing is written during the loop, so the counter stays put and the
// reads of the invite, its servers and the app name are kept).
func BenchmarkPublicInvitePage(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.RateBurst = DefaultRateBurst })
	exp := e.clock.Now().Add(5 * 365 * 24 * time.Hour)
	inv := e.create(b, invite.Spec{Label: "Summer", Enabled: true, AllowDownloads: true, MembershipDays: 30, ExpiresAt: &exp,
		Libraries: map[string][]string{testServerID: {"4", "8"}}})
	var gen atomic.Uint64
	svc, err := invite.New(invite.Options{Store: e.store, Access: e.access, Now: e.clock.Now,
		LinkBase: func() string { return linkBase }, Generation: gen.Load})
	if err != nil {
		b.Fatal(err)
	}
	feat, err := New(Options{Service: svc, Now: e.clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	plain := webtest.New(b, webtest.Options{Mode: web.ModeInvite, PublicURL: "https://join.example.com",
		Features: []web.Feature{e.feat}, Deps: handlers.Deps{Store: e.store}})
	counted := webtest.New(b, webtest.Options{Mode: web.ModeInvite, PublicURL: "https://join.example.com",
		Features: []web.Feature{feat}, Deps: handlers.Deps{Store: e.store, StoreGeneration: gen.Load}})
	for _, bc := range []struct {
		name, path string
		srv        *webtest.Server
	}{
		{"invite", "/" + inv.Code, plain},
		{"landing", "/", plain},
		{"invite-generation", "/" + inv.Code, counted},
		{"landing-generation", "/", counted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			b.ReportAllocs()
			cpu0, cpuOK := processCPU()
			for b.Loop() {
				e.clock.Add(DefaultRateEvery)
				w := &discardWriter{header: http.Header{}}
				bc.srv.ServeHTTP(w, req)
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("GET %s: %d with %d bytes", bc.path, w.status, w.n)
				}
			}
			// CPU time per request (garbage collection included) is steadier than wall time on
			// a shared machine.
			if cpu1, ok := processCPU(); cpuOK && ok && b.N > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
