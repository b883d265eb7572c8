package invites

import (
	"net"
	"testing"
	"time"
)

// netClientKey is the grouping clientKey had when it used package net: the reference the
// allocation-free version must match.
func netClientKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return ip
	}
	if v4 := a.To4(); v4 != nil {
		return v4.String()
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		ip, want string
	}{
		{"203.0.113.7", "203.0.113.7"},
		{"0.0.0.0", "0.0.0.0"},
		{"255.255.255.255", "255.255.255.255"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"::FFFF:cb00:7107", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::ab", "2001:db8:1:2::/64"},
		{"2001:0db8:0001:0002:0000:0000:0000:0001", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
		{"::", "::/64"},
		{"::1.2.3.4", "::/64"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"203.0.113.07", "203.0.113.07"},
		{"203.0.113", "203.0.113"},
		{"1.2.3.4.5", "1.2.3.4.5"},
		{"", ""},
		{"unknown", "unknown"},
		{"[::1]", "[::1]"},
		{"203.0.113.7:443", "203.0.113.7:443"},
	} {
		if got := clientKey(tc.ip); got != tc.want {
			t.Errorf("clientKey(%q) = %q, want %q", tc.ip, got, tc.want)
		}
		if got, ref := clientKey(tc.ip), netClientKey(tc.ip); got != ref {
			t.Errorf("clientKey(%q) = %q, but the net-based grouping gives %q", tc.ip, got, ref)
		}
	}
}

func TestClientKeyIPv4AllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = clientKey("198.51.100.23") }); n != 0 {
		t.Errorf("clientKey of an IPv4 address: %v allocations, want 0", n)
	}
}

// TestLimiterBuckets checks the token bucket: a burst, then one token per interval, per client
// group (an IPv6 /64 shares one bucket).
func TestLimiterBuckets(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(2, 2*time.Second, func() time.Time { return now })
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.allow("2001:db8::1"); ok != want {
			t.Fatalf("request %d: allowed %v, want %v", i+1, ok, want)
		}
	}
	if ok, wait := l.allow("2001:db8::2"); ok || wait != 2*time.Second {
		t.Errorf("same /64: allowed %v after %v, want refused for 2s", ok, wait)
	}
	if ok, _ := l.allow("2001:db8:0:1::1"); !ok {
		t.Error("another /64 was refused")
	}
	if ok, _ := l.allow("::ffff:192.0.2.1"); !ok {
		t.Error("a fresh IPv4 client was refused")
	}
	now = now.Add(2 * time.Second)
	if ok, _ := l.allow("2001:db8::3"); !ok {
		t.Error("no token after one interval")
	}
	if ok, _ := l.allow("2001:db8::3"); ok {
		t.Error("two tokens after one interval")
	}
}
