package plexmanager

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// TestDemoDestructDoesNotWaitForBusyRequests: a request the demo Plex is still busy with cannot hold up
// Destruct (and with it a Caddy reload) for longer than the grace period.
func TestDemoDestructDoesNotWaitForBusyRequests(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release // ignores the client going away, like a slow handler
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/busy")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	d := &demoHandle{server: srv}
	began := time.Now()
	if err := d.Destruct(); err != nil {
		t.Errorf("Destruct = %v", err)
	}
	if took := time.Since(began); took > demoShutdownGrace+2*time.Second {
		t.Errorf("Destruct took %s with a busy request (grace %s)", took, demoShutdownGrace)
	}
}
