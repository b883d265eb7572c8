package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottleAccountLockoutGrows(t *testing.T) {
	c := newClock()
	th := NewThrottle(ThrottleOptions{Window: 15 * time.Minute, AccountLimit: 3, IPLimit: 100, BaseDelay: time.Minute, MaxDelay: 5 * time.Minute, Now: c.Now})
	if w := th.Wait("alice", "1.1.1.1"); w != 0 {
		t.Fatalf("fresh account waits %v", w)
	}
	th.Fail("alice", "1.1.1.1")
	th.Fail("Alice", "1.1.1.2") // usernames are case-insensitive
	if w := th.Wait("alice", ""); w != 0 {
		t.Fatalf("locked after 2 of 3 failures: %v", w)
	}
	th.Fail("ALICE ", "1.1.1.3")
	if w := th.Wait("alice", "9.9.9.9"); w != time.Minute {
		t.Fatalf("first lockout %v, want 1m", w)
	}
	if w := th.Wait("bob", "9.9.9.9"); w != 0 {
		t.Fatalf("another account is locked: %v", w)
	}
	c.Add(30 * time.Second)
	if w := th.Wait("alice", ""); w != 30*time.Second {
		t.Errorf("after 30s: %v", w)
	}
	c.Add(31 * time.Second)
	if w := th.Wait("alice", ""); w != 0 {
		t.Errorf("lock did not end: %v", w)
	}
	// Each further lockout doubles, up to MaxDelay.
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		for range 3 {
			th.Fail("alice", "")
		}
		if got := th.Wait("alice", ""); got != w {
			t.Errorf("lockout %d: %v, want %v", i+2, got, w)
		}
		c.Add(w)
	}
	// A whole quiet window resets the growth.
	c.Add(16 * time.Minute)
	for range 3 {
		th.Fail("alice", "")
	}
	if got := th.Wait("alice", ""); got != time.Minute {
		t.Errorf("after a quiet window: %v, want 1m", got)
	}
	// A success clears the account.
	c.Add(time.Minute)
	th.Fail("alice", "")
	th.Fail("alice", "")
	th.Succeed("alice")
	th.Fail("alice", "")
	if got := th.Wait("alice", ""); got != 0 {
		t.Errorf("failures survived a success: %v", got)
	}
}

func TestThrottleSlidingWindow(t *testing.T) {
	c := newClock()
	th := NewThrottle(ThrottleOptions{Window: 10 * time.Minute, AccountLimit: 3, Now: c.Now})
	th.Fail("a", "")
	c.Add(6 * time.Minute)
	th.Fail("a", "")
	c.Add(5 * time.Minute) // the first failure has left the window
	th.Fail("a", "")
	if w := th.Wait("a", ""); w != 0 {
		t.Errorf("old failure still counted: %v", w)
	}
	th.Fail("a", "")
	if w := th.Wait("a", ""); w == 0 {
		t.Error("three failures inside the window did not lock")
	}
}

func TestThrottlePerIP(t *testing.T) {
	c := newClock()
	th := NewThrottle(ThrottleOptions{AccountLimit: 5, IPLimit: 10, Now: c.Now})
	// One address guessing many accounts is stopped by the address limit.
	for i := range 10 {
		th.Fail(fmt.Sprintf("user%d", i), "203.0.113.5")
	}
	if w := th.Wait("fresh-account", "203.0.113.5"); w == 0 {
		t.Error("the address is not locked after 10 failures")
	}
	if w := th.Wait("fresh-account", "198.51.100.1"); w != 0 {
		t.Errorf("another address is locked: %v", w)
	}
	// A success does not clear the address.
	th.Succeed("user1")
	if w := th.Wait("", "203.0.113.5"); w == 0 {
		t.Error("a success cleared the address lock")
	}
}

func TestThrottleMemoryBound(t *testing.T) {
	c := newClock()
	th := NewThrottle(ThrottleOptions{MaxKeys: 50, Now: c.Now})
	for i := range 1000 {
		th.Fail(fmt.Sprintf("user%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	th.mu.Lock()
	defer th.mu.Unlock()
	if len(th.accounts) > 50 || len(th.ips) > 50 {
		t.Errorf("tracking %d accounts and %d addresses, bound 50", len(th.accounts), len(th.ips))
	}
}
