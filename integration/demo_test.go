package integration

import (
	"net/http"
	"strings"
	"testing"
)

// TestDemoModeRunsTheFake loads a config like Caddyfile.demo (on the test ports): the app starts the
// embedded Plex fake on a loopback port, and both handlers answer.
func TestDemoModeRunsTheFake(t *testing.T) {
	tc := newTester(t)
	load(t, tc, globalOptions(t, `plex_manager {
	demo
	data_dir `+testDir(t, "demo")+`
	public_url http://localhost:9080
}`)+`
http://localhost:9080 {
	handle /join/* {
		plex_manager invite {
			base_path /join
		}
	}
	handle {
		plex_manager admin
	}
}
`)
	st := getAdminStatus(t)
	if !st.Demo || !strings.HasPrefix(st.DemoURL, "http://127.0.0.1:") {
		t.Fatalf("status = %+v, want demo with a loopback Plex URL", st)
	}
	code, body, _ := get(t, tc.Client, st.DemoURL+"/identity")
	if code != http.StatusOK || !strings.Contains(body, "machineIdentifier") {
		t.Fatalf("demo Plex /identity = %d %s", code, body)
	}
	if code, body, _ := get(t, tc.Client, baseURL+"/setup"); code != http.StatusOK {
		t.Errorf("setup page = %d: %.300s", code, body)
	}
	if code, body, _ := get(t, tc.Client, baseURL+"/join/"); code != http.StatusOK {
		t.Errorf("invite landing = %d: %.300s", code, body)
	}
}
