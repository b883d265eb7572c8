package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// SetupCodeLifetime is how long a setup code stays valid.
const SetupCodeLifetime = time.Hour

// setupCodeAlphabet is Crockford's base32 (no I, L, O, U): easy to read from a log and type.
const setupCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// setupCodeLen is the number of characters of a code (60 bits).
const setupCodeLen = 12

// State kind and key of the current setup code.
const (
	setupStateKind = "setup"
	setupStateKey  = "code"
)

// ErrBadSetupCode means the code entered is wrong, used or expired (deliberately one error).
var ErrBadSetupCode = errors.New("wrong or expired setup code")

// SetupCodes issues and redeems the one-time code that authorises creating the first admin. Only
// the code's SHA-256 is stored, under one key, so issuing a code replaces the previous one.
type SetupCodes struct {
	store *storage.Store
	now   func() time.Time
}

// NewSetupCodes returns SetupCodes over store; now is the clock (nil: time.Now).
func NewSetupCodes(store *storage.Store, now func() time.Time) (*SetupCodes, error) {
	if store == nil {
		return nil, errors.New("setup codes: no store")
	}
	if now == nil {
		now = time.Now
	}
	return &SetupCodes{store: store, now: now}, nil
}

// setupRecord is the stored form of a code.
type setupRecord struct {
	Hash      []byte    `json:"hash"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Issue makes a new code valid for SetupCodeLifetime, replacing any earlier one, and returns it
// formatted for display ("ABCD-EFGH-JKMN") with its expiry. The caller logs it: whoever can read
// the server's log can claim the instance.
func (c *SetupCodes) Issue() (string, time.Time, error) {
	raw := make([]byte, setupCodeLen)
	buf := make([]byte, setupCodeLen)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails
	for i, b := range buf {
		raw[i] = setupCodeAlphabet[int(b)%len(setupCodeAlphabet)] // 256 is a multiple of 32: unbiased
	}
	code := string(raw)
	exp := c.now().Add(SetupCodeLifetime)
	sum := sha256.Sum256([]byte(code))
	val, err := json.Marshal(setupRecord{Hash: sum[:], ExpiresAt: exp})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issuing a setup code: %w", err)
	}
	if err := c.store.PutState(setupStateKind, setupStateKey, val, SetupCodeLifetime); err != nil {
		return "", time.Time{}, fmt.Errorf("issuing a setup code: %w", err)
	}
	return code[0:4] + "-" + code[4:8] + "-" + code[8:12], exp, nil
}

// NormalizeSetupCode turns what a person typed into the canonical code: upper case, without
// spaces and dashes, with the look-alikes O→0 and I, L→1 mapped as Crockford's base32 does.
func NormalizeSetupCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, s)
}

// Redeem checks code and, when it is right and unexpired, consumes it (single use). A wrong code
// leaves the current one valid. Every failure is ErrBadSetupCode.
func (c *SetupCodes) Redeem(code string) error {
	code = NormalizeSetupCode(code)
	if len(code) != setupCodeLen {
		return ErrBadSetupCode
	}
	sum := sha256.Sum256([]byte(code))
	now := c.now()
	var ok bool
	err := c.store.Update(func(tx *storage.Tx) error {
		ok = false
		val, rec, live, err := takeLiveSetupRecord(tx, now)
		if err != nil || !live {
			return err
		}
		if subtle.ConstantTimeCompare(rec.Hash, sum[:]) == 1 {
			ok = true
			return nil
		}
		// Wrong code: put the current one back for the rest of its life.
		return tx.States().Put(setupStateKind, setupStateKey, val, rec.ExpiresAt.Sub(now))
	})
	if err != nil {
		return fmt.Errorf("checking the setup code: %w", err)
	}
	if !ok {
		return ErrBadSetupCode
	}
	return nil
}

// Active reports whether an unexpired code exists (without consuming it).
func (c *SetupCodes) Active() (bool, error) {
	now := c.now()
	var active bool
	err := c.store.Update(func(tx *storage.Tx) error {
		active = false
		val, rec, live, err := takeLiveSetupRecord(tx, now)
		if err != nil || !live {
			return err
		}
		active = true
		return tx.States().Put(setupStateKind, setupStateKey, val, rec.ExpiresAt.Sub(now))
	})
	if err != nil {
		return false, fmt.Errorf("checking for a setup code: %w", err)
	}
	return active, nil
}

// takeLiveSetupRecord takes the setup code's record out of tx and returns its stored bytes and the
// record with live true when it decodes and has not expired at now; the caller puts it back to
// keep it. A missing, broken or expired record is live false and stays taken (gone: a new code
// must be issued).
func takeLiveSetupRecord(tx *storage.Tx, now time.Time) (val []byte, rec setupRecord, live bool, err error) {
	val, err = tx.States().Take(setupStateKind, setupStateKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, setupRecord{}, false, nil
	}
	if err != nil {
		return nil, setupRecord{}, false, err
	}
	if err := json.Unmarshal(val, &rec); err != nil || !now.Before(rec.ExpiresAt) {
		return nil, setupRecord{}, false, nil
	}
	return val, rec, true, nil
}
