package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Session lifetime defaults (the settings page can change them).
const (
	DefaultIdleTimeout     = 12 * time.Hour
	DefaultAbsoluteTimeout = 7 * 24 * time.Hour
)

// tokenBytes is the size of a session token's randomness.
const tokenBytes = 32

// ErrNoSession means the token names no live session: unknown, signed out, idle too long or past
// its absolute lifetime.
var ErrNoSession = errors.New("no such session")

// SessionOptions configures Sessions.
type SessionOptions struct {
	// Store holds the sessions (required).
	Store *storage.Store
	// Lifetimes returns the idle and absolute timeouts; nil or zero values mean the defaults.
	// It is called on every lookup, so a settings change applies at once.
	Lifetimes func() (idle, absolute time.Duration)
	// TouchEvery rate-limits writing the last-seen time (1m).
	TouchEvery time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Sessions are the admins' browser sessions. The cookie holds a random 32-byte token; the store
// keys the session by the token's SHA-256, so a copy of the database yields no live cookie.
type Sessions struct {
	opts SessionOptions
}

// SessionInfo is what a session records.
type SessionInfo struct {
	// AdminID is the signed-in admin (kept in storage.Session, not in the data).
	AdminID string `json:"-"`
	// CreatedAt is the sign-in time: the absolute timeout counts from it.
	CreatedAt time.Time `json:"created_at"`
	// LastSeen is the last recorded visit: the idle timeout counts from it.
	LastSeen time.Time `json:"last_seen"`
	// IP and UserAgent describe the browser that signed in.
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// NewSessions returns Sessions over opts.Store.
func NewSessions(opts SessionOptions) (*Sessions, error) {
	if opts.Store == nil {
		return nil, errors.New("sessions: no store")
	}
	if opts.TouchEvery <= 0 {
		opts.TouchEvery = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sessions{opts: opts}, nil
}

// lifetimes returns the effective timeouts.
func (s *Sessions) lifetimes() (idle, absolute time.Duration) {
	if s.opts.Lifetimes != nil {
		idle, absolute = s.opts.Lifetimes()
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if absolute <= 0 {
		absolute = DefaultAbsoluteTimeout
	}
	return idle, absolute
}

// NewToken returns a fresh random token (base64url, 43 characters).
func NewToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token, the key it is stored under.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// validToken reports whether token has NewToken's shape, so garbage is refused before hashing.
func validToken(token string) bool {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	// The decoder skips line breaks, so the decoded length is checked too.
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	return err == nil && len(b) == tokenBytes
}

// expiry is when a session ends if not touched again.
func (s *Sessions) expiry(info SessionInfo) time.Time {
	idle, absolute := s.lifetimes()
	end := info.CreatedAt.Add(absolute)
	if idleEnd := info.LastSeen.Add(idle); idleEnd.Before(end) {
		end = idleEnd
	}
	return end
}

// Create starts a session for adminID and returns its token. previous, the token of the
// session the browser held before (if any), is ended first: a sign-in always gets a new token,
// so a token planted before sign-in is worthless after it (session fixation).
func (s *Sessions) Create(adminID, previous, ip, userAgent string) (string, SessionInfo, error) {
	if adminID == "" {
		return "", SessionInfo{}, errors.New("creating a session: no admin")
	}
	now := s.opts.Now()
	info := SessionInfo{AdminID: adminID, CreatedAt: now, LastSeen: now, IP: ip, UserAgent: truncate(userAgent, 200)}
	data, err := json.Marshal(info)
	if err != nil {
		return "", SessionInfo{}, fmt.Errorf("creating a session: %w", err)
	}
	token := NewToken()
	err = s.opts.Store.Update(func(tx *storage.Tx) error {
		if previous != "" && validToken(previous) {
			if err := tx.Sessions().Delete(HashToken(previous)); err != nil {
				return err
			}
		}
		return tx.Sessions().Commit(HashToken(token), storage.Session{AdminID: adminID, Data: data, Expiry: s.expiry(info)})
	})
	if err != nil {
		return "", SessionInfo{}, fmt.Errorf("creating a session: %w", err)
	}
	return token, info, nil
}

// Lookup returns the live session of token, recording the visit (at most once per TouchEvery).
// A session idle for longer than the idle timeout, or older than the absolute timeout, is deleted
// and reported as ErrNoSession.
func (s *Sessions) Lookup(token string) (SessionInfo, error) {
	if !validToken(token) {
		return SessionInfo{}, ErrNoSession
	}
	key := HashToken(token)
	sess, err := s.opts.Store.FindSession(key)
	if errors.Is(err, storage.ErrNotFound) {
		return SessionInfo{}, ErrNoSession
	}
	if err != nil {
		return SessionInfo{}, fmt.Errorf("reading a session: %w", err)
	}
	var info SessionInfo
	if err := json.Unmarshal(sess.Data, &info); err != nil || sess.AdminID == "" {
		_ = s.opts.Store.DeleteSession(key)
		return SessionInfo{}, ErrNoSession
	}
	info.AdminID = sess.AdminID
	now := s.opts.Now()
	if !now.Before(s.expiry(info)) {
		if err := s.opts.Store.DeleteSession(key); err != nil {
			return SessionInfo{}, fmt.Errorf("ending an expired session: %w", err)
		}
		return SessionInfo{}, ErrNoSession
	}
	if now.Sub(info.LastSeen) >= s.opts.TouchEvery {
		info.LastSeen = now
		data, err := json.Marshal(info)
		if err == nil {
			err = s.opts.Store.CommitSession(key, storage.Session{AdminID: info.AdminID, Data: data, Expiry: s.expiry(info)})
		}
		// A full data disk refuses the stamp; the session stays valid (it only idles out sooner).
		if err != nil && !errors.Is(err, storage.ErrDiskFull) {
			return SessionInfo{}, fmt.Errorf("recording a session's visit: %w", err)
		}
	}
	return info, nil
}

// Delete ends the session of token (signing out). Unknown tokens are not an error.
func (s *Sessions) Delete(token string) error {
	if !validToken(token) {
		return nil
	}
	if err := s.opts.Store.DeleteSession(HashToken(token)); err != nil {
		return fmt.Errorf("ending a session: %w", err)
	}
	return nil
}

// DeleteAll ends every session of adminID (sign out everywhere) and returns how many ended.
func (s *Sessions) DeleteAll(adminID string) (int, error) {
	n, err := s.opts.Store.DeleteSessionsByAdmin(adminID)
	if err != nil {
		return 0, fmt.Errorf("ending the sessions of an admin: %w", err)
	}
	return n, nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
