package plex

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/markbates/goth"
	"golang.org/x/oauth2"
)

// ProviderName is the default name of the Plex goth provider.
const ProviderName = "plex"

// Provider is a goth.Provider for Plex's PIN sign-in. It is used without
// gothic and without goth.UseProviders: the caller keeps the instance.
//
// Flow: BeginAuth(state) creates a strong PIN and returns an AuthSession
// whose GetAuthURL is the auth app URL; its forwardUrl is the provider's
// forward URL with the state added as a query parameter. When the browser
// comes back (or while a page polls), AuthSession.Authorize checks the PIN
// and returns the account token, or an ErrPINPending error until someone
// signs in. FetchUser then reads the account.
type Provider struct {
	client     *Client
	forwardURL string
	name       string
}

// NewProvider returns a provider that signs in through client and sends the
// browser back to forwardURL (an absolute http(s) URL; BeginAuth adds the
// state to it).
func NewProvider(client *Client, forwardURL string) *Provider {
	return &Provider{client: client, forwardURL: forwardURL, name: ProviderName}
}

// Name returns the provider's name ("plex" unless SetName changed it).
func (p *Provider) Name() string { return p.name }

// SetName renames the provider.
func (p *Provider) SetName(name string) { p.name = name }

// Debug is a no-op; the provider never logs.
func (p *Provider) Debug(bool) {}

// RefreshTokenAvailable reports false: Plex tokens are not refreshed with a
// refresh token (Client.Ping extends their life).
func (p *Provider) RefreshTokenAvailable() bool { return false }

// RefreshToken is not supported.
func (p *Provider) RefreshToken(string) (*oauth2.Token, error) {
	return nil, errors.New("plex: tokens have no refresh token; use Client.Ping to keep one alive")
}

// BeginAuth creates a strong PIN and returns the session to store (server
// side: after Authorize it holds the token). state must not be empty.
func (p *Provider) BeginAuth(state string) (goth.Session, error) {
	return p.BeginAuthContext(context.Background(), state)
}

// BeginAuthContext is BeginAuth with a context.
func (p *Provider) BeginAuthContext(ctx context.Context, state string) (*AuthSession, error) {
	if p.client == nil {
		return nil, errors.New("plex: provider has no client")
	}
	if state == "" {
		return nil, invalidArg("POST /api/v2/pins", "an OAuth state is required")
	}
	fwd, err := forwardWithState(p.forwardURL, state)
	if err != nil {
		return nil, invalidArg("POST /api/v2/pins", "forward URL: %v", err)
	}
	pin, err := p.client.CreatePIN(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting Plex sign-in: %w", err)
	}
	return &AuthSession{
		PINID: pin.ID, Code: pin.Code, ClientID: pin.ClientID, State: state,
		AuthURL: p.client.AuthURL(pin, fwd), CreatedAt: pin.CreatedAt, ExpiresAt: pin.ExpiresAt,
	}, nil
}

