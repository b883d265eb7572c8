package plex_test

import (
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

func TestUpdateShareAll(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	const aliceShare = 907759180
	if s, _ := e.fake.ShareOf(machineID, aliceID); s.AllLibraries {
		t.Fatalf("seed: alice already has every library: %+v", s)
	}
	settings := plex.ShareSettings{AllowSync: true, Filters: plex.Filters{Television: "label!=adult"}}
	if err := e.client.UpdateShareAll(ctx(t), e.token, machineID, aliceShare, settings); err != nil {
		t.Fatal(err)
	}
	call := e.lastCall(t, "POST /api/v2/shared_servers/{id}")
	want := `{"settings":{"allowSync":true,"allowCameraUpload":false,"allowChannels":false,"allowTuners":0,"allowSubtitleAdmin":false,` +
		`"filterMovies":"","filterTelevision":"label!=adult","filterMusic":"","filterPhotos":null,"filterAll":null},"librarySectionIds":[]}`
	if string(call.Body) != want || call.Path != "/api/v2/shared_servers/907759180" {
		t.Errorf("%s body\n got %s\nwant %s", call.Path, call.Body, want)
	}
	if s, _ := e.fake.ShareOf(machineID, aliceID); !s.AllLibraries || !s.AllowSync || s.FilterTelevision != "label!=adult" {
		t.Errorf("fake share = %+v", s)
	}

	// Bad arguments make no call.
	e.fake.ResetCalls()
	for _, c := range []struct {
		name     string
		token    string
		machine  string
		share    int64
		settings plex.ShareSettings
	}{
		{"no token", "", machineID, aliceShare, settings},
		{"no server", e.token, " ", aliceShare, settings},
		{"no share id", e.token, machineID, 0, settings},
		{"bad filter", e.token, machineID, aliceShare, plex.ShareSettings{Filters: plex.Filters{Movies: "no operator"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantKind(t, e.client.UpdateShareAll(ctx(t), c.token, c.machine, c.share, c.settings), plex.ErrInvalidArgument)
		})
	}
	if n := len(e.fake.Calls()); n != 0 {
		t.Errorf("refused updates made %d calls", n)
	}

	// An unknown share is ErrNotFound.
	wantKind(t, e.client.UpdateShareAll(ctx(t), e.token, machineID, 123, settings), plex.ErrNotFound)

	// No legacy fallback: the v1 route has no "every library", so the refusal is the answer.
	e.fake.Retire("POST /api/v2/shared_servers/{id}")
	if err := e.client.UpdateShareAll(ctx(t), e.token, machineID, aliceShare, settings); err == nil {
		t.Fatal("no error with the v2 route retired")
	}
	if n := len(e.calls("PUT /api/servers/{machineId}/shared_servers/{id}")); n != 0 {
		t.Errorf("%d legacy updates, want none", n)
	}
}
