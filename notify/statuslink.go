package notify

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// linkKeySetting holds the key that signs status links.
const linkKeySetting = "notify.link_key"

// ErrBadToken: a status link is malformed, forged or expired.
var ErrBadToken = errors.New("this link is not valid or has expired")

// linkKey returns the signing key, creating it on first use.
func (n *Notifier) linkKey() ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.key != nil {
		return n.key, nil
	}
	var stored string
	err := n.opts.Store.GetSetting(linkKeySetting, &stored)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("creating the status link key: %w", err)
		}
		stored = base64.RawStdEncoding.EncodeToString(key)
		if n.opts.Sealer != nil {
			if stored, err = n.opts.Sealer.Seal(stored); err != nil {
				return nil, fmt.Errorf("sealing the status link key: %w", err)
			}
		}
		if err := n.opts.Store.PutSetting(linkKeySetting, stored); err != nil {
			return nil, fmt.Errorf("saving the status link key: %w", err)
		}
		n.key = key
		return key, nil
	case err != nil:
		return nil, fmt.Errorf("reading the status link key: %w", err)
	}
	if storage.IsSealed(stored) {
		if n.opts.Sealer == nil {
			return nil, errors.New("the status link key is sealed but no sealing key is configured")
		}
		if stored, err = n.opts.Sealer.Open(stored); err != nil {
			return nil, fmt.Errorf("opening the status link key: %w", err)
		}
	}
	key, err := base64.RawStdEncoding.DecodeString(stored)
	if err != nil || len(key) != 32 {
		return nil, errors.New("the status link key is damaged")
	}
	n.key = key
	return key, nil
}

// tokenMAC signs a token payload.
func tokenMAC(key, payload []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("plex-manager status link v1\x00"))
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

// StatusToken returns a signed token naming userID, valid for validFor.
func (n *Notifier) StatusToken(userID int64, validFor time.Duration) (string, error) {
	key, err := n.linkKey()
	if err != nil {
		return "", err
	}
	payload := make([]byte, 16)
	binary.BigEndian.PutUint64(payload[:8], uint64(userID))
	binary.BigEndian.PutUint64(payload[8:], uint64(n.opts.Now().Add(validFor).Unix()))
	enc := base64.RawURLEncoding.Strict()
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(tokenMAC(key, payload)), nil
}

// VerifyStatusToken checks a token's signature and expiry and returns its user id.
func (n *Notifier) VerifyStatusToken(token string) (int64, error) {
	key, err := n.linkKey()
	if err != nil {
		return 0, err
	}
	p, s, ok := strings.Cut(token, ".")
	if !ok || len(token) > 100 {
		return 0, ErrBadToken
	}
	// Strict: a token whose last character differs only in unused bits is a different token, not a
	// second spelling of the same one.
	enc := base64.RawURLEncoding.Strict()
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil || len(payload) != 16 || !hmac.Equal(sig, tokenMAC(key, payload)) {
		return 0, ErrBadToken
	}
	exp := int64(binary.BigEndian.Uint64(payload[8:]))
	if n.opts.Now().Unix() > exp {
		return 0, ErrBadToken
	}
	return int64(binary.BigEndian.Uint64(payload[:8])), nil
}

// AccessStatus is what the public status page shows a user about their own access.
type AccessStatus struct {
	Username string
	// Status is the stored status (active, pending, scheduled, expired, removed).
	Status string
	// StartsAt and ExpiresAt bound the access window (nil: open).
	StartsAt  *time.Time
	ExpiresAt *time.Time
	// LastActivityAt is the last time the user was seen streaming.
	LastActivityAt *time.Time
	// Servers are the shared servers with their library titles.
	Servers []ServerAccess
}

// ServerAccess is one shared server.
type ServerAccess struct {
	Name      string
	Libraries []string
	All       bool
	Pending   bool
}

// StatusOf reads a user's access status for the public page.
func (n *Notifier) StatusOf(userID int64) (AccessStatus, error) {
	u, err := n.opts.Store.GetUser(userID)
	if err != nil {
		return AccessStatus{}, fmt.Errorf("reading user %d: %w", userID, err)
	}
	servers, err := n.opts.Store.ListServers()
	if err != nil {
		return AccessStatus{}, fmt.Errorf("reading servers: %w", err)
	}
	st := AccessStatus{Username: cmp.Or(u.Username, u.Title, u.Email), Status: u.Status, StartsAt: u.StartsAt,
		ExpiresAt: u.ExpiresAt, LastActivityAt: u.LastActivityAt}
	for id, sh := range u.Shares {
		sa := ServerAccess{Name: id, All: sh.AllLibraries, Pending: sh.Pending}
		for _, srv := range servers {
			if srv.ID != id {
				continue
			}
			sa.Name = cmp.Or(srv.Name, id)
			for _, lib := range srv.Libraries {
				if sh.AllLibraries || slices.Contains(sh.Libraries, lib.Key) {
					sa.Libraries = append(sa.Libraries, lib.Title)
				}
			}
		}
		st.Servers = append(st.Servers, sa)
	}
	slices.SortFunc(st.Servers, func(a, b ServerAccess) int { return cmp.Compare(a.Name, b.Name) })
	return st, nil
}
