// Package discordtest is a fake Discord for tests: the OAuth2 authorization and token endpoints
// and the two API routes the invite flow reads (GET /api/v10/users/@me and
// GET /api/v10/users/@me/guilds). It is strict where Discord is: codes are single use and expire,
// the redirect URI of the token request must equal the authorization's, the client must
// authenticate, a PKCE verifier must match its S256 challenge, and the guilds route needs the
// guilds scope.
//
// It also plays the bot side used for direct messages (see bot.go): GET /api/v10/users/@me with
// "Authorization: Bot <token>", POST /api/v10/users/@me/channels and
// POST /api/v10/channels/{channel.id}/messages, with Discord's error codes.
//
// The authorization page is not interactive: the account chosen with SignIn approves at once (302
// back to the redirect URI with a code), and Deny makes the next authorizations answer
// error=access_denied, as when a person clicks Cancel.
package discordtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default credentials of the fake application.
const (
	DefaultClientID     = "123456789012345678"
	DefaultClientSecret = "discord-test-secret"
)

// Route names used by Calls, CallCount and Fail.
const (
	RouteAuthorize = "GET /oauth2/authorize"
	RouteToken     = "POST /api/oauth2/token"
	RouteMe        = "GET /api/v10/users/@me"
	RouteGuilds    = "GET /api/v10/users/@me/guilds"
	// RouteOpenDM opens (or returns) the DM channel with a user; bot token only.
	RouteOpenDM = "POST /api/v10/users/@me/channels"
	// RouteCreateMessage posts a message in a channel; every channel id is recorded under this
	// one route name (Call.Path has the real path).
	RouteCreateMessage = "POST /api/v10/channels/{channel.id}/messages"
)

// codeTTL is how long an authorization code lives (Discord: 10 minutes).
const codeTTL = 10 * time.Minute

// Options configure the fake.
type Options struct {
	// ClientID and ClientSecret are the application's credentials (defaults above).
	ClientID     string
	ClientSecret string
	// RequirePKCE refuses authorizations without an S256 code challenge.
	RequirePKCE bool
	// BotToken is the token bot requests must carry as "Authorization: Bot <token>" (default
	// DefaultBotToken).
	BotToken string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// User is an account of the fake.
type User struct {
	ID         string
	Username   string
	GlobalName string
	// Guilds are the ids of the guilds the account belongs to.
	Guilds []string
	// DMsClosed makes the bot's messages to the account fail with 403 code 50007, as when a
	// person turns off direct messages from server members or shares no server with the bot.
	DMsClosed bool
}

// Call is one request the fake answered.
type Call struct {
	Route  string
	Status int
	// Query is the request's query string (authorization requests carry no secret).
	Query url.Values
	// Path is the request's path (Route names a pattern for the message route).
	Path string
	// UserAgent is the request's User-Agent header.
	UserAgent string
}

// Fault makes a route answer Status (with a JSON error body) Count times (0: until ClearFaults).
// A 429 is answered as Discord does: a body with retry_after (seconds) and global, and the
// Retry-After and X-RateLimit-* headers.
type Fault struct {
	Route  string
	Status int
	Count  int
	// Code and Message fill the JSON error body (defaults: 0 and "injected fault").
	Code    int
	Message string
	// RetryAfter is the wait a 429 asks for (default DefaultRetryAfter).
	RetryAfter time.Duration
	// Global marks a 429 as the global rate limit (X-RateLimit-Global, scope "global").
	Global bool
}

// Server is the fake Discord. Its methods are safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	base     string
	users    map[string]User
	signedIn string
	deny     bool
	codes    map[string]grant
	tokens   map[string]grant
	calls    []Call
	faults   []Fault
	bot      botState
}

// grant is an issued code or token.
type grant struct {
	userID      string
	redirectURI string
	challenge   string
	scopes      []string
	expires     time.Time
}

// New returns a fake without a listener (serve it with ServeHTTP; set SetBaseURL).
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.BotToken == "" {
		opts.BotToken = DefaultBotToken
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, users: map[string]User{}, codes: map[string]grant{}, tokens: map[string]grant{}, bot: newBotState()}
}

// NewServer starts the fake on 127.0.0.1; it is closed when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.SetBaseURL(ts.URL)
	return s
}

// SetBaseURL sets where the fake is reachable.
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = strings.TrimRight(u, "/")
}

// URL returns the fake's base URL.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// AuthURL is the authorization endpoint to configure a client with.
func (s *Server) AuthURL() string { return s.URL() + "/oauth2/authorize" }

// TokenURL is the token endpoint to configure a client with.
func (s *Server) TokenURL() string { return s.URL() + "/api/oauth2/token" }

// APIURL is the API base URL to configure a client with.
func (s *Server) APIURL() string { return s.URL() + "/api/v10" }

// ClientID returns the application's client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the application's client secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// AddUser adds (or replaces) an account; an empty ID gets a random snowflake. The first account
// added is signed in.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = snowflake()
	}
	if u.Username == "" {
		u.Username = "user" + u.ID[len(u.ID)-4:]
	}
	u.Guilds = slices.Clone(u.Guilds)
	s.users[u.ID] = u
	if s.signedIn == "" {
		s.signedIn = u.ID
	}
	return u
}

