package discordbot

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	// DefaultAPIURL is Discord's API base URL, version 10.
	DefaultAPIURL = "https://discord.com/api/v10"
	// DefaultTimeout bounds each HTTP request when Config.HTTPClient is nil.
	DefaultTimeout = 10 * time.Second
	// DefaultRetries is how many times a request is repeated after a 429, a 5xx or no answer.
	DefaultRetries = 3
	// DefaultMaxRetryWait is the longest single wait before a retry; a 429 asking for more is
	// not waited out.
	DefaultMaxRetryWait = 30 * time.Second
	// DefaultBaseBackoff is the first wait after a 5xx or no answer; it doubles per retry.
	DefaultBaseBackoff = time.Second
	// DefaultCacheSize is how many users' DM channel ids are cached.
	DefaultCacheSize = 1024
	// DefaultVersion is the version the User-Agent names.
	DefaultVersion = "1"
)

// ProjectURL is the URL the User-Agent names, as Discord asks: "DiscordBot ($url, $version)".
const ProjectURL = "https://github.com/plex-manager/caddy-plex-manager"

// maxTokenLength bounds a bot token (Discord's are about 70 characters).
const maxTokenLength = 256

// Config configures a Client. Token is required; the rest has defaults.
type Config struct {
	// Token is the bot token from Discord's developer portal (Bot → Token). A leading "Bot "
	// is accepted and dropped.
	Token string
	// APIURL overrides Discord's API base URL (tests point it at the discordtest fake).
	APIURL string
	// HTTPClient sends the requests (default: a client with Timeout).
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil (default DefaultTimeout).
	Timeout time.Duration
	// Retries is how many times a request is repeated after a 429, a 5xx or no answer (default
	// DefaultRetries; negative: never).
	Retries int
	// MaxRetryWait is the longest single wait before a retry (default DefaultMaxRetryWait). A
	// 429 asking for a longer wait fails at once with ErrRateLimited.
	MaxRetryWait time.Duration
	// BaseBackoff is the first wait after a 5xx or no answer, doubled per retry with ±20 %
	// jitter (default DefaultBaseBackoff).
	BaseBackoff time.Duration
	// CacheSize is how many users' DM channel ids are kept (default DefaultCacheSize; the least
	// recently used are dropped first).
	CacheSize int
	// Version is the version the User-Agent names (default DefaultVersion).
	Version string
}

// String describes the configuration without the token.
func (c Config) String() string {
	return fmt.Sprintf("discordbot.Config{APIURL: %q, Token: %s}", c.APIURL, redacted(c.Token))
}

// GoString describes the configuration without the token (for %#v).
func (c Config) GoString() string { return c.String() }

// redacted shows whether a secret is set, never the secret.
func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[REDACTED]"
}

// Client is a Discord bot's REST client. It is safe for concurrent use.
type Client struct {
	api string
	// cred is behind a pointer so that even a printed copy of the struct shows an address.
	cred        *credentials
	userAgent   string
	hc          *http.Client
	retries     int
	maxWait     time.Duration
	baseBackoff time.Duration
	channels    *channelCache
	// tokenRejected is set by a 401: Discord will not accept the token again, and repeated
	// invalid requests get the client's address banned.
	tokenRejected atomic.Bool
}

// credentials hold the token.
type credentials struct {
	auth  string // "Bot <token>"
	token string // to scrub it from texts that come back
}

// New validates cfg and returns a Client. Errors never contain the token.
func New(cfg Config) (*Client, error) {
	token, err := cleanToken(cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord bot token: %w", err)
	}
	api := strings.TrimRight(strings.TrimSpace(cfg.APIURL), "/")
	if api == "" {
		api = DefaultAPIURL
	}
	if err := checkAPIURL(api); err != nil {
		return nil, fmt.Errorf("discord API URL: %w", err)
	}
	version := strings.TrimSpace(cfg.Version)
	if version == "" {
		version = DefaultVersion
	}
	if strings.ContainsAny(version, "(),") || !printableASCII(version) || len(version) > 64 {
		return nil, errors.New("discord bot version: must be printable ASCII without parentheses or commas")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		timeout := cfg.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		hc = &http.Client{Timeout: timeout}
	}
	retries := cfg.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	size := cfg.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Client{
		api:         api,
		cred:        &credentials{auth: "Bot " + token, token: token},
		userAgent:   "DiscordBot (" + ProjectURL + ", " + version + ")",
		hc:          hc,
		retries:     retries,
		maxWait:     positiveOr(cfg.MaxRetryWait, DefaultMaxRetryWait),
		baseBackoff: positiveOr(cfg.BaseBackoff, DefaultBaseBackoff),
		channels:    newChannelCache(size),
	}, nil
}

// String describes the client without the token.
func (c *Client) String() string { return fmt.Sprintf("discordbot.Client{API: %q}", c.api) }

// GoString describes the client without the token (for %#v).
func (c *Client) GoString() string { return c.String() }

// cleanToken trims a token, drops a "Bot " prefix and checks what is left.
func cleanToken(raw string) (string, error) {
	tok := strings.TrimSpace(raw)
	if len(tok) >= 3 && strings.EqualFold(tok[:3], "bot") && (len(tok) == 3 || tok[3] == ' ' || tok[3] == '\t') {
		tok = strings.TrimSpace(tok[3:])
	}
	switch {
	case tok == "":
		return "", errors.New("is required")
	case len(tok) > maxTokenLength:
		return "", fmt.Errorf("is longer than %d characters", maxTokenLength)
	case !printableASCII(tok) || strings.Contains(tok, " "):
		return "", errors.New("must be printable ASCII without spaces (paste the token only)")
	}
	return tok, nil
}

// printableASCII reports whether s has only the characters from '!' to '~' and spaces.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// checkAPIURL accepts an absolute http(s) URL with a host and no query or fragment.
func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not carry user info, a query or a fragment")
	}
	return nil
}

// positiveOr returns d, or def when d is not positive.
func positiveOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
