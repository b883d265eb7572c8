package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/internal/storetest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestClosedStoreAnswers503 checks that the handler's own pages and API answer a closed store
// (Caddy stopping or reloading) with 503 and Retry-After, never a 500 or a sign-in failure, and
// never show the error.
func TestClosedStoreAnswers503(t *testing.T) {
	hs := newHarness(t, harnessOptions{bootstrap: "pmk_bootstrap-key-0123456789abcdef"})
	b := hs.signedIn("root", storage.RoleAdmin)
	key := hs.apiKey(storage.RoleAdmin)
	if err := hs.store.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() (int, http.Header, string)
		json bool
	}{
		{"admins page", func() (int, http.Header, string) {
			rec := b.get("/admins")
			return rec.Code, rec.Header(), rec.Body.String()
		}, false},
		{"sign in", func() (int, http.Header, string) {
			rec := hs.browser().post("/login", url.Values{"username": {"root"}, "password": {testPassword}})
			return rec.Code, rec.Header(), rec.Body.String()
		}, false},
		{"API admins by key", func() (int, http.Header, string) {
			rec := hs.api("GET", "/admins", key, "")
			return rec.Code, rec.Header(), rec.Body.String()
		}, true},
		{"API status by the Caddyfile key", func() (int, http.Header, string) {
			rec := hs.api("GET", "/status", "pmk_bootstrap-key-0123456789abcdef", "")
			return rec.Code, rec.Header(), rec.Body.String()
		}, true},
		{"API admins by the Caddyfile key", func() (int, http.Header, string) {
			rec := hs.api("GET", "/admins", "pmk_bootstrap-key-0123456789abcdef", "")
			return rec.Code, rec.Header(), rec.Body.String()
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := tt.do()
			if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
				t.Fatalf("%d (Retry-After %q), want 503: %s", code, h.Get("Retry-After"), body)
			}
			if strings.Contains(body, "store is closed") {
				t.Errorf("the answer shows the error: %s", body)
			}
			if tt.json && !strings.Contains(body, "try again shortly") {
				t.Errorf("API answer %s", body)
			}
		})
	}
}

// TestDiskFullAnswers507 checks that on a full data disk (the store refuses every write) the
// handler's own writes answer 507 saying nothing was changed, while reads keep working.
func TestDiskFullAnswers507(t *testing.T) {
	const key = "pmk_bootstrap-key-0123456789abcdef"
	dir := t.TempDir()
	st, err := storage.Open(storage.Options{Dir: dir, ReserveBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	seed := newHarness(t, harnessOptions{store: st})
	seed.addAdmin("root", storage.RoleAdmin, true)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	full := storetest.FullDisk(t, dir)
	hs := newHarness(t, harnessOptions{store: full, bootstrap: key})

	rec := hs.api("POST", "/admins", key, `{"username":"newbie","role":"auditor","password":"`+testPassword+`"}`)
	if rec.Code != http.StatusInsufficientStorage ||
		strings.TrimSpace(rec.Body.String()) != `{"error":"data disk is full: nothing was changed; free disk space and try again"}` {
		t.Fatalf("creating an admin on a full disk: %d %s", rec.Code, rec.Body.String())
	}
	rec = hs.api("GET", "/admins", key, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"root"`) || strings.Contains(rec.Body.String(), "newbie") {
		t.Fatalf("reading admins on a full disk: %d %s", rec.Code, rec.Body.String())
	}
}
