package plex

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// PIN is a plex.tv sign-in PIN (docs/plex-api.md §2.1–2.3).
type PIN struct {
	// ID is the PIN's numeric id, used to check it.
	ID int64
	// Code is the PIN code put in the auth app URL.
	Code string
	// ClientID is the client identifier the PIN was created with; checking
	// the PIN must use the same one.
	ClientID string
	// CreatedAt and ExpiresAt bound the PIN's life (zero when unknown).
	CreatedAt time.Time
	// ExpiresAt is when plex.tv forgets the PIN.
	ExpiresAt time.Time
	// AuthToken is the signed-in account's token once the PIN is claimed,
	// empty before.
	AuthToken string
}

// Claimed reports whether someone signed in with the PIN.
func (p PIN) Claimed() bool { return p.AuthToken != "" }

// pinJSON is the v2 JSON body of a PIN.
type pinJSON struct {
	ID               flexInt    `json:"id"`
	Code             flexString `json:"code"`
	ClientIdentifier flexString `json:"clientIdentifier"`
	ExpiresIn        flexInt    `json:"expiresIn"`
	CreatedAt        flexTime   `json:"createdAt"`
	ExpiresAt        flexTime   `json:"expiresAt"`
	AuthToken        flexString `json:"authToken"`
}

// pinXML is the XML variant (root element "pin").
type pinXML struct {
	ID               flexInt  `xml:"id,attr"`
	Code             string   `xml:"code,attr"`
	ClientIdentifier string   `xml:"clientIdentifier,attr"`
	ExpiresIn        flexInt  `xml:"expiresIn,attr"`
	CreatedAt        flexTime `xml:"createdAt,attr"`
	ExpiresAt        flexTime `xml:"expiresAt,attr"`
	AuthToken        string   `xml:"authToken,attr"`
}

// parsePIN decodes a PIN body (JSON, or the XML variant). now supplies the
// expiry when the body only gives expiresIn.
func parsePIN(body []byte, now time.Time) (PIN, error) {
	var j pinJSON
	switch sniff(body) {
	case formatJSON:
		if err := decodeJSON(body, &j); err != nil {
			return PIN{}, err
		}
	case formatXML:
		var x pinXML
		if err := decodeXML(body, &x); err != nil {
			return PIN{}, err
		}
		j = pinJSON{ID: x.ID, Code: flexString(x.Code), ClientIdentifier: flexString(x.ClientIdentifier),
			ExpiresIn: x.ExpiresIn, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, AuthToken: flexString(x.AuthToken)}
	default:
		return PIN{}, errors.New("body is neither JSON nor XML")
	}
	p := PIN{
		ID:        int64(j.ID),
		Code:      string(j.Code),
		ClientID:  string(j.ClientIdentifier),
		CreatedAt: j.CreatedAt.Time(),
		ExpiresAt: j.ExpiresAt.Time(),
		AuthToken: string(j.AuthToken),
	}
	if p.ID <= 0 || p.Code == "" {
		return PIN{}, errors.New("PIN without id or code")
	}
	if p.ExpiresAt.IsZero() && j.ExpiresIn > 0 {
		from := p.CreatedAt
		if from.IsZero() {
			from = now
		}
		p.ExpiresAt = from.Add(time.Duration(j.ExpiresIn) * time.Second)
	}
	return p, nil
}

// CreatePIN creates a strong PIN for the browser sign-in flow
// (POST /api/v2/pins?strong=true, no token).
func (c *Client) CreatePIN(ctx context.Context) (PIN, error) {
	r := c.tvCall(http.MethodPost, "/api/v2/pins", "/api/v2/pins")
	r.query = "strong=true"
	r.accept = acceptJSON
	resp, err := c.do(ctx, r)
	if err != nil {
		return PIN{}, err
	}
	p, perr := parsePIN(resp.body, time.Now())
	if perr != nil {
		return PIN{}, badBody(r, resp, perr)
	}
	if p.ClientID == "" {
		p.ClientID = c.cfg.ClientID
	}
	return p, nil
}

// AuthURL returns the auth app URL (form A of docs/plex-api.md §2.2) to send
// the browser to: {AuthURL}#?clientID=…&code=…&forwardUrl=…&context%5Bdevice%5D%5Bproduct%5D=….
// forwardURL may be empty (no forwarding).
func (c *Client) AuthURL(pin PIN, forwardURL string) string {
	var b strings.Builder
	b.WriteString(c.auth)
	b.WriteString("#?clientID=")
	b.WriteString(fragmentEscape(c.cfg.ClientID))
	b.WriteString("&code=")
	b.WriteString(fragmentEscape(pin.Code))
	if forwardURL != "" {
		b.WriteString("&forwardUrl=")
		b.WriteString(fragmentEscape(forwardURL))
	}
	b.WriteString("&context%5Bdevice%5D%5Bproduct%5D=")
	b.WriteString(fragmentEscape(c.cfg.Product))
	return b.String()
}

