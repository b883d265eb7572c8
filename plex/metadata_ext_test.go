package plex_test

import (
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// sessionByID finds a session in a list.
func sessionByID(t *testing.T, list []plex.Session, id string) plex.Session {
	t.Helper()
	for _, s := range list {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("session %s not listed", id)
	return plex.Session{}
}

func TestMetadataGivesTheSourceOfATranscode(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	uhd := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Harbor Lights", VideoResolution: "4k", Transcode: true})
	twoVersions := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, Title: "Kingfisher", Type: "episode",
		GrandparentTitle: "Coastline", VideoResolution: "1080", OtherVersion: "4k", Transcode: true})
	direct := e.fake.StartSession(machineID, plextest.Session{AccountID: carolID, VideoResolution: "4k"})
	s := e.client.Server(e.fake.ServerURL(machineID), e.token)
	list, err := s.Sessions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		fake             plextest.Session
		stream, source   string
		versions         int
		sourceW, sourceH int
	}{
		{uhd, "1080", "4k", 1, 3840, 2160},
		{twoVersions, "720", "1080", 2, 1920, 1080},
		{direct, "4k", "4k", 1, 3840, 2160},
	}
	for _, tt := range tests {
		t.Run(tt.fake.Title, func(t *testing.T) {
			sess := sessionByID(t, list, tt.fake.ID)
			if sess.Media.Resolution != tt.stream || sess.Media.ID == "" {
				t.Errorf("session media = %+v, want resolution %s and an id", sess.Media, tt.stream)
			}
			m, err := s.Metadata(ctx(t), sess.RatingKey)
			if err != nil {
				t.Fatal(err)
			}
			if m.RatingKey != sess.RatingKey || m.Title != sess.Title || m.Type != sess.Type || m.LibraryKey != sess.LibraryKey ||
				len(m.Media) != tt.versions || m.Duration <= 0 {
				t.Errorf("metadata = %+v", m)
			}
			v, ok := m.Version(sess.Media.ID)
			if !ok || v.ID != sess.Media.ID || v.Resolution != tt.source || v.Width != tt.sourceW || v.Height != tt.sourceH ||
				v.Bitrate == 0 || v.Container == "" || v.VideoCodec == "" {
				t.Errorf("source version = %+v, %t; want %s %dx%d", v, ok, tt.source, tt.sourceW, tt.sourceH)
			}
		})
	}
	if got := e.lastCall(t, "GET /library/metadata/{ratingKey}"); got.Header.Get("Accept") != "application/json" || got.Path != "/library/metadata/"+direct.RatingKey {
		t.Errorf("request = %s with Accept %q", got.Path, got.Header.Get("Accept"))
	}
	// The first version of the two-version item is the 4K file: reading the
	// first Media instead of matching Media@id would have been wrong.
	m, err := s.Metadata(ctx(t), twoVersions.RatingKey)
	if err != nil || m.Media[0].Resolution != "4k" {
		t.Errorf("versions = %+v, %v", m.Media, err)
	}
}

func TestMetadataXMLFallbackAndFailures(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	played := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, VideoResolution: "720"})
	s := e.client.Server(e.fake.ServerURL(machineID), e.token)
	const route = "GET /library/metadata/{ratingKey}"

	// A server that ignores Accept answers XML.
	e.fake.Inject(plextest.Fault{Route: route, Status: 200, Count: 1,
		Body: `<?xml version="1.0" encoding="UTF-8"?><MediaContainer size="1"><Video ratingKey="` + played.RatingKey +
			`" type="movie" title="X"><Media id="7" videoResolution="720" width="1280" height="720"/></Video></MediaContainer>`})
	m, err := s.Metadata(ctx(t), played.RatingKey)
	if err != nil || m.Title != "X" || len(m.Media) != 1 || m.Media[0].Resolution != "720" {
		t.Errorf("XML answer = %+v, %v", m, err)
	}

	// Unknown item.
	pe := wantKind(t, errOf(s.Metadata(ctx(t), "999999")), plex.ErrNotFound)
	if pe.Status != 404 || pe.Endpoint != "GET {pms}/library/metadata/{ratingKey}" || strings.Contains(pe.Error(), "999999") {
		t.Errorf("404 error = %+v (%v)", pe, pe)
	}
	// A 200 without an item is not found either.
	e.fake.Inject(plextest.Fault{Route: route, Status: 200, Count: 1, Body: `{"MediaContainer":{"size":0}}`})
	wantKind(t, errOf(s.Metadata(ctx(t), played.RatingKey)), plex.ErrNotFound)
	// Unreadable answers.
	e.fake.Inject(plextest.Fault{Route: route, Status: 200, Count: 1, Body: `{"MediaContainer":{"Metadata":[{"title":"no key"}]}}`})
	wantKind(t, errOf(s.Metadata(ctx(t), played.RatingKey)), plex.ErrBadResponse)
	e.fake.Inject(plextest.Fault{Route: route, Status: 200, Count: 1, Body: `<html>maintenance</html>`})
	wantKind(t, errOf(s.Metadata(ctx(t), played.RatingKey)), plex.ErrBadResponse)
	// Server errors are retried, then reported offline.
	before := e.fake.CallCount(route)
	e.fake.Inject(plextest.Fault{Route: route, Status: 503, Count: 3})
	wantKind(t, errOf(s.Metadata(ctx(t), played.RatingKey)), plex.ErrOffline)
	if n := e.fake.CallCount(route) - before; n != 3 {
		t.Errorf("%d attempts, want 3 (1 + 2 retries)", n)
	}
	// One failure then success: the retry gets the item.
	e.fake.Inject(plextest.Fault{Route: route, Status: 500, Count: 1})
	if _, err := s.Metadata(ctx(t), played.RatingKey); err != nil {
		t.Errorf("after one 500: %v", err)
	}
	// A bad token.
	wantKind(t, errOf(e.client.Server(e.fake.ServerURL(machineID), "bad-token").Metadata(ctx(t), played.RatingKey)), plex.ErrUnauthorized)

	// Refused before any call.
	before = e.fake.CallCount(route)
	for _, bad := range []string{"", "..", "1/2", "1?X-Plex-Token=x", " 1"} {
		wantKind(t, errOf(s.Metadata(ctx(t), bad)), plex.ErrInvalidArgument)
	}
	wantKind(t, errOf(e.client.Server(e.fake.ServerURL(machineID), "").Metadata(ctx(t), "1")), plex.ErrInvalidArgument)
	wantKind(t, errOf(e.client.Server("ftp://x", e.token).Metadata(ctx(t), "1")), plex.ErrInvalidArgument)
	if n := e.fake.CallCount(route) - before; n != 0 {
		t.Errorf("%d calls for refused arguments", n)
	}
}

// errOf drops a value and keeps the error.
func errOf[T any](_ T, err error) error { return err }
