package plex

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Account is the plex.tv account a token belongs to (GET /api/v2/user).
type Account struct {
	// ID is the plex.tv user id.
	ID int64
	// UUID is the account's short hexadecimal uuid.
	UUID string
	// Username is the login name (empty for managed users).
	Username string
	// Email is the account's address (empty for managed users).
	Email string
	// Title is the display name.
	Title string
	// FriendlyName is the display name the user chose, possibly empty.
	FriendlyName string
	// Thumb is the avatar URL on plex.tv.
	Thumb string
	// Home is true when the account is in a Plex Home; HomeAdmin when it
	// administers it.
	Home bool
	// HomeAdmin marks the administrator of the Home (the owner).
	HomeAdmin bool
	// HomeSize and MaxHomeSize count Home members (read the limit here
	// rather than hard-coding 15).
	HomeSize int
	// MaxHomeSize is plex.tv's limit for the Home.
	MaxHomeSize int
	// Guest marks the Home guest account.
	Guest bool
	// Restricted marks a managed (Home) user.
	Restricted bool
	// Protected means the account has a Home PIN.
	Protected bool
	// TwoFactor is true when two-factor sign-in is on.
	TwoFactor bool
	// JoinedAt is when the account was created.
	JoinedAt time.Time
	// PlexPass is true while the subscription is active.
	PlexPass bool
	// PassStatus and PassPlan describe the subscription ("Active",
	// "lifetime").
	PassStatus string
	PassPlan   string
	// Features are the subscription's feature ids.
	Features []string
}

// accountJSON is the v2 JSON body of /api/v2/user.
type accountJSON struct {
	ID               flexInt    `json:"id"`
	UUID             flexString `json:"uuid"`
	Username         flexString `json:"username"`
	Email            flexString `json:"email"`
	Title            flexString `json:"title"`
	FriendlyName     flexString `json:"friendlyName"`
	Thumb            flexString `json:"thumb"`
	Home             flexBool   `json:"home"`
	HomeAdmin        flexBool   `json:"homeAdmin"`
	HomeSize         flexInt    `json:"homeSize"`
	MaxHomeSize      flexInt    `json:"maxHomeSize"`
	Guest            flexBool   `json:"guest"`
	Restricted       flexBool   `json:"restricted"`
	Protected        flexBool   `json:"protected"`
	TwoFactorEnabled flexBool   `json:"twoFactorEnabled"`
	JoinedAt         flexTime   `json:"joinedAt"`
	Subscription     *struct {
		Active   flexBool          `json:"active"`
		Status   flexString        `json:"status"`
		Plan     flexString        `json:"plan"`
		Features []json.RawMessage `json:"features"`
	} `json:"subscription"`
}

// parseAccount decodes the body of /api/v2/user.
func parseAccount(body []byte) (Account, error) {
	var j accountJSON
	if err := decodeJSON(body, &j); err != nil {
		return Account{}, err
	}
	if j.ID <= 0 {
		return Account{}, errors.New("account without id")
	}
	a := Account{
		ID: int64(j.ID), UUID: string(j.UUID), Username: string(j.Username), Email: string(j.Email),
		Title: string(j.Title), FriendlyName: string(j.FriendlyName), Thumb: string(j.Thumb),
		Home: bool(j.Home), HomeAdmin: bool(j.HomeAdmin), HomeSize: int(j.HomeSize), MaxHomeSize: int(j.MaxHomeSize),
		Guest: bool(j.Guest), Restricted: bool(j.Restricted), Protected: bool(j.Protected),
		TwoFactor: bool(j.TwoFactorEnabled), JoinedAt: j.JoinedAt.Time(),
	}
	if s := j.Subscription; s != nil {
		a.PlexPass = bool(s.Active)
		a.PassStatus = string(s.Status)
		a.PassPlan = string(s.Plan)
		for _, raw := range s.Features {
			if f := featureID(raw); f != "" {
				a.Features = append(a.Features, f)
			}
		}
	}
	return a, nil
}

// featureID reads a subscription feature given either as a string or as an
// object with an "id".
func featureID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID flexString `json:"id"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return string(o.ID)
	}
	return ""
}

// Account returns the account the token belongs to. A rejected token is
// ErrUnauthorized; any other failure says nothing about the token.
func (c *Client) Account(ctx context.Context, token string) (Account, error) {
	r := c.tvCall(http.MethodGet, "/api/v2/user", "/api/v2/user")
	if token == "" {
		return Account{}, invalidArg(r.endpoint(), "no token given")
	}
	r.token = token
	r.accept = acceptJSON
	resp, err := c.do(ctx, r)
	if err != nil {
		return Account{}, err
	}
	a, perr := parseAccount(resp.body)
	if perr != nil {
		return Account{}, badBody(r, resp, perr)
	}
	return a, nil
}

// Ping checks the token and refreshes its expiry (GET /api/v2/ping). A
// rejected token is ErrUnauthorized.
func (c *Client) Ping(ctx context.Context, token string) error {
	r := c.tvCall(http.MethodGet, "/api/v2/ping", "/api/v2/ping")
	if token == "" {
		return invalidArg(r.endpoint(), "no token given")
	}
	r.token = token
	r.accept = acceptJSON
	_, err := c.do(ctx, r)
	return err
}
