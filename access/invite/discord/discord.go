// Package discord is a small Discord OAuth2 sign-in for invite pages, written on
// golang.org/x/oauth2 rather than goth's Discord provider, whose token exchange ignores the HTTP
// client (no timeout, no way to reach a test server), whose endpoints are constants and which has
// no PKCE.
//
// The flow: AuthCodeURL(state, verifier) sends the browser to Discord; the callback hands the code
// to Identify, which exchanges it (with the PKCE verifier and the client secret), reads the
// account (GET /users/@me) and, when a guild is required, the account's guilds
// (GET /users/@me/guilds). Accounts are keyed on Discord's user id: the email is optional and
// possibly unverified, so it is not requested.
//
// Tokens never leave this package: Identify returns the identity only, and error messages carry
// no token, code or secret.
package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Discord's endpoints (https://discord.com/.well-known/oauth-authorization-server).
const (
	DefaultAuthURL  = "https://discord.com/oauth2/authorize"
	DefaultTokenURL = "https://discord.com/api/oauth2/token"
	DefaultAPIURL   = "https://discord.com/api/v10"
	// DefaultTimeout bounds each HTTP request to Discord.
	DefaultTimeout = 10 * time.Second
)

// Scopes requested: the account, and its guilds when a guild is checked.
const (
	ScopeIdentify = "identify"
	ScopeGuilds   = "guilds"
)

// maxBody caps a Discord API response body.
const maxBody = 1 << 20

// guildPageSize is the most guilds /users/@me/guilds returns per page; maxGuildPages bounds the
// paging (Discord caps membership at 200 guilds).
const (
	guildPageSize = 200
	maxGuildPages = 5
)

// Config configures a Provider. ClientID and ClientSecret are required; the endpoint URLs default
// to Discord's own (tests point them at discordtest).
type Config struct {
	// ClientID and ClientSecret are the Discord application's OAuth2 credentials.
	ClientID     string
	ClientSecret string
	// RedirectURL is the default absolute callback URL registered with the Discord application;
	// AuthCodeURL and Identify may name another per call (the invite handler derives it from the
	// public URL and its base path, which can change while the provider lives).
	RedirectURL string
	// AuthURL, TokenURL and APIURL override Discord's endpoints.
	AuthURL  string
	TokenURL string
	APIURL   string
	// HTTPClient sends the requests (default: a client with Timeout).
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil (default DefaultTimeout).
	Timeout time.Duration
}

// Provider signs people in with Discord. It is safe for concurrent use.
type Provider struct {
	oauth  oauth2.Config
	api    string
	client *http.Client
}

// New validates cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if strings.TrimSpace(cfg.ClientID) == "" || strings.TrimSpace(cfg.ClientSecret) == "" {
		return nil, errors.New("discord: client id and client secret are required")
	}
	if cfg.RedirectURL != "" {
		if err := checkURL(cfg.RedirectURL); err != nil {
			return nil, fmt.Errorf("discord: redirect URL: %w", err)
		}
	}
	auth, token, api := or(cfg.AuthURL, DefaultAuthURL), or(cfg.TokenURL, DefaultTokenURL), or(cfg.APIURL, DefaultAPIURL)
	for name, u := range map[string]string{"auth URL": auth, "token URL": token, "API URL": api} {
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf("discord: %s: %w", name, err)
		}
	}
	client := cfg.HTTPClient
	if client == nil {
		timeout := cfg.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		client = &http.Client{Timeout: timeout}
	}
	return &Provider{
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: oauth2.Endpoint{AuthURL: auth, TokenURL: token, AuthStyle: oauth2.AuthStyleInHeader},
		},
		api:    strings.TrimRight(api, "/"),
		client: client,
	}, nil
}

// or returns v, or def when v is empty.
func or(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// checkURL accepts an absolute http(s) URL.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http or https URL")
	}
	return nil
}

