package plextest

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pin is a sign-in PIN.
type pin struct {
	id        int64
	code      string
	strong    bool
	clientID  string
	product   string
	createdAt time.Time
	expiresAt time.Time
	authToken string // empty until claimed
	lastPoll  time.Time
}

// PIN lifetimes: the short code's 900 s is documented; the strong code's
// longer life is not, 1800 s is a plausible value.
const (
	shortPINLife  = 900 * time.Second
	strongPINLife = 1800 * time.Second
)

type pinJSON struct {
	ID               int64          `json:"id"`
	Code             string         `json:"code"`
	Product          string         `json:"product"`
	Trusted          bool           `json:"trusted"`
	QR               string         `json:"qr"`
	ClientIdentifier string         `json:"clientIdentifier"`
	Location         map[string]any `json:"location"`
	ExpiresIn        int64          `json:"expiresIn"`
	CreatedAt        string         `json:"createdAt"`
	ExpiresAt        string         `json:"expiresAt"`
	AuthToken        *string        `json:"authToken"`
	NewRegistration  *bool          `json:"newRegistration"`
}

func (f *Fake) handleCreatePIN(w http.ResponseWriter, r *http.Request) {
	if !requireClientID(w, r) {
		return
	}
	strong := r.URL.Query().Get("strong") == "true" || r.URL.Query().Get("strong") == "1"
	now := f.now()
	f.mu.Lock()
	f.nextPIN++
	p := &pin{
		id:        f.nextPIN,
		strong:    strong,
		clientID:  clientIDOf(r),
		product:   plexParam(r, "X-Plex-Product"),
		createdAt: now,
	}
	sum := sha1.Sum([]byte(fmt.Sprintf("pin-%d-%s", p.id, p.clientID)))
	if strong {
		p.code = base36(sum[:], 25)
		p.expiresAt = now.Add(strongPINLife)
	} else {
		p.code = strings.ToUpper(base36(sum[:], 4))
		p.expiresAt = now.Add(shortPINLife)
	}
	f.pins[p.id] = p
	out := f.pinViewLocked(p, now)
	f.mu.Unlock()
	f.writePIN(w, r, http.StatusCreated, out)
}

func (f *Fake) handleGetPIN(w http.ResponseWriter, r *http.Request) {
	if !requireClientID(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	now := f.now()
	f.mu.Lock()
	p := f.pins[id]
	// A PIN polled with another client identifier is not found, like an
	// expired one.
	if p == nil || !now.Before(p.expiresAt) || p.clientID != clientIDOf(r) {
		f.mu.Unlock()
		writeV2Error(w, r, http.StatusNotFound, codePINNotFound, "", "Code not found or expired")
		return
	}
	if !p.lastPoll.IsZero() && now.Sub(p.lastPoll) < f.pinPollInterval {
		f.mu.Unlock()
		writeV2Error(w, r, http.StatusTooManyRequests, codeRateLimited, "", "API rate limit exceeded")
		return
	}
	p.lastPoll = now
	out := f.pinViewLocked(p, now)
	f.mu.Unlock()
	f.writePIN(w, r, http.StatusOK, out)
}

func (f *Fake) pinViewLocked(p *pin, now time.Time) pinJSON {
	out := pinJSON{
		ID:               p.id,
		Code:             p.code,
		Product:          p.product,
		QR:               f.baseURL + "/api/v2/pins/qr/" + p.code,
		ClientIdentifier: p.clientID,
		Location: map[string]any{
			"code": "US", "european_union_member": false, "continent_code": "NA",
			"country": "United States", "city": "Denver", "time_zone": "America/Denver",
			"postal_code": "80202", "in_privacy_restricted_country": false,
			"in_privacy_restricted_region": false, "subdivisions": "Colorado",
			"coordinates": "39.7, -104.9",
		},
		ExpiresIn: int64(p.expiresAt.Sub(now).Seconds()),
		CreatedAt: p.createdAt.UTC().Format(time.RFC3339),
		ExpiresAt: p.expiresAt.UTC().Format(time.RFC3339),
	}
	if p.authToken != "" {
		t := p.authToken
		out.AuthToken = &t
	}
	return out
}

func (f *Fake) writePIN(w http.ResponseWriter, r *http.Request, status int, p pinJSON) {
	if wantsJSON(r) {
		writeJSON(w, status, p)
		return
	}
	token := ""
	if p.AuthToken != nil {
		token = *p.AuthToken
	}
	writeXML(w, status, el("pin",
		a("id", p.ID), a("code", p.Code), a("product", p.Product), a("trusted", p.Trusted),
		a("clientIdentifier", p.ClientIdentifier), a("expiresIn", p.ExpiresIn),
		a("createdAt", p.CreatedAt), a("expiresAt", p.ExpiresAt), a("authToken", token)))
}

// Errors of ClaimPIN.
var (
	// ErrPINNotFound means no live PIN has that code.
	ErrPINNotFound = errors.New("plextest: PIN not found or expired")
	// ErrAccountNotFound means the account does not exist or cannot sign in.
	ErrAccountNotFound = errors.New("plextest: account not found or cannot sign in")
)

// ClaimPIN does what the auth app does when a person signs in: the PIN with
// that code gets the account's token. Managed users cannot sign in.
func (f *Fake) ClaimPIN(code string, accountID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.claimPINLocked(code, "", accountID)
	return err
}

// claimPINLocked claims a PIN; clientID, when given, must match the PIN's.
func (f *Fake) claimPINLocked(code, clientID string, accountID int64) (*pin, error) {
	now := f.now()
	var p *pin
	for _, x := range f.pins {
		if x.code == code && now.Before(x.expiresAt) {
			p = x
			break
		}
	}
	if p == nil || (clientID != "" && clientID != p.clientID) {
		return nil, fmt.Errorf("claiming PIN: %w", ErrPINNotFound)
	}
	acc := f.accounts[accountID]
	if acc == nil || acc.Managed {
		return nil, fmt.Errorf("claiming PIN for account %d: %w", accountID, ErrAccountNotFound)
	}
	p.authToken = acc.Token
	return p, nil
}

const base36Digits = "0123456789abcdefghijklmnopqrstuvwxyz"

// base36 spells n characters from the bytes of b (repeating them as needed).
func base36(b []byte, n int) string {
	h := hex.EncodeToString(b)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		c := h[i%len(h)] ^ byte(i*7)
		sb.WriteByte(base36Digits[int(c)%len(base36Digits)])
	}
	return sb.String()
}
