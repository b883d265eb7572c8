package access

import (
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestHealthAlertsALowDataDisk: the engine's health (dashboard banner, GET /health) says when the data
// disk is nearly full, before changes are refused, and says nothing when there is room.
func TestHealthAlertsALowDataDisk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		minFree  int64
		wantText string
	}{
		{"room", 1 << 20, ""},
		{"full", 1 << 62, "The data disk is full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := storage.Open(storage.DefaultOptions(dir, nil)) // creates the schema
			if err != nil {
				t.Fatal(err)
			}
			_ = st.Close()
			opts := storage.DefaultOptions(dir, nil)
			opts.MinFreeBytes = tc.minFree
			if st, err = storage.Open(opts); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			c, err := plex.New(plex.Config{TVURL: "http://127.0.0.1:1", ClientID: "disk-alert-test"})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := New(Options{Store: st, Plex: NewPlexGateway(c, func() string { return "" })})
			if err != nil {
				t.Fatal(err)
			}
			h, err := svc.Health()
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(h.Alerts, " | ")
			if tc.wantText == "" && strings.Contains(got, "data disk") || !strings.Contains(got, tc.wantText) {
				t.Errorf("alerts = %q, want %q", got, tc.wantText)
			}
		})
	}
}
