package plex_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

func TestErrorKindsByStatus(t *testing.T) {
	tests := []struct {
		status int
		body   string
		kind   plex.Kind
		code   int
	}{
		{400, `{"errors":[{"code":1000,"message":"X-Plex-Client-Identifier is missing","status":400}]}`, plex.ErrBadRequest, 1000},
		{401, `{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`, plex.ErrUnauthorized, 1001},
		{403, ``, plex.ErrForbidden, 0},
		{404, `<errors><error>Not found</error></errors>`, plex.ErrNotFound, 0},
		{410, `<Response code="410" status="This endpoint was deprecated and removed"/>`, plex.ErrGone, 410},
		{422, `<errors><error code="1999" field="base" status="400"/></errors>`, plex.ErrBadRequest, 1999},
		{422, `<errors><error>Invalid token.</error></errors>`, plex.ErrUnauthorized, 0},
		{429, `{"errors":[{"code":1003,"message":"API rate limit exceeded","status":429}]}`, plex.ErrRateLimited, 1003},
		{500, `oops`, plex.ErrOffline, 0},
		{503, ``, plex.ErrOffline, 0},
		{302, ``, plex.ErrBadResponse, 0},
	}
	for _, tt := range tests {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "GET /api/v2/user", Status: tt.status, Body: tt.body})
		_, err := e.client.Account(ctx(t), e.token)
		pe := wantKind(t, err, tt.kind)
		if pe.Status != tt.status || pe.Code != tt.code || pe.Endpoint != "GET /api/v2/user" || pe.Message == "" {
			t.Errorf("%d: error = %+v", tt.status, pe)
		}
		if strings.Contains(err.Error(), e.token) || strings.Contains(err.Error(), e.fake.URL()) {
			t.Errorf("%d: error leaks the token or URL: %v", tt.status, err)
		}
	}
}

func TestRetryRules(t *testing.T) {
	t.Run("GET is retried on 500", func(t *testing.T) {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "GET /api/v2/user", Status: 500, Count: 2})
		if _, err := e.client.Account(ctx(t), e.token); err != nil {
			t.Fatal(err)
		}
		if n := e.fake.CallCount("GET /api/v2/user"); n != 3 {
			t.Errorf("%d calls, want 3", n)
		}
		obs := e.obs.list()
		if len(obs) != 3 {
			t.Fatalf("Observe saw %d attempts: %+v", len(obs), obs)
		}
		for i, o := range obs {
			wantStatus := []int{500, 500, 200}[i]
			if o.Attempt != i+1 || o.Status != wantStatus || o.Endpoint != "GET /api/v2/user" || (o.Err == nil) != (wantStatus == 200) || o.Duration <= 0 {
				t.Errorf("attempt %d = %+v", i+1, o)
			}
		}
	})
	t.Run("GET gives up after the retries", func(t *testing.T) {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "GET /api/v2/user", Status: 502})
		_, err := e.client.Account(ctx(t), e.token)
		wantKind(t, err, plex.ErrOffline)
		if n := e.fake.CallCount("GET /api/v2/user"); n != 3 {
			t.Errorf("%d calls, want 1 + 2 retries", n)
		}
	})
	t.Run("POST create is not retried on 500", func(t *testing.T) {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 500, Count: 1})
		_, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave", SectionIDs: []int64{plextest.SectionMovies}})
		wantKind(t, err, plex.ErrOffline)
		if n := e.fake.CallCount("POST /api/v2/shared_servers"); n != 1 {
			t.Errorf("%d calls, want 1", n)
		}
		if len(e.fake.SharesFor(machineID)) != 3 {
			t.Error("a share was created")
		}
		if len(e.obs.list()) != 1 {
			t.Errorf("Observe saw %d attempts", len(e.obs.list()))
		}
	})
	t.Run("POST create is retried on 429", func(t *testing.T) {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 429,
			Body: `{"errors":[{"code":1003,"message":"API rate limit exceeded","status":429}]}`, Count: 2})
		res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave", SectionIDs: []int64{plextest.SectionMovies}})
		if err != nil {
			t.Fatal(err)
		}
		if n := e.fake.CallCount("POST /api/v2/shared_servers"); n != 3 || res.ShareID == 0 {
			t.Errorf("%d calls, result %+v", n, res)
		}
		obs := e.obs.list()
		if len(obs) != 3 || obs[0].Status != 429 || !errors.Is(obs[0].Err, plex.ErrRateLimited) || obs[2].Status != 201 {
			t.Errorf("observations = %+v", obs)
		}
	})
	t.Run("429 to the end", func(t *testing.T) {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "GET /api/v2/resources", Status: 429})
		_, err := e.client.Resources(ctx(t), e.token)
		pe := wantKind(t, err, plex.ErrRateLimited)
		if pe.Status != 429 || e.fake.CallCount("GET /api/v2/resources") != 3 {
			t.Errorf("error %+v after %d calls", pe, e.fake.CallCount("GET /api/v2/resources"))
		}
	})
	t.Run("DELETE is retried on 500", func(t *testing.T) {
		e := newEnv(t, plextest.Options{})
		e.fake.Inject(plextest.Fault{Route: "DELETE /api/v2/shared_servers/{id}", Status: 500, Count: 1})
		if err := e.client.RemoveShare(ctx(t), e.token, machineID, 907759182); err != nil {
			t.Fatal(err)
		}
		if n := e.fake.CallCount("DELETE /api/v2/shared_servers/{id}"); n != 2 {
			t.Errorf("%d calls", n)
		}
	})
	t.Run("no retries when disabled", func(t *testing.T) {
		e := newEnv(t, plextest.Options{}, func(c *plex.Config) { c.Retries = -1 })
		e.fake.Inject(plextest.Fault{Route: "GET /api/v2/user", Status: 500})
		_, err := e.client.Account(ctx(t), e.token)
		wantKind(t, err, plex.ErrOffline)
		if n := e.fake.CallCount("GET /api/v2/user"); n != 1 {
			t.Errorf("%d calls", n)
		}
	})
}

