package discordbot

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRetryAfter(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name   string
		body   *float64
		header map[string]string
		want   time.Duration
	}{
		{"body seconds with a fraction", f(1.234), map[string]string{"Retry-After": "9"}, 1234 * time.Millisecond},
		{"body zero wins", f(0), map[string]string{"Retry-After": "9"}, 0},
		{"Retry-After header", nil, map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{"fractional Retry-After", nil, map[string]string{"Retry-After": " 0.25 "}, 250 * time.Millisecond},
		{"X-RateLimit-Reset-After", nil, map[string]string{"X-RateLimit-Reset-After": "64.57"}, 64570 * time.Millisecond},
		{"Retry-After before Reset-After", nil, map[string]string{"Retry-After": "2", "X-RateLimit-Reset-After": "5"}, 2 * time.Second},
		{"negative body ignored", f(-1), map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"NaN body ignored", f(math.NaN()), map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"infinite body ignored", f(math.Inf(1)), nil, 0},
		{"HTTP date ignored", nil, map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0},
		{"garbage ignored", nil, map[string]string{"Retry-After": "soon", "X-RateLimit-Reset-After": "1.5"}, 1500 * time.Millisecond},
		{"huge capped", f(1e300), nil, maxRetryAfter},
		{"huge header capped", nil, map[string]string{"Retry-After": "99999999999999999999"}, maxRetryAfter},
		{"nothing", nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			if got := retryAfter(tc.body, h); got != tc.want {
				t.Errorf("retryAfter = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFitContent(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "hello", "hello"},
		{"empty", "", ""},
		{"2000 ASCII", strings.Repeat("a", 2000), strings.Repeat("a", 2000)},
		{"2001 ASCII", strings.Repeat("a", 2001), strings.Repeat("a", 1999) + "…"},
		{"2000 four-byte characters", strings.Repeat("😀", 2000), strings.Repeat("😀", 2000)},
		{"2001 four-byte characters", strings.Repeat("😀", 2001), strings.Repeat("😀", 1999) + "…"},
		{"invalid bytes", "a\xff\xfeb", "a\uFFFDb"},
		{"invalid bytes past the limit", strings.Repeat("é", 1999) + "\xff\xffzz", strings.Repeat("é", 1999) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fitContent(tc.in)
			if got != tc.want {
				t.Errorf("fitContent: %d characters %q…, want %d characters", utf8.RuneCountInString(got), got[:min(len(got), 20)], utf8.RuneCountInString(tc.want))
			}
			if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxContentLength {
				t.Errorf("fitContent gave %d characters, valid UTF-8 %v", utf8.RuneCountInString(got), utf8.ValidString(got))
			}
		})
	}
}

func TestIsSnowflake(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"300000000000000001", true},
		{"1", true},
		{"18446744073709551615", true},
		{"18446744073709551616", false}, // beyond uint64
		{"0", false},
		{"0123", false},
		{"", false},
		{"+123", false},
		{"-123", false},
		{"12a", false},
		{"123/messages", false},
		{" 123", false},
	}
	for _, tc := range tests {
		if got := isSnowflake(tc.id); got != tc.want {
			t.Errorf("isSnowflake(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestChannelCache(t *testing.T) {
	c := newChannelCache(3)
	for i := range 5 {
		c.put(fmt.Sprint("u", i), fmt.Sprint("c", i))
	}
	if c.len() != 3 {
		t.Fatalf("%d entries, want 3", c.len())
	}
	for _, tc := range []struct {
		user, channel string
		ok            bool
	}{{"u0", "", false}, {"u1", "", false}, {"u2", "c2", true}, {"u4", "c4", true}} {
		if ch, ok := c.get(tc.user); ch != tc.channel || ok != tc.ok {
			t.Errorf("get(%s) = %q %v, want %q %v", tc.user, ch, ok, tc.channel, tc.ok)
		}
	}
	// u3 is now the least recently used.
	c.put("u5", "c5")
	if _, ok := c.get("u3"); ok {
		t.Error("the least recently used entry was kept")
	}
	c.put("u2", "c2b")
	if ch, _ := c.get("u2"); ch != "c2b" {
		t.Errorf("updated entry %q", ch)
	}
	c.remove("u2", "c2") // an older channel id: kept
	if _, ok := c.get("u2"); !ok {
		t.Error("remove dropped a newer channel")
	}
	c.remove("u2", "c2b")
	if _, ok := c.get("u2"); ok || c.len() != 2 {
		t.Errorf("remove kept the entry (%d entries)", c.len())
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{baseBackoff: 100 * time.Millisecond, maxWait: time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			got := c.backoff(attempt)
			if got < want*8/10 || got > min(want*12/10, c.maxWait) {
				t.Fatalf("backoff(%d) = %v, want %v ± 20 %% and at most %v", attempt, got, want, c.maxWait)
			}
		}
	}
	if got := c.backoff(200); got <= 0 || got > c.maxWait {
		t.Errorf("backoff(200) = %v", got)
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := newNonce()
		if len(n) != 20 || strings.Trim(n, "0123456789abcdefghijklmnopqrstuvwxyz") != "" || seen[n] {
			t.Fatalf("nonce %q (repeated: %v)", n, seen[n])
		}
		seen[n] = true
	}
}
