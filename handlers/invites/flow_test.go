package invites

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/access/invite/discord"
	"github.com/plex-manager/caddy-plex-manager/access/invite/discordtest"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

const daveID int64 = plextest.MinimalDaveID

// flowEnv is the invite handler on the real flow, access service, plex client and plextest.
type flowEnv struct {
	*env
	fake    *plextest.Fake
	discord *discordtest.Server
	srv     *webtest.Server
}

func newFlowEnv(t *testing.T) *flowEnv {
	t.Helper()
	st := storetest.Memory(t)
	return newFlowEnvOn(t, st, true)
}

// newFlowEnvOn is newFlowEnv on st; seed stores the fake's servers (st may already hold them).
func newFlowEnvOn(t *testing.T, st *storage.Store, seed bool) *flowEnv {
	t.Helper()
	fe := &flowEnv{env: &env{clock: testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))}}
	fe.fake = plextest.NewServer(t, plextest.Options{Now: fe.clock.Now, PINPollInterval: time.Millisecond})
	fe.store = st
	servers := fe.fake.Servers()
	if !seed {
		servers = nil
	}
	for _, fs := range servers {
		srv := storage.Server{ID: fs.MachineID, Name: fs.Name, URL: fs.URL, Online: true}
		for _, l := range fs.Libraries {
			srv.Libraries = append(srv.Libraries, storage.Library{Key: l.Key, SectionID: l.SectionID, Title: l.Title, Type: l.Type})
		}
		if err := st.PutServer(srv); err != nil {
			t.Fatal(err)
		}
	}
	client, err := plex.New(plex.Config{TVURL: fe.fake.URL(), AuthURL: fe.fake.AuthURL(), ClientID: "handler-test", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	token := fe.fake.OwnerToken()
	acc, err := access.New(access.Options{Store: st, Plex: access.NewPlexGateway(client, func() string { return token }), Now: fe.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	fe.discord = discordtest.NewServer(t, discordtest.Options{RequirePKCE: true})
	dp, err := discord.New(discord.Config{ClientID: fe.discord.ClientID(), ClientSecret: fe.discord.ClientSecret(),
		AuthURL:  fe.discord.AuthURL(),
		TokenURL: fe.discord.TokenURL(), APIURL: fe.discord.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	fe.svc, err = invite.New(invite.Options{Store: st, Access: acc, Now: fe.clock.Now, LinkBase: func() string { return linkBase },
		DiscordEnabled: func() bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	flow, err := invite.NewFlow(invite.FlowOptions{Service: fe.svc, Plex: client, Discord: dp})
	if err != nil {
		t.Fatal(err)
	}
	fe.feat, err = New(Options{Service: fe.svc, Flow: flow, Now: fe.clock.Now, RateBurst: -1, UnusableDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	fe.srv = fe.public(t)
	return fe
}

// browser sends requests with the cookies it was given, like a browser on the invite site.
type browser struct {
	t       *testing.T
	fe      *flowEnv
	cookies map[string]string
}

func (b *browser) do(method, target string, body io.Reader) *httptest.ResponseRecorder {
	b.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.fe.srv.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	b.fe.clock.Add(2 * time.Second) // the fake paces PIN polls on its clock
	return rec
}

// join posts the join form and returns the PIN code and the forward URL (path and query).
func (b *browser) join(code string) (pin, forward string) {
	b.t.Helper()
	rec := b.do("POST", "/j/"+code+"/join", strings.NewReader(""))
	if rec.Code != http.StatusSeeOther {
		b.t.Fatalf("join: %d %s", rec.Code, rec.Body.String())
	}
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, b.fe.fake.AuthURL()+"#?") {
		b.t.Fatalf("join redirects to %q, not the auth app", loc)
	}
	_, frag, _ := strings.Cut(loc, "#?")
	q, _ := url.ParseQuery(frag)
	if q.Get("clientID") != "handler-test" || q.Get("code") == "" {
		b.t.Fatalf("auth URL fragment %v", q)
	}
	fwd, err := url.Parse(q.Get("forwardUrl"))
	if err != nil || fwd.Scheme+"://"+fwd.Host+fwd.Path != linkBase+"/"+code+"/callback" || fwd.Query().Get("state") == "" {
		b.t.Fatalf("forward URL %q", q.Get("forwardUrl"))
	}
	if b.cookies[flowCookie] != fwd.Query().Get("state") {
		b.t.Fatalf("flow cookie %q does not match the state %q", b.cookies[flowCookie], fwd.Query().Get("state"))
	}
	return q.Get("code"), fwd.RequestURI()
}

func TestPublicFlowWithoutJavaScript(t *testing.T) {
	fe := newFlowEnv(t)
	inv := fe.create(t, invite.Spec{Enabled: true, Onboarding: "## Next steps\n\nInstall **Plex** <script>alert(1)</script>",
		Libraries: map[string][]string{plextest.MinimalMachineID: {"4"}}})
	b := &browser{t: t, fe: fe, cookies: map[string]string{}}
	pin, fwd := b.join(inv.Code)

	// Back before signing in: the waiting page refreshes itself.
	rec := b.do("GET", fwd, nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Refresh"), "3; url=") || !strings.Contains(rec.Body.String(), `http-equiv="refresh"`) {
		t.Fatalf("waiting page: %d %q", rec.Code, rec.Header().Get("Refresh"))
	}
	// Another browser (no cookie) cannot use the forward URL.
	other := &browser{t: t, fe: fe, cookies: map[string]string{}}
	if rec := other.do("GET", fwd, nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("forward URL in another browser: %d", rec.Code)
	}
	if err := fe.fake.ClaimPIN(pin, daveID); err != nil {
		t.Fatal(err)
	}
	rec = b.do("GET", fwd, nil)
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "Welcome") || !strings.Contains(body, "<h2>Next steps</h2>") ||
		!strings.Contains(body, "<strong>Plex</strong>") || strings.Contains(body, "<script>alert") {
		t.Fatalf("welcome page: %d\n%s", rec.Code, body)
	}
	if _, ok := fe.fake.ShareOf(plextest.MinimalMachineID, daveID); !ok {
		t.Fatal("no share in the fake")
	}
	// A stolen state from another browser with a forged cookie of another flow does not match.
	if rec := other.do("GET", fwd, nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("second browser after the redemption: %d", rec.Code)
	}
}

func TestPublicFlowDiscordRequired(t *testing.T) {
	fe := newFlowEnv(t)
	fe.discord.AddUser(discordtest.User{ID: "200000000000000001", Username: "dave_d"})
	inv := fe.create(t, invite.Spec{Enabled: true, Discord: storage.DiscordRequired, Libraries: map[string][]string{plextest.MinimalMachineID: {"4"}}})
	b := &browser{t: t, fe: fe, cookies: map[string]string{}}
	pin, fwd := b.join(inv.Code)
	_ = fe.fake.ClaimPIN(pin, daveID)
	rec := b.do("GET", fwd, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `action="/j/`+inv.Code+`/discord"`) || strings.Contains(rec.Body.String(), "/skip") {
		t.Fatalf("Discord page: %d %s", rec.Code, rec.Body.String())
	}
	// Skipping a required Discord is not possible.
	if rec := b.do("POST", "/j/"+inv.Code+"/skip", strings.NewReader("")); !strings.Contains(rec.Body.String(), "Sign in with Discord") {
		t.Fatalf("skip: %d", rec.Code)
	}
	rec = b.do("POST", "/j/"+inv.Code+"/discord", strings.NewReader(""))
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), fe.discord.AuthURL()) {
		t.Fatalf("to Discord: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	q := followAuthorize(t, rec.Header().Get("Location"))
	rec = b.do("GET", "/j"+DiscordCallbackPath+"?"+q.Encode(), nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Welcome") {
		t.Fatalf("back from Discord: %d %s", rec.Code, rec.Body.String())
	}
	if u, _ := fe.store.GetUser(daveID); u.DiscordID != "200000000000000001" {
		t.Fatalf("Discord not linked: %+v", u)
	}
}

func TestPublicFlowFailurePage(t *testing.T) {
	fe := newFlowEnv(t)
	inv := fe.create(t, invite.Spec{Enabled: true, Libraries: map[string][]string{plextest.MinimalMachineID: {"4"}}})
	b := &browser{t: t, fe: fe, cookies: map[string]string{}}
	pin, fwd := b.join(inv.Code)
	_ = fe.fake.ClaimPIN(pin, daveID)
	fe.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 403, Body: `{"errors":[{"code":1001,"message":"no"}]}`})
	rec := b.do("GET", fwd, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Plex refused") || !strings.Contains(rec.Body.String(), `href="/j/`+inv.Code+`"`) {
		t.Fatalf("failure page: %d %s", rec.Code, rec.Body.String())
	}
	if got, _ := fe.svc.Get(inv.ID); got.Uses != 0 {
		t.Fatalf("uses %d after a refusal", got.Uses)
	}
}

// followAuthorize follows a Discord authorization URL and returns the callback's query.
func followAuthorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	loc := discordtest.Authorize(t, authURL)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "https://join.example.com/j/discord/callback" {
		t.Fatalf("Discord redirects to %q", got)
	}
	return loc.Query()
}

func TestPublicFlowPlexOutageIsQueued(t *testing.T) {
	fe := newFlowEnv(t)
	inv := fe.create(t, invite.Spec{Enabled: true, Libraries: map[string][]string{plextest.MinimalMachineID: {"4"}}})
	b := &browser{t: t, fe: fe, cookies: map[string]string{}}
	pin, fwd := b.join(inv.Code)
	_ = fe.fake.ClaimPIN(pin, daveID)
	fe.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 503})
	rec := b.do("GET", fwd, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Your place is kept") {
		t.Fatalf("outage page: %d %s", rec.Code, rec.Body.String())
	}
	if got, _ := fe.svc.Get(inv.ID); got.Uses != 1 {
		t.Fatalf("uses %d", got.Uses)
	}
}