// NewVerifier returns a fresh PKCE code verifier (keep it server-side with the state).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL returns the Discord authorization URL for state and the PKCE verifier, sending the
// browser back to redirectURL ("" for the configured one). With guilds the guilds scope is
// requested too, so Identify can check a guild membership.
func (p *Provider) AuthCodeURL(state, verifier, redirectURL string, guilds bool) string {
	cfg := p.config(redirectURL)
	cfg.Scopes = []string{ScopeIdentify}
	if guilds {
		cfg.Scopes = append(cfg.Scopes, ScopeGuilds)
	}
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// config is the OAuth configuration with redirectURL ("" keeps the configured one).
func (p *Provider) config(redirectURL string) oauth2.Config {
	cfg := p.oauth
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	return cfg
}

// User is a Discord account.
type User struct {
	// ID is Discord's user id (a snowflake), the stable key of the account.
	ID string `json:"id"`
	// Username is the account's unique username.
	Username string `json:"username"`
	// GlobalName is the display name, if set.
	GlobalName string `json:"global_name"`
}

// Name returns the display name, or the username.
func (u User) Name() string {
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// Guild is one guild (Discord server) of an account.
type Guild struct {
	// ID is the guild's snowflake.
	ID string `json:"id"`
	// Name is the guild's name.
	Name string `json:"name"`
}

// Error kinds, for errors.Is.
var (
	// ErrExchange means Discord refused the authorization code (expired, used, wrong verifier).
	ErrExchange = errors.New("discord: the sign-in could not be completed")
	// ErrUnavailable means Discord could not be reached or answered with a server error.
	ErrUnavailable = errors.New("discord: unavailable")
	// ErrRateLimited means Discord answered 429.
	ErrRateLimited = errors.New("discord: rate limited")
	// ErrBadResponse means Discord answered with something unreadable or unexpected.
	ErrBadResponse = errors.New("discord: unexpected response")
)

// Identity is what Identify learned about the signed-in account.
type Identity struct {
	// User is the signed-in account.
	User User
	// Guilds are the account's guild ids, read only when Identify was asked to check one.
	Guilds []string
}

// InGuild reports whether the identity lists guild id.
func (id Identity) InGuild(guild string) bool {
	for _, g := range id.Guilds {
		if g == guild {
			return true
		}
	}
	return false
}

// Identify exchanges the authorization code (with the PKCE verifier and the redirectURL the
// authorization used, "" for the configured one), reads the account and, with guilds, the
// account's guild ids. The access token is used for these calls only and dropped.
func (p *Provider) Identify(ctx context.Context, code, verifier, redirectURL string, guilds bool) (Identity, error) {
	if code == "" {
		return Identity{}, fmt.Errorf("%w: no authorization code", ErrExchange)
	}
	if redirectURL != "" {
		if err := checkURL(redirectURL); err != nil {
			return Identity{}, fmt.Errorf("%w: redirect URL: %v", ErrExchange, err)
		}
	}
	cfg := p.config(redirectURL)
	tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, p.client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, exchangeError(err)
	}
	if err := checkToken(tok); err != nil {
		return Identity{}, fmt.Errorf("reading the Discord token: %w", err)
	}
	var id Identity
	body, err := p.get(ctx, tok, "/users/@me")
	if err == nil {
		id.User, err = parseUser(body)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("reading the Discord account: %w", err)
	}
	if guilds {
		if id.Guilds, err = p.guilds(ctx, tok); err != nil {
			return Identity{}, fmt.Errorf("reading the Discord account's servers: %w", err)
		}
	}
	return id, nil
}

// exchangeError classifies a token-exchange failure without echoing the response body.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		switch s := re.Response.StatusCode; {
		case s == http.StatusTooManyRequests:
			return ErrRateLimited
		case s >= 500:
			return fmt.Errorf("%w (HTTP %d)", ErrUnavailable, s)
		default:
			code := re.ErrorCode
			if !isToken(code) {
				code = ""
			}
			return fmt.Errorf("%w (HTTP %d %s)", ErrExchange, s, code)
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnavailable, scrub(err))
	}
	// A 2xx answer that could not be read, or that holds no access token.
	return fmt.Errorf("%w: %v", ErrBadResponse, err)
}

// isToken reports whether s is a short OAuth error code safe to show.
func isToken(s string) bool {
	if len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z')) {
			return false
		}
	}
	return true
}

// scrub drops the URL from a transport error (it names the token endpoint only, but the rule is
// that errors carry no URLs).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// guilds pages through /users/@me/guilds and returns each guild id once. Paging stops at a short
// page, or when the cursor would not move forward (an answer that repeats itself).
func (p *Provider) guilds(ctx context.Context, tok *oauth2.Token) ([]string, error) {
	var ids []string
	seen := make(map[string]bool)
	after := ""
	for range maxGuildPages {
		q := url.Values{"limit": {strconv.Itoa(guildPageSize)}}
		if after != "" {
			q.Set("after", after)
		}
		body, err := p.get(ctx, tok, "/users/@me/guilds?"+q.Encode())
		if err != nil {
			return nil, err
		}
		page, err := parseGuildPage(body)
		if err != nil {
			return nil, err
		}
		next := after
		for _, g := range page {
			if !seen[g.ID] {
				seen[g.ID] = true
				ids = append(ids, g.ID)
			}
			if next == "" || compareSnowflakes(g.ID, next) > 0 {
				next = g.ID
			}
		}
		if len(page) < guildPageSize || next == after {
			return ids, nil
		}
		after = next
	}
	return ids, nil
}

// get reads one API document with the bearer token and returns its body.
func (p *Provider) get(ctx context.Context, tok *oauth2.Token, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.api+path, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: building the request: %v", ErrBadResponse, err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, scrub(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the response: %v", ErrUnavailable, scrub(err))
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, ErrRateLimited
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w (HTTP %d)", ErrUnavailable, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w (HTTP %d)", ErrBadResponse, resp.StatusCode)
	case len(body) > maxBody:
		return nil, fmt.Errorf("%w: response over %d bytes", ErrBadResponse, maxBody)
	}
	return body, nil
}
