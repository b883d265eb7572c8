package streams

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// TestClosedStore checks that store failures are answered 503 (try again shortly), and that
// invalid rules are still refused as bad input naming the field rather than as a server error.
func TestClosedStore(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		api                      bool
		status                   int
		want                     string
	}{
		{name: "history page", method: "GET", path: "/streams/history?user=22526914", status: 503},
		{name: "save rules", method: "POST", path: "/streams/rules", body: "max_streams=2", status: 503},
		{name: "save bad rules", method: "POST", path: "/streams/rules", body: "max_streams=-4", status: 400, want: "max_streams must be"},
		{name: "API history", method: "GET", path: "/streams/history?user_id=22526914", api: true, status: 503, want: "try again shortly"},
		{name: "API rules", method: "GET", path: "/streams/rules", api: true, status: 503, want: "try again shortly"},
		{name: "API put rules", method: "PUT", path: "/streams/rules", body: `{"max_streams":2}`, api: true, status: 503, want: "try again shortly"},
		{name: "API put bad rules", method: "PUT", path: "/streams/rules", body: `{"max_streams":-4}`, api: true, status: 400, want: `"field":"max_streams"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			switch {
			case tt.api:
				rec = e.srv.API(tt.method, tt.path, web.RoleAdmin, tt.body)
			case tt.body != "":
				rec = e.srv.Do(tt.method, tt.path, web.RoleAdmin, strings.NewReader(tt.body))
			default:
				rec = e.srv.Do(tt.method, tt.path, web.RoleAdmin, nil)
			}
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d, want %d with %q: %s", rec.Code, tt.status, tt.want, body)
			}
			if tt.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if strings.Contains(body, "store is closed") {
				t.Errorf("the answer shows the error: %s", body)
			}
		})
	}
}

// TestTerminateNotRecorded checks the answers of a stop the store could not record (it is closed):
// the page says the stream was stopped and that the event log lacks it, the API says so too with
// the store's status; a stop Plex refused still says the stream was not stopped.
func TestTerminateNotRecorded(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	s1 := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Heat"})
	s2 := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Ronin"})
	e.poll(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}

	rec := e.srv.Do("POST", "/streams/"+machineID+"/"+s1.ID+"/terminate", web.RoleModerator, strings.NewReader("reason=x"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("page terminate = %d", rec.Code)
	}
	next := html.UnescapeString(e.srv.Do("GET", "/streams", web.RoleModerator, nil, "Cookie", flashCookie(rec)).Body.String())
	if !strings.Contains(next, "The stream was stopped, but the stop could not be written to the event log") || strings.Contains(next, "was not stopped") {
		t.Errorf("the page does not say the stream was stopped and not recorded:\n%s", next)
	}

	rec = e.srv.API("DELETE", "/streams/"+machineID+"/"+s2.ID, web.RoleModerator, `{"reason":"x"}`)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "was stopped") || strings.Contains(rec.Body.String(), "closed") {
		t.Errorf("API terminate, not recorded = %d %s", rec.Code, rec.Body.String())
	}
	if n := len(e.fake.Terminations()); n != 2 {
		t.Fatalf("%d terminations, want 2", n)
	}
}

// TestTerminateRefusedSaysNotStopped: a stop Plex refused says the stream was not stopped.
func TestTerminateRefusedSaysNotStopped(t *testing.T) {
	e := newEnv(t, plextest.Options{NoPlexPass: true})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID})
	e.poll(t)
	rec := e.srv.Do("POST", "/streams/"+machineID+"/"+s.ID+"/terminate", web.RoleModerator, strings.NewReader("reason=x"))
	next := html.UnescapeString(e.srv.Do("GET", "/streams", web.RoleModerator, nil, "Cookie", flashCookie(rec)).Body.String())
	if !strings.Contains(next, "The stream was not stopped. Plex refused") || strings.Contains(next, "was stopped,") {
		t.Errorf("the page does not say the stream was not stopped:\n%s", next)
	}
}
