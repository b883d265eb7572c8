package invites

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
)

func TestPublicShow(t *testing.T) {
	e := newEnv(t, nil)
	exp := e.clock.Now().Add(48 * time.Hour)
	inv := e.create(t, invite.Spec{Label: "Summer", Enabled: true, AllowDownloads: true, MembershipDays: 30, ExpiresAt: &exp,
		Libraries: map[string][]string{testServerID: {"4", "8"}}})
	rec := e.public(t).Do("GET", "/"+inv.Code, web.RoleNone, nil)
	if rec.Code != 200 {
		t.Fatalf("show: %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{"Basement", "Movies, TV Shows", "Allowed", "30 days", `action="/j/` + inv.Code + `/join"`, "Join with Plex"} {
		if !strings.Contains(body, want) {
			t.Errorf("invite page lacks %q", want)
		}
	}
	if strings.Contains(body, "Music") {
		t.Error("the page offers a library the invite does not share")
	}
	// The code is case-insensitive, as stored.
	if rec := e.public(t).Do("GET", "/"+strings.ToUpper(inv.Code), web.RoleNone, nil); rec.Code != 200 {
		t.Errorf("upper-case code: %d", rec.Code)
	}
}

// TestUnusablePagesLookTheSame checks that unknown, malformed, disabled, expired and used-up codes
// all answer the same status and the same bytes, each after the same minimum delay.
func TestUnusablePagesLookTheSame(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.UnusableDelay = 40 * time.Millisecond })
	past := e.clock.Now().Add(time.Hour)
	disabled := e.create(t, invite.Spec{Code: "disabled-one", Enabled: false})
	expired := e.create(t, invite.Spec{Code: "expired-one", Enabled: true, ExpiresAt: &past})
	usedUp := e.create(t, invite.Spec{Code: "used-up-one", Enabled: true, MaxUses: 1})
	if _, err := e.store.ReserveInviteUse(usedUp.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour) // now the expiry has passed
	srv := e.public(t)
	var first []byte
	for _, code := range []string{"no-such-code", disabled.Code, expired.Code, usedUp.Code, "x", "a.b", "-ab", strings.Repeat("a", 80)} {
		for _, method := range []string{"GET", "POST"} {
			path := "/" + code
			var body io.Reader
			if method == "POST" {
				path += "/join"
				body = strings.NewReader("")
			}
			e.slept = nil
			rec := srv.Do(method, path, web.RoleNone, body)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", method, path, rec.Code)
			}
			if first == nil {
				first = rec.Body.Bytes()
			} else if !bytes.Equal(first, rec.Body.Bytes()) {
				t.Errorf("%s %s: the page differs from the unknown code's", method, path)
			}
			if len(e.slept) != 1 || e.slept[0] <= 0 || e.slept[0] > 40*time.Millisecond {
				t.Errorf("%s %s: padded by %v, want one wait up to 40ms", method, path, e.slept)
			}
		}
	}
}

func TestPublicRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RateBurst, o.RateEvery = 3, time.Second })
	srv := e.public(t)
	codes := []int{}
	for range 5 {
		codes = append(codes, srv.Do("GET", "/probe-code", web.RoleNone, nil).Code)
	}
	if codes[0] != 404 || codes[2] != 404 || codes[3] != http.StatusTooManyRequests || codes[4] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v", codes)
	}
	rec := srv.Do("GET", "/probe-code", web.RoleNone, nil)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another client is not affected; the bucket refills with time.
	if rec := srv.Do("GET", "/probe-code", web.RoleNone, nil, "X-Test", "1"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("same client: %d", rec.Code)
	}
	e.clock.Add(2 * time.Second)
	if rec := srv.Do("GET", "/probe-code", web.RoleNone, nil); rec.Code != 404 {
		t.Errorf("after refill: %d", rec.Code)
	}
}

func TestLimiterKeysAndEviction(t *testing.T) {
	clock := testclock.New(time.Unix(0, 0))
	l := newLimiter(1, time.Minute, clock.Now)
	if ok, _ := l.allow("2001:db8::1"); !ok {
		t.Fatal("first request refused")
	}
	if ok, _ := l.allow("2001:db8::2"); ok {
		t.Fatal("same /64 got a second bucket")
	}
	if ok, _ := l.allow("2001:db8:0:1::1"); !ok {
		t.Fatal("other /64 refused")
	}
	if ok, _ := l.allow("192.0.2.1"); !ok {
		t.Fatal("IPv4 refused")
	}
	if ok, wait := l.allow("192.0.2.1"); ok || wait < time.Second {
		t.Fatalf("second IPv4 request: ok=%t wait=%v", ok, wait)
	}
	for i := range maxBuckets + 10 {
		clock.Add(time.Millisecond)
		l.allow("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets kept, bound %d", n, maxBuckets)
	}
}

func TestJoinWithoutFlow(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Enabled: true})
	rec := e.public(t).Do("POST", "/"+inv.Code+"/join", web.RoleNone, strings.NewReader(""))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("join without a flow: %d", rec.Code)
	}
}

func TestCallbackWithoutCookie(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.create(t, invite.Spec{Enabled: true})
	e.feat.flow = &invite.Flow{}
	rec := e.public(t).Do("GET", "/"+inv.Code+"/callback?state=abc", web.RoleNone, nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "expired") {
		t.Fatalf("callback without cookie: %d", rec.Code)
	}
}

// TestPublicRoutesLeaveRoomForOtherFeatures mounts a feature with a "/literal/{param}" public route
// (as the status page's "/access/{token}") next to the invites feature: the handler must build,
// and each route must answer its own paths.
func TestPublicRoutesLeaveRoomForOtherFeatures(t *testing.T) {
	e := newEnv(t, nil)
	other := web.FeatureFunc(func(r web.Router) {
		r.Public("GET", "/access/{token}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "status "+r.PathValue("token")) })
	})
	srv := webtest.New(t, webtest.Options{Mode: web.ModeInvite, BasePath: "/j", Features: []web.Feature{e.feat, other}})
	if rec := srv.Do("GET", "/access/callback", web.RoleNone, nil); rec.Code != 200 || rec.Body.String() != "status callback" {
		t.Fatalf("other feature: %d %q", rec.Code, rec.Body.String())
	}
	if rec := srv.Do("GET", "/somecode/callback?state=x", web.RoleNone, nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("invite callback: %d", rec.Code)
	}
	if rec := srv.Do("GET", "/somecode/other", web.RoleNone, nil); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown action: %d", rec.Code)
	}
	if rec := srv.Do("POST", "/somecode/other", web.RoleNone, strings.NewReader("")); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown POST action: %d", rec.Code)
	}
}