func TestHangs(t *testing.T) {
	e := newEnv(t, plextest.Options{}, func(c *plex.Config) { c.Timeout = 80 * time.Millisecond; c.Retries = 1 })
	e.fake.Inject(plextest.Fault{Route: "GET /api/users", Hang: true})
	start := time.Now()
	_, err := e.client.Users(ctx(t), e.token)
	pe := wantKind(t, err, plex.ErrOffline)
	if !errors.Is(err, context.DeadlineExceeded) || pe.Status != 0 || !strings.Contains(pe.Message, "no answer within") {
		t.Errorf("hang error = %+v", pe)
	}
	if n := e.fake.CallCount("GET /api/users"); n != 2 {
		t.Errorf("a hanging GET was tried %d times, want 2", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}

	// A POST that hangs is not repeated: it may have been applied.
	e.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Hang: true})
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave", SectionIDs: []int64{plextest.SectionMovies}})
	wantKind(t, err, plex.ErrOffline)
	if n := e.fake.CallCount("POST /api/v2/shared_servers"); n != 1 {
		t.Errorf("a hanging POST was tried %d times", n)
	}

	// The caller's context ends the call and is visible in the error.
	e.fake.Inject(plextest.Fault{Route: "GET /api/v2/ping", Hang: true})
	c, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err = e.client.Ping(c, e.token)
	wantKind(t, err, plex.ErrOffline)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel not visible: %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	obs := &observer{}
	c, err := plex.New(plex.Config{TVURL: "http://" + addr, ClientID: "x", Retries: 2, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(ctx(t), "secret-token-value")
	pe := wantKind(t, err, plex.ErrOffline)
	if !strings.Contains(pe.Message, "could not reach Plex") || strings.Contains(err.Error(), "secret-token-value") || strings.Contains(err.Error(), "/api/v2/user") && strings.Contains(err.Error(), "http://") {
		t.Errorf("error = %v", err)
	}
	if n := len(obs.list()); n != 3 {
		t.Errorf("Observe saw %d attempts, want 3", n)
	}
	_, err = c.CreatePIN(ctx(t))
	wantKind(t, err, plex.ErrOffline)
	if n := len(obs.list()); n != 4 {
		t.Errorf("a POST create was retried after a connection error: %d attempts", n-3)
	}
}

func TestErrorsNeverCarryURLsOrTokens(t *testing.T) {
	// A server that echoes the token in its error message.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"errors":[{"code":1,"message":"bad token ` + r.Header.Get("X-Plex-Token") + ` for ` + r.URL.String() + `"}]}`))
	}))
	defer srv.Close()
	c, err := plex.New(plex.Config{TVURL: srv.URL, ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resources(ctx(t), "tok-12345")
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "tok-12345") || strings.Contains(err.Error(), "includeHttps") {
		t.Errorf("token or query echoed into the error: %v", err)
	}
	if !strings.Contains(err.Error(), "/api/v2/resources?") {
		t.Errorf("the rest of the message was lost: %v", err)
	}
}

func TestRedirectsToAnotherHostAreRefused(t *testing.T) {
	var leaked bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("X-Plex-Token") != ""
		w.WriteHeader(200)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/api/v2/ping", http.StatusFound)
	}))
	defer srv.Close()
	c, err := plex.New(plex.Config{TVURL: srv.URL, ClientID: "x", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ping(ctx(t), "tok")
	wantKind(t, err, plex.ErrOffline)
	if leaked {
		t.Error("the token followed a redirect to another host")
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, plextest.Options{}, func(c *plex.Config) { c.MaxBodyBytes = 512 })
	_, err := e.client.Account(ctx(t), e.token)
	pe := wantKind(t, err, plex.ErrBadResponse)
	if !strings.Contains(pe.Message, "larger than 512 bytes") {
		t.Errorf("error = %+v", pe)
	}
}

func TestMalformedBodies(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	for route, call := range map[string]func() error{
		"GET /api/v2/user": func() error { _, err := e.client.Account(ctx(t), e.token); return err },
		"GET /api/users":   func() error { _, err := e.client.Users(ctx(t), e.token); return err },
		"GET /status/sessions": func() error {
			_, err := e.client.Server(e.fake.ServerURL(machineID), e.token).Sessions(ctx(t))
			return err
		},
	} {
		e.fake.ClearFaults()
		e.fake.Inject(plextest.Fault{Route: route, Status: 200, Body: `{"truncated`})
		pe := wantKind(t, call(), plex.ErrBadResponse)
		if pe.Status != 200 {
			t.Errorf("%s: %+v", route, pe)
		}
	}
}
