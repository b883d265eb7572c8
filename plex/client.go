// Package plex is a client for plex.tv and for Plex Media Servers, plus a
// goth provider for the Plex PIN sign-in.
//
// The client covers what a user manager needs: PIN sign-in, the account and
// its servers, the section map between a server's library keys and plex.tv's
// global section ids, friends, shares, pending invitations and Plex Home on
// plex.tv, and libraries, sessions, item metadata, history, accounts and
// artwork on a Plex Media Server. docs/plex-api.md describes every route it
// uses but /library/metadata/{ratingKey} (see Server.Metadata).
//
// Rules the client keeps on every call:
//
//   - the token travels only in the X-Plex-Token header, never in a URL, an
//     error message or an observation;
//   - the X-Plex-Client-Identifier (which the caller persists), product,
//     version, platform and device name headers are always sent;
//   - each attempt has a timeout; 429 is retried on every method, server
//     errors, timeouts and connection errors only on idempotent calls;
//   - every failure is an *Error whose Kind (ErrUnauthorized, ErrNotFound,
//     ...) can be tested with errors.Is;
//   - response bodies are read up to a size limit and decoded leniently
//     (booleans as 1/0/true/false, numbers possibly quoted).
//
// A Client holds no mutable state and is safe for concurrent use.
package plex

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Default values used when a Config field is left empty.
const (
	DefaultTVURL       = "https://plex.tv"
	DefaultAuthURL     = "https://app.plex.tv/auth"
	DefaultProduct     = "Caddy Plex Manager"
	DefaultVersion     = "1.0"
	DefaultTimeout     = 15 * time.Second
	DefaultRetries     = 3
	DefaultBaseBackoff = 250 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	// DefaultMaxBodyBytes caps how much of a response body is read.
	DefaultMaxBodyBytes = 32 << 20
)

// Config configures a Client. Only ClientID is required.
type Config struct {
	// TVURL is the base URL of plex.tv (default https://plex.tv). Tests
	// point it at plextest.
	TVURL string
	// AuthURL is the base URL of Plex's auth app (default
	// https://app.plex.tv/auth).
	AuthURL string
	// ClientID is the X-Plex-Client-Identifier. It must be stable: generate
	// it once and persist it, or every start registers a new device on the
	// account and PINs created before a restart cannot be checked.
	ClientID string
	// Product is the application name shown in the account's authorised
	// devices (default "Caddy Plex Manager").
	Product string
	// Version is the application version (default "1.0").
	Version string
	// Platform is the platform name (default: the operating system).
	Platform string
	// DeviceName is the device name (default: Product).
	DeviceName string
	// HTTPClient sends the requests (default: a new client). The client is
	// copied; unless it sets CheckRedirect itself, redirects to another host
	// are refused so that the token header cannot follow them.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt (default 15s). The caller's context
	// bounds the call as a whole, retries included.
	Timeout time.Duration
	// Retries is how many times a failed attempt may be repeated (default 3;
	// a negative value disables retries).
	Retries int
	// BaseBackoff is the first retry delay (default 250ms); it doubles per
	// retry, with jitter, up to MaxBackoff (default 5s).
	BaseBackoff time.Duration
	// MaxBackoff caps the retry delay, including a server's Retry-After.
	MaxBackoff time.Duration
	// MaxBodyBytes caps how much of a response body is read (default 32 MiB).
	MaxBodyBytes int64
	// Observe, when set, is called once per HTTP attempt (metrics: count
	// and latency per endpoint). It must be safe for concurrent use and
	// should return quickly.
	Observe func(CallInfo)
}

// CallInfo describes one HTTP attempt for the Observe hook.
type CallInfo struct {
	// Endpoint is the route template, such as "GET /api/v2/user" or
	// "GET {pms}/status/sessions"; it never contains ids or tokens.
	Endpoint string
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Duration is how long the attempt took.
	Duration time.Duration
	// Err is the attempt's failure, or nil.
	Err error
	// Attempt counts from 1.
	Attempt int
}

