package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/plex-manager/caddy-plex-manager"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// Ports caddytest uses.
const (
	adminAddr = "localhost:2999"
	baseURL   = "http://localhost:9080"
)

// globalOptions is the preamble every test config needs: caddytest's admin port, test ports, no
// autosave, and Caddy's own storage in a temp dir.
func globalOptions(t testing.TB, pluginBlock string) string {
	t.Helper()
	return fmt.Sprintf(`{
	skip_install_trust
	admin %s
	http_port 9080
	https_port 9443
	grace_period 1ns
	persist_config off
	storage file_system %s
%s
}
`, adminAddr, testDir(t, "caddy-storage"), indent(pluginBlock))
}

// testDir returns a fresh directory that outlives the test. Caddy keeps the last loaded config (and its
// open Badger store) running after a test returns, until the next test loads its own; a t.TempDir would
// be deleted under the running store. TestMain's parent process removes the whole tree at the end.
func testDir(t testing.TB, name string) string {
	t.Helper()
	root := os.Getenv("XDG_DATA_HOME")
	if root == "" {
		t.Fatal("XDG_DATA_HOME is not set; TestMain should have set it")
	}
	dir, err := os.MkdirTemp(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "\t" + l
		}
	}
	return strings.Join(lines, "\n")
}

// newTester returns a caddytest client that does not follow redirects.
func newTester(t *testing.T) *caddytest.Tester {
	t.Helper()
	tc := caddytest.NewTester(t)
	tc.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return tc
}

// load loads a Caddyfile and fails the test at once if it does not load.
func load(t *testing.T, tc *caddytest.Tester, caddyfile string) {
	t.Helper()
	tc.InitServer(caddyfile, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

// get performs a GET and returns status and body.
func get(t *testing.T, c *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, string(body), resp.Header
}

// adminStatus reads the admin API's /plex_manager/status.
type adminStatus struct {
	Version  string `json:"version"`
	DataDir  string `json:"data_dir"`
	Demo     bool   `json:"demo"`
	DemoURL  string `json:"demo_plex_url"`
	Workers  int    `json:"workers"`
	ClientID string `json:"client_id"`
	Starts   int    `json:"starts"`
}

func getAdminStatus(t *testing.T) adminStatus {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	code, body, _ := get(t, c, "http://"+adminAddr+"/plex_manager/status")
	if code != http.StatusOK {
		t.Fatalf("admin status: %d %s", code, body)
	}
	var s adminStatus
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("admin status: %v: %s", err, body)
	}
	return s
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// fakeAppConfig runs the app against a plextest fake (its first server) with a bootstrap API key; extra
// lines go inside the plex_manager block. The admin handler is mounted at /manage, the invite handler at
// the site root.
func fakeAppConfig(t *testing.T, fake *plextest.Fake, apiKey, extra string) string {
	t.Helper()
	block := pluginBlock(testDir(t, "pm"), fake.OwnerToken(), fake.ServerURL(plextest.MinimalMachineID), fake.TVURL(), fake.AuthURL(), apiKey, extra)
	return globalOptions(t, block) + `
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

// callAPI calls {base}/manage/api/v1 with a bearer key and returns status and body.
func callAPI(t *testing.T, c *http.Client, key, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, baseURL+"/manage/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// extraLines indents extra config lines for the plex_manager block ("" stays "").
func extraLines(extra string) string {
	if extra == "" {
		return ""
	}
	return indent(extra) + "\n"
}

// pluginBlock is a plex_manager global option on dataDir talking to the Plex at the given URLs with
// the bootstrap apiKey; extra lines go inside the block.
func pluginBlock(dataDir, ownerToken, serverURL, tvURL, authURL, apiKey, extra string) string {
	return fmt.Sprintf(`plex_manager {
	data_dir %s
	public_url http://localhost:9080
	plex {
		token %s
		server %s
		tv_url %s
		auth_url %s
	}
	api_key %s
%s}`, dataDir, ownerToken, serverURL, tvURL, authURL, apiKey, extraLines(extra))
}

// newRequest builds a request to Caddy at path. body: url.Values (a form), string (JSON; "" = no body)
// or []byte (sent as is, with the Content-Type given in headers). headers are name/value pairs.
func newRequest(t *testing.T, ctx context.Context, method, path string, body any, headers ...string) *http.Request {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		if b != "" {
			rd, ctype = strings.NewReader(b), "application/json"
		}
	case []byte:
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}
