package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// TestSecurityHeadersExact checks every security header's exact value (what http.Header.Set
// wrote before they were prebuilt), that they replace earlier values, and that each response owns
// its values: editing one response's headers in place or appending to them reaches no other.
func TestSecurityHeadersExact(t *testing.T) {
	csp := contentSecurityPolicy([]string{"https://app.plex.tv"})
	sh := newSecurityHeaders(csp)
	want := http.Header{}
	want.Set("Content-Security-Policy", csp)
	want.Set("X-Content-Type-Options", "nosniff")
	want.Set("Referrer-Policy", "no-referrer")
	want.Set("X-Frame-Options", "DENY")
	want.Set("Cross-Origin-Opener-Policy", "same-origin")
	want.Set("Cross-Origin-Resource-Policy", "same-origin")
	want.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()")
	want.Set("X-Robots-Tag", "noindex, nofollow")
	want.Set("Cache-Control", "no-store")

	first := http.Header{"Cache-Control": {"public"}, "X-Frame-Options": {"SAMEORIGIN", "DENY"}, "Other": {"kept"}}
	sh.set(first)
	for k, v := range want {
		if got := first.Values(k); len(got) != 1 || got[0] != v[0] {
			t.Errorf("%s = %q, want [%q]", k, got, v[0])
		}
	}
	if len(first) != len(want)+1 || first.Get("Other") != "kept" {
		t.Errorf("other headers changed: %v", first)
	}
	first["X-Frame-Options"][0] = "ALLOWALL"
	first["Cache-Control"] = append(first["Cache-Control"], "max-age=60")
	first.Add("Referrer-Policy", "origin")

	second := http.Header{}
	sh.set(second)
	for k, v := range want {
		if got := second.Values(k); len(got) != 1 || got[0] != v[0] {
			t.Errorf("next response: %s = %q, want [%q]", k, got, v[0])
		}
	}
	if got := first.Values("Content-Security-Policy"); len(got) != 1 || got[0] != csp {
		t.Errorf("appending to Cache-Control changed the policy: %q", got)
	}
	if got := first.Values("Cross-Origin-Opener-Policy"); len(got) != 1 || got[0] != "same-origin" {
		t.Errorf("appending to Referrer-Policy changed its neighbour: %q", got)
	}
}

// TestAppNameFollowsTheStoreGeneration checks the app-name reuse of Deps.StoreGeneration: the name
// read is reused while the counter holds (so a write the counter missed would go unseen, which is
// why the counter must change with every write) and read again as soon as it moves. Without the
// counter every page reads the settings.
func TestAppNameFollowsTheStoreGeneration(t *testing.T) {
	st := storetest.Memory(t)
	setName := func(name string) {
		t.Helper()
		if _, err := updateAppSettings(st, func(a *AppSettings) error { a.AppName = name; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	var gen atomic.Uint64
	page := func(h *server) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("landing page: %d", rec.Code)
		}
		return rec.Body.String()
	}
	counted, err := newServer(Config{Mode: ModeInvite}, Deps{Store: st, StoreGeneration: gen.Load}, templates.Files())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := newServer(Config{Mode: ModeInvite}, Deps{Store: st}, templates.Files())
	if err != nil {
		t.Fatal(err)
	}
	setName("First Plex")
	gen.Add(1)
	for _, h := range []*server{counted, plain} {
		if body := page(h); !strings.Contains(body, "First Plex") {
			t.Fatalf("the page lacks the app name: %q", body)
		}
	}
	setName("Second Plex") // the counter is held still: only the counted handler keeps the old name
	if body := page(counted); !strings.Contains(body, "First Plex") {
		t.Errorf("with the counter unchanged the name was read again: %q", body)
	}
	if body := page(plain); !strings.Contains(body, "Second Plex") {
		t.Errorf("without a counter the new name is not shown: %q", body)
	}
	gen.Add(1)
	if body := page(counted); !strings.Contains(body, "Second Plex") || strings.Contains(body, "First Plex") {
		t.Errorf("after the counter moved: %q", body)
	}
	// An unreadable store gives the configured name, as before.
	_ = st.Close()
	gen.Add(1)
	if name := counted.appName(); name != "" {
		t.Errorf("closed store: app name %q, want empty", name)
	}
}