// Client talks to plex.tv and to Plex Media Servers. Create it with New.
type Client struct {
	cfg     Config
	tv      *url.URL
	auth    string
	http    *http.Client
	headers http.Header
}

// New validates cfg, fills in defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.TVURL == "" {
		cfg.TVURL = DefaultTVURL
	}
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	tv, err := parseBaseURL(cfg.TVURL)
	if err != nil {
		return nil, fmt.Errorf("plex: TVURL: %w", err)
	}
	auth, err := parseBaseURL(cfg.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("plex: AuthURL: %w", err)
	}
	cfg.ClientID = strings.TrimSpace(cfg.ClientID)
	if cfg.ClientID == "" {
		return nil, errors.New("plex: ClientID is required (generate it once and persist it)")
	}
	if cfg.Product == "" {
		cfg.Product = DefaultProduct
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.Platform == "" {
		cfg.Platform = platformName()
	}
	if cfg.DeviceName == "" {
		cfg.DeviceName = cfg.Product
	}
	for name, v := range map[string]string{
		"ClientID": cfg.ClientID, "Product": cfg.Product, "Version": cfg.Version,
		"Platform": cfg.Platform, "DeviceName": cfg.DeviceName,
	} {
		if err := checkHeaderValue(v); err != nil {
			return nil, fmt.Errorf("plex: %s: %w", name, err)
		}
	}
	switch {
	case cfg.Timeout < 0:
		return nil, errors.New("plex: Timeout must not be negative")
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.Retries < 0:
		cfg.Retries = 0
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries > 20:
		return nil, errors.New("plex: Retries must be at most 20")
	}
	if cfg.BaseBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, errors.New("plex: backoff durations must not be negative")
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.BaseBackoff {
		return nil, errors.New("plex: MaxBackoff must not be below BaseBackoff")
	}
	switch {
	case cfg.MaxBodyBytes < 0:
		return nil, errors.New("plex: MaxBodyBytes must not be negative")
	case cfg.MaxBodyBytes == 0:
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}

	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = sameHostRedirects
	}

	h := http.Header{}
	h.Set("X-Plex-Client-Identifier", cfg.ClientID)
	h.Set("X-Plex-Product", cfg.Product)
	h.Set("X-Plex-Version", cfg.Version)
	h.Set("X-Plex-Platform", cfg.Platform)
	h.Set("X-Plex-Device-Name", cfg.DeviceName)

	return &Client{
		cfg:     cfg,
		tv:      tv,
		auth:    strings.TrimRight(auth.String(), "/"),
		http:    hc,
		headers: h,
	}, nil
}

// ClientID returns the X-Plex-Client-Identifier the client sends.
func (c *Client) ClientID() string { return c.cfg.ClientID }

// Product returns the product name the client sends.
func (c *Client) Product() string { return c.cfg.Product }

// parseBaseURL checks that raw is an absolute http(s) URL without query or
// fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("must be an http or https URL")
	}
	if u.Host == "" {
		return nil, errors.New("must include a host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("must not contain a query, fragment or credentials")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// checkHeaderValue refuses values that cannot be sent in a header.
func checkHeaderValue(v string) error {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return errors.New("contains a control character")
		}
	}
	if len(v) > 256 {
		return errors.New("is longer than 256 bytes")
	}
	return nil
}

// platformName is the default X-Plex-Platform: the operating system with a
// capital first letter, as Plex clients send it ("Linux", "Windows").
func platformName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	case "linux":
		return "Linux"
	default:
		return runtime.GOOS
	}
}

// sameHostRedirects follows redirects only within the same scheme and host,
// because the X-Plex-Token header would otherwise be sent to another host.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	first := via[0].URL
	if req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return errors.New("refusing a redirect to another host")
	}
	return nil
}