// forwardWithState adds state as a query parameter to the forward URL.
func forwardWithState(forward, state string) (string, error) {
	u, err := url.Parse(forward)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("must be an absolute http or https URL")
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// UnmarshalSession restores a session stored with Marshal.
func (p *Provider) UnmarshalSession(data string) (goth.Session, error) {
	var s AuthSession
	if err := json.Unmarshal([]byte(data), &s); err != nil {
		return nil, fmt.Errorf("plex: reading the stored sign-in session: %w", err)
	}
	if s.PINID <= 0 || s.Code == "" {
		return nil, errors.New("plex: the stored sign-in session has no PIN")
	}
	return &s, nil
}

// FetchUser reads the signed-in account (GET /api/v2/user). UserID is the
// plex.tv id in decimal; AccessToken is the account token.
func (p *Provider) FetchUser(session goth.Session) (goth.User, error) {
	return p.FetchUserContext(context.Background(), session)
}

// FetchUserContext is FetchUser with a context.
func (p *Provider) FetchUserContext(ctx context.Context, session goth.Session) (goth.User, error) {
	s, ok := session.(*AuthSession)
	if !ok || s == nil {
		return goth.User{}, errors.New("plex: not a Plex sign-in session")
	}
	if s.Token == "" {
		return goth.User{}, &Error{Kind: ErrPINPending, Endpoint: "GET /api/v2/user", Message: "the sign-in is not complete: call Authorize first"}
	}
	if p.client == nil {
		return goth.User{}, errors.New("plex: provider has no client")
	}
	a, err := p.client.Account(ctx, s.Token)
	if err != nil {
		return goth.User{}, fmt.Errorf("reading the Plex account: %w", err)
	}
	return goth.User{
		Provider:    p.name,
		UserID:      strconv.FormatInt(a.ID, 10),
		Email:       a.Email,
		Name:        cmp.Or(a.FriendlyName, a.Title, a.Username),
		NickName:    a.Username,
		AvatarURL:   a.Thumb,
		AccessToken: s.Token,
		RawData: map[string]any{
			"id": a.ID, "uuid": a.UUID, "username": a.Username, "title": a.Title, "email": a.Email,
			"home": a.Home, "home_admin": a.HomeAdmin, "restricted": a.Restricted, "guest": a.Guest,
			"plex_pass": a.PlexPass,
		},
	}, nil
}

// AuthSession is the state of one Plex sign-in between BeginAuth and
// FetchUser. After Authorize it contains the account token: store it
// server side only (never in a cookie), with a short lifetime.
type AuthSession struct {
	// PINID and Code identify the PIN.
	PINID int64  `json:"pin_id"`
	Code  string `json:"code"`
	// ClientID is the client identifier the PIN was created with.
	ClientID string `json:"client_id,omitempty"`
	// State is the OAuth state carried in the forward URL.
	State string `json:"state"`
	// AuthURL is where to send the browser.
	AuthURL string `json:"auth_url"`
	// CreatedAt and ExpiresAt bound the PIN's life (plex.tv's clock).
	CreatedAt time.Time `json:"created_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Token is the account token, set by Authorize. It is a secret.
	Token string `json:"token,omitempty"`
}

// GetAuthURL returns the auth app URL to send the browser to.
func (s *AuthSession) GetAuthURL() (string, error) {
	if s.AuthURL == "" {
		return "", errors.New(goth.NoAuthUrlErrorMessage)
	}
	return s.AuthURL, nil
}

// Marshal encodes the session as JSON (it holds the token once authorised).
func (s *AuthSession) Marshal() string {
	b, _ := json.Marshal(s) // strings, numbers and times only: cannot fail
	return string(b)
}

// String describes the session without its token or code.
func (s *AuthSession) String() string {
	return fmt.Sprintf("plex sign-in session (PIN %d, authorised: %t)", s.PINID, s.Token != "")
}

// Authorize checks the PIN and returns the account token once someone has
// signed in; before that it returns an error matching ErrPINPending, after
// expiry one matching ErrPINExpired. When params carry a "state" it must be
// the session's state. provider must be the *Provider that began the
// session.
func (s *AuthSession) Authorize(provider goth.Provider, params goth.Params) (string, error) {
	return s.AuthorizeContext(context.Background(), provider, params)
}

// AuthorizeContext is Authorize with a context.
func (s *AuthSession) AuthorizeContext(ctx context.Context, provider goth.Provider, params goth.Params) (string, error) {
	p, ok := provider.(*Provider)
	if !ok || p == nil || p.client == nil {
		return "", errors.New("plex: Authorize needs the Plex provider")
	}
	if params != nil {
		if got := params.Get("state"); got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.State)) != 1 {
			return "", invalidArg("GET /api/v2/pins/{id}", "the state does not match this sign-in")
		}
	}
	if s.Token != "" {
		return s.Token, nil
	}
	pin, err := p.client.CheckPIN(ctx, PIN{ID: s.PINID, Code: s.Code, ClientID: s.ClientID, ExpiresAt: s.ExpiresAt})
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(pin.Code, s.Code) {
		return "", &Error{Kind: ErrBadResponse, Endpoint: "GET /api/v2/pins/{id}", Message: "plex.tv returned a different PIN"}
	}
	if !pin.Claimed() {
		return "", &Error{Kind: ErrPINPending, Endpoint: "GET /api/v2/pins/{id}", Message: "nobody has signed in with this PIN yet"}
	}
	s.Token = pin.AuthToken
	return s.Token, nil
}