// SignIn makes account id approve the next authorizations (and clears Deny).
func (s *Server) SignIn(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signedIn, s.deny = id, false
}

// Deny makes the next authorizations answer error=access_denied.
func (s *Server) Deny() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = true
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Calls returns the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCount counts the requests answered on route.
func (s *Server) CallCount(route string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Route == route {
			n++
		}
	}
	return n
}

// ServeHTTP answers the fake's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, channelID := routeOf(r)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.calls = append(s.calls, Call{Route: route, Status: rec.status, Query: r.URL.Query(), Path: r.URL.Path, UserAgent: r.UserAgent()})
		s.mu.Unlock()
	}()
	if f, ok := s.takeFault(route); ok {
		s.writeFault(rec, f)
		return
	}
	switch route {
	case RouteAuthorize, "GET /api/oauth2/authorize":
		s.authorize(rec, r)
	case RouteToken:
		s.token(rec, r)
	case RouteMe:
		if isBotAuth(r) {
			s.botMe(rec, r)
			return
		}
		s.me(rec, r)
	case RouteGuilds:
		s.guilds(rec, r)
	case RouteOpenDM:
		s.openDM(rec, r)
	case RouteCreateMessage:
		s.createMessage(rec, r, channelID)
	default:
		writeJSON(rec, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
	}
}

// takeFault returns the first fault for route, counting it down.
func (s *Server) takeFault(route string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Route != route && f.Route != "" {
			continue
		}
		if f.Count > 0 {
			s.faults[i].Count--
			if s.faults[i].Count == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// authorize approves (or denies) at once and redirects back with a code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != s.opts.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		redirect.RawQuery = params.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
	}
	scopes := strings.Fields(q.Get("scope"))
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case !slices.Contains(scopes, "identify"):
		back(url.Values{"error": {"invalid_scope"}})
		return
	case challenge != "" && method != "S256", challenge == "" && s.opts.RequirePKCE:
		back(url.Values{"error": {"invalid_request"}})
		return
	}
	s.mu.Lock()
	user, ok := s.users[s.signedIn]
	deny := s.deny
	s.mu.Unlock()
	if deny || !ok {
		back(url.Values{"error": {"access_denied"}, "error_description": {"The resource owner or authorization server denied the request"}})
		return
	}
	code := randomToken()
	s.mu.Lock()
	s.codes[code] = grant{userID: user.ID, redirectURI: q.Get("redirect_uri"), challenge: challenge, scopes: scopes, expires: s.opts.Now().Add(codeTTL)}
	s.mu.Unlock()
	back(url.Values{"code": {code}})
}

// token exchanges a code.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.mu.Lock()
	code := r.PostForm.Get("code")
	g, found := s.codes[code]
	delete(s.codes, code) // single use, even when the request is refused below
	s.mu.Unlock()
	invalid := func() { writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"}) }
	if !found || !s.opts.Now().Before(g.expires) || r.PostForm.Get("redirect_uri") != g.redirectURI {
		invalid()
		return
	}
	if g.challenge != "" {
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			invalid()
			return
		}
	}
	tok := randomToken()
	g.expires = s.opts.Now().Add(7 * 24 * time.Hour)
	s.mu.Lock()
	s.tokens[tok] = g
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": 604800,
		"refresh_token": randomToken(), "scope": strings.Join(g.scopes, " "),
	})
}

// bearer returns the grant of the request's bearer token.
func (s *Server) bearer(r *http.Request) (grant, User, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return grant{}, User{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[tok]
	if !ok || !s.opts.Now().Before(g.expires) {
		return grant{}, User{}, false
	}
	u, ok := s.users[g.userID]
	return g, u, ok
}

// me answers GET /users/@me.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.bearer(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
		return
	}
	var global any
	if u.GlobalName != "" {
		global = u.GlobalName
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": u.ID, "username": u.Username, "global_name": global, "discriminator": "0", "avatar": nil,
	})
}

// guilds answers GET /users/@me/guilds with limit/after paging (ids ascending).
func (s *Server) guilds(w http.ResponseWriter, r *http.Request) {
	g, u, ok := s.bearer(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
		return
	}
	if !slices.Contains(g.scopes, "guilds") {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Missing Access", "code": 50001})
		return
	}
	limit := 200
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035})
			return
		}
		limit = n
	}
	ids := slices.Clone(u.Guilds)
	slices.SortFunc(ids, compareSnowflakes)
	after := r.URL.Query().Get("after")
	out := []map[string]any{}
	for _, id := range ids {
		if after != "" && compareSnowflakes(id, after) <= 0 {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, map[string]any{"id": id, "name": "Guild " + id, "icon": nil, "owner": false, "permissions": "0", "features": []string{}})
	}
	writeJSON(w, http.StatusOK, out)
}

// compareSnowflakes orders ids numerically (shorter first, then lexically).
func compareSnowflakes(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken returns 32 random hex digits.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// snowflake returns a random 18-digit id.
func snowflake() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return strconv.FormatUint(100000000000000000+n%800000000000000000, 10)
}