// fragmentEscape query-escapes s with %20 for spaces, as the auth app
// expects inside the fragment.
func fragmentEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// CheckPIN reads the PIN's current state (GET /api/v2/pins/{id}, no token,
// same client identifier). The returned PIN has AuthToken set once claimed.
// An expired or unknown PIN is ErrPINExpired.
func (c *Client) CheckPIN(ctx context.Context, pin PIN) (PIN, error) {
	return c.checkPIN(ctx, pin, false)
}

func (c *Client) checkPIN(ctx context.Context, pin PIN, noRetry bool) (PIN, error) {
	const route = "/api/v2/pins/{id}"
	if pin.ID <= 0 {
		return PIN{}, invalidArg("GET "+route, "the PIN has no id")
	}
	r := c.tvCall(http.MethodGet, route, "/api/v2/pins/"+idSegment(pin.ID))
	r.accept = acceptJSON
	r.noRetry = noRetry
	resp, err := c.do(ctx, r)
	if err != nil {
		if e, ok := asError(err); ok && (e.Status == http.StatusNotFound || e.Code == 1020) {
			return PIN{}, e.withKind(ErrPINExpired, "the sign-in PIN expired or does not exist")
		}
		return PIN{}, err
	}
	p, perr := parsePIN(resp.body, time.Now())
	if perr != nil {
		return PIN{}, badBody(r, resp, perr)
	}
	if p.ClientID == "" {
		p.ClientID = pin.ClientID
	}
	if p.ExpiresAt.IsZero() {
		p.ExpiresAt = pin.ExpiresAt
	}
	return p, nil
}

// maxPINInterval caps how far WaitPIN slows down after rate limiting.
const maxPINInterval = 30 * time.Second

// WaitPIN polls the PIN every interval (1s when zero or less) until it is
// claimed, it expires (ErrPINExpired: plex.tv's 404, or the PIN's lifetime
// passed on the local clock) or ctx ends (ErrPINPending wrapping the context's error). A 429 doubles the
// interval (up to 30s) instead of failing;
// transient failures (ErrOffline) are polled through.
func (c *Client) WaitPIN(ctx context.Context, pin PIN, interval time.Duration) (PIN, error) {
	if interval <= 0 {
		interval = time.Second
	}
	const endpoint = "GET /api/v2/pins/{id}"
	deadline := pinDeadline(pin, time.Now())
	for {
		p, err := c.checkPIN(ctx, pin, true)
		switch {
		case err == nil && p.Claimed():
			return p, nil
		case err == nil:
		case errors.Is(err, ErrRateLimited):
			interval = min(interval*2, maxPINInterval)
		case errors.Is(err, ErrOffline) && ctx.Err() == nil:
		default:
			if ctx.Err() != nil {
				return PIN{}, &Error{Kind: ErrPINPending, Endpoint: endpoint, Message: "stopped waiting before the PIN was claimed", Err: ctx.Err()}
			}
			return PIN{}, err
		}
		until := time.Until(deadline)
		if until <= 0 {
			return PIN{}, &Error{Kind: ErrPINExpired, Endpoint: endpoint, Message: "the sign-in PIN expired before anyone signed in"}
		}
		wait := min(interval, until)
		if !sleepCtx(ctx, wait) {
			return PIN{}, &Error{Kind: ErrPINPending, Endpoint: endpoint, Message: "stopped waiting before the PIN was claimed", Err: ctx.Err()}
		}
	}
}

// maxPINWait bounds WaitPIN when the PIN's lifetime is unknown; plex.tv's
// 404 for an expired PIN normally ends the wait sooner.
const maxPINWait = 30 * time.Minute

// pinDeadline is when WaitPIN gives up, on the local clock. The PIN's
// lifetime (ExpiresAt - CreatedAt, both from plex.tv's clock) is added to
// now, so a skewed local clock neither ends the wait at once nor extends it
// much; plex.tv's own 404 remains the authority.
func pinDeadline(pin PIN, now time.Time) time.Time {
	if !pin.CreatedAt.IsZero() && pin.ExpiresAt.After(pin.CreatedAt) {
		return now.Add(min(pin.ExpiresAt.Sub(pin.CreatedAt), maxPINWait))
	}
	if pin.ExpiresAt.After(now) {
		return pin.ExpiresAt
	}
	return now.Add(maxPINWait)
}

// sleepCtx waits for d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
