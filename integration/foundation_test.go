package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// twoMountsConfig serves the admin UI under /manage and the invite pages at the root of one host.
func twoMountsConfig(t *testing.T, dataDir string) string {
	return globalOptions(t, `plex_manager {
	data_dir `+dataDir+`
	public_url http://localhost:9080
}`) + `
http://localhost:9080 {
	handle /manage/* {
		plex_manager admin {
			base_path /manage
		}
	}
	handle {
		plex_manager invite
	}
}
`
}

func TestHandlerAnswersInBothModesAndUnderBasePath(t *testing.T) {
	tc := newTester(t)
	load(t, tc, twoMountsConfig(t, testDir(t, "pm")))

	cases := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"fresh admin goes to setup", "/manage/", http.StatusSeeOther, ""},
		{"setup page under base path", "/manage/setup", http.StatusOK, `href="/manage/`},
		{"admin health under base path", "/manage/healthz", http.StatusOK, `"status":"ok"`},
		{"invite landing at root", "/", http.StatusOK, "invite"},
		{"invite health at root", "/healthz", http.StatusOK, `"status":"ok"`},
		{"unknown invite code", "/this-code-does-not-exist", http.StatusNotFound, ""},
		{"unknown admin path", "/manage/no-such-page", http.StatusNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, hdr := get(t, tc.Client, baseURL+c.path)
			if code != c.status {
				t.Fatalf("GET %s = %d, want %d; body: %.300s", c.path, code, c.status, body)
			}
			if c.status == http.StatusSeeOther && hdr.Get("Location") != "/manage/setup" {
				t.Errorf("GET %s: Location %q, want /manage/setup", c.path, hdr.Get("Location"))
			}
			if c.contains != "" && !strings.Contains(body, c.contains) {
				t.Errorf("GET %s: body lacks %q: %.500s", c.path, c.contains, body)
			}
			if hdr.Get("Content-Security-Policy") == "" {
				t.Errorf("GET %s: no Content-Security-Policy header", c.path)
			}
		})
	}
}

func TestHealthReportsStore(t *testing.T) {
	tc := newTester(t)
	load(t, tc, twoMountsConfig(t, testDir(t, "pm")))
	code, body, _ := get(t, tc.Client, baseURL+"/manage/healthz")
	if code != http.StatusOK {
		t.Fatalf("healthz = %d: %s", code, body)
	}
	var h struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("healthz body: %v: %s", err, body)
	}
	if h.Status != "ok" || h.Checks["store"] != "ok" {
		t.Errorf("healthz = %+v, want status ok and store ok", h)
	}
}

// TestReloadKeepsDataAndSharesTheStore loads a config, then a different config on the same data
// directory, then the first again: each load provisions the new config while the old one still holds the
// Badger directory, so without the shared handle the second load would fail on the directory lock. The
// persisted client identifier and the start counter show the data was kept.
func TestReloadKeepsDataAndSharesTheStore(t *testing.T) {
	tc := newTester(t)
	dataDir := testDir(t, "pm")

	load(t, tc, twoMountsConfig(t, dataDir))
	first := getAdminStatus(t)
	if first.ClientID == "" || first.Starts < 1 {
		t.Fatalf("after first load: %+v", first)
	}

	// A different config (admin at the root this time) on the same data directory.
	second := globalOptions(t, `plex_manager {
	data_dir `+dataDir+`
	sync_every 20m
}`) + `
http://localhost:9080 {
	respond /robots.txt "no robots" 200
	plex_manager admin
}
`
	load(t, tc, second)
	// The directive is ordered after respond, so a respond in the same site still answers first.
	if code, body, _ := get(t, tc.Client, baseURL+"/robots.txt"); code != http.StatusOK || body != "no robots" {
		t.Errorf("GET /robots.txt = %d %q, want the respond directive's answer", code, body)
	}
	afterReload := getAdminStatus(t)
	if afterReload.ClientID != first.ClientID {
		t.Errorf("client id changed across reload: %q → %q", first.ClientID, afterReload.ClientID)
	}
	if afterReload.Starts != first.Starts+1 {
		t.Errorf("starts after reload = %d, want %d", afterReload.Starts, first.Starts+1)
	}
	code, body, _ := get(t, tc.Client, baseURL+"/healthz")
	if code != http.StatusOK {
		t.Fatalf("admin at root after reload: %d %s", code, body)
	}

	load(t, tc, twoMountsConfig(t, dataDir))
	third := getAdminStatus(t)
	if third.ClientID != first.ClientID || third.Starts != first.Starts+2 {
		t.Errorf("after third load: %+v, first %+v", third, first)
	}
	if third.Workers < 1 {
		t.Errorf("workers = %d after reload, want the new config's workers running", third.Workers)
	}
}
