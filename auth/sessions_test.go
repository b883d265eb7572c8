package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func newTestSessions(t *testing.T, c *testclock.Clock, idle, absolute time.Duration) (*Sessions, *storage.Store) {
	t.Helper()
	st := storetest.Memory(t)
	s, err := NewSessions(SessionOptions{Store: st, Now: c.Now, Lifetimes: func() (time.Duration, time.Duration) { return idle, absolute }})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func TestSessionIdleExpiry(t *testing.T) {
	c := newClock()
	s, _ := newTestSessions(t, c, 0, 0) // defaults: 12h idle, 7d absolute
	tok, info, err := s.Create("admin1", "", "192.0.2.1", "test agent")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || info.AdminID != "admin1" {
		t.Fatalf("token %q info %+v", tok, info)
	}
	c.Add(11 * time.Hour)
	if got, err := s.Lookup(tok); err != nil || got.AdminID != "admin1" || got.IP != "192.0.2.1" {
		t.Fatalf("after 11h: %+v %v", got, err)
	}
	// The visit renewed the idle timer: 11h more is still fine.
	c.Add(11 * time.Hour)
	if _, err := s.Lookup(tok); err != nil {
		t.Fatalf("after another 11h of activity: %v", err)
	}
	c.Add(12*time.Hour + time.Second)
	if _, err := s.Lookup(tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle 12h: %v, want ErrNoSession", err)
	}
	// Gone for good, even if the clock went back.
	c.Add(-24 * time.Hour)
	if _, err := s.Lookup(tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("expired session came back: %v", err)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	c := newClock()
	s, _ := newTestSessions(t, c, 2*time.Hour, 10*time.Hour)
	tok, _, err := s.Create("admin1", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // active every 110 minutes: never idle, 7h20m in all
		c.Add(110 * time.Minute)
		if _, err := s.Lookup(tok); err != nil {
			t.Fatalf("visit %d: %v", i, err)
		}
	}
	c.Add(110 * time.Minute) // 9h10m
	if _, err := s.Lookup(tok); err != nil {
		t.Fatalf("at 9h10m: %v", err)
	}
	c.Add(50 * time.Minute) // 10h: the absolute limit
	if _, err := s.Lookup(tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("at the absolute limit: %v", err)
	}
}

func TestSessionRenewOnSignIn(t *testing.T) {
	c := newClock()
	s, _ := newTestSessions(t, c, 0, 0)
	planted, _, _ := s.Create("admin1", "", "", "")
	fresh, _, err := s.Create("admin1", planted, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if fresh == planted {
		t.Fatal("sign-in kept the token")
	}
	if _, err := s.Lookup(planted); !errors.Is(err, ErrNoSession) {
		t.Errorf("the previous token still works: %v", err)
	}
	if _, err := s.Lookup(fresh); err != nil {
		t.Errorf("the new token does not work: %v", err)
	}
}

func TestSessionSignOut(t *testing.T) {
	c := newClock()
	s, st := newTestSessions(t, c, 0, 0)
	a1, _, _ := s.Create("admin1", "", "", "")
	a2, _, _ := s.Create("admin1", "", "", "")
	b1, _, _ := s.Create("admin2", "", "", "")
	if err := s.Delete(a1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(a1); !errors.Is(err, ErrNoSession) {
		t.Error("signed-out session still works")
	}
	if _, err := s.Lookup(a2); err != nil {
		t.Error("sign-out ended another session of the same admin")
	}
	n, err := s.DeleteAll("admin1")
	if err != nil || n != 1 {
		t.Errorf("DeleteAll = %d, %v; want 1", n, err)
	}
	if _, err := s.Lookup(a2); !errors.Is(err, ErrNoSession) {
		t.Error("sign out everywhere missed a session")
	}
	if _, err := s.Lookup(b1); err != nil {
		t.Error("sign out everywhere ended another admin's session")
	}
	// The store holds only hashes of tokens.
	if _, err := st.FindSession(b1); err == nil {
		t.Error("session found under the raw token")
	}
	if _, err := st.FindSession(HashToken(b1)); err != nil {
		t.Errorf("session not under the token's hash: %v", err)
	}
	for _, bad := range []string{"", "short", b1 + "x", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", HashToken(b1)} {
		if _, err := s.Lookup(bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("Lookup(%q) = %v", bad, err)
		}
	}
}

func TestSessionTouchIsRateLimited(t *testing.T) {
	c := newClock()
	s, st := newTestSessions(t, c, 0, 0)
	tok, info, _ := s.Create("admin1", "", "", "")
	c.Add(30 * time.Second)
	if _, err := s.Lookup(tok); err != nil {
		t.Fatal(err)
	}
	sess, _ := st.FindSession(HashToken(tok))
	if want := info.CreatedAt.Add(DefaultIdleTimeout); !sess.Expiry.Equal(want) {
		t.Errorf("a visit within a minute was written: expiry %v, want %v", sess.Expiry, want)
	}
	c.Add(31 * time.Second)
	if _, err := s.Lookup(tok); err != nil {
		t.Fatal(err)
	}
	sess, _ = st.FindSession(HashToken(tok))
	if want := c.Now().Add(DefaultIdleTimeout); !sess.Expiry.Equal(want) {
		t.Errorf("expiry %v, want %v", sess.Expiry, want)
	}
}
