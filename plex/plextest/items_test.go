package plextest

import (
	"testing"
	"time"
)

// sessionMedia returns the Media element of the session with Session@id id
// in a /status/sessions document.
func sessionMedia(t *testing.T, doc xmlElem, id string) xmlElem {
	t.Helper()
	for _, item := range doc.Kids {
		for _, s := range item.all("Session") {
			if s.attr("id") == id {
				return item.all("Media")[0]
			}
		}
	}
	t.Fatalf("session %s not in the document", id)
	return xmlElem{}
}

// metadataItem fetches /library/metadata/{ratingKey} as XML and returns
// its item.
func metadataItem(t *testing.T, f *Fake, ratingKey, token string) xmlElem {
	t.Helper()
	r := do(t, f, req{method: "GET", path: "/library/metadata/" + ratingKey, token: token})
	mustStatus(t, r, 200)
	doc := decodeXML(t, r)
	if doc.attr("size") != "1" || len(doc.Kids) != 1 {
		t.Fatalf("metadata of %s = %+v", ratingKey, doc)
	}
	return doc.Kids[0]
}

func TestMetadataDescribesTheSourceWhileSessionsDescribeTheOutput(t *testing.T) {
	f := newFake(t, Options{})
	uhdTranscode := f.StartSession(MinimalMachineID, Session{AccountID: 22526914, Title: "Harbor Lights", VideoResolution: "4k", Transcode: true})
	uhdDirect := f.StartSession(MinimalMachineID, Session{AccountID: 22522496, Title: "Iron Meadow", VideoResolution: "4k"})
	hdTranscode := f.StartSession(MinimalMachineID, Session{AccountID: 31415926, Title: "Northbound", VideoResolution: "1080", Transcode: true})
	uhdTo4K := f.StartSession(MinimalMachineID, Session{AccountID: 1, Title: "Blue Hour", VideoResolution: "4k", Transcode: true, OutputResolution: "4k"})
	if uhdTranscode.OutputResolution != "1080" || hdTranscode.OutputResolution != "720" || uhdDirect.OutputResolution != "" {
		t.Fatalf("output defaults: %q %q %q", uhdTranscode.OutputResolution, hdTranscode.OutputResolution, uhdDirect.OutputResolution)
	}
	sessions := decodeXML(t, do(t, f, req{method: "GET", path: "/status/sessions", token: owner}))

	tests := []struct {
		s                Session
		stream, source   string
		streamW, sourceW string
		sourceCodec      string
	}{
		{uhdTranscode, "1080", "4k", "1920", "3840", "hevc"},
		{uhdDirect, "4k", "4k", "3840", "3840", "hevc"},
		{hdTranscode, "720", "1080", "1280", "1920", "h264"},
		{uhdTo4K, "4k", "4k", "3840", "3840", "hevc"},
	}
	for _, tt := range tests {
		t.Run(tt.s.Title, func(t *testing.T) {
			sm := sessionMedia(t, sessions, tt.s.ID)
			if sm.attr("videoResolution") != tt.stream || sm.attr("width") != tt.streamW {
				t.Errorf("session media = %s %s, want %s %s", sm.attr("videoResolution"), sm.attr("width"), tt.stream, tt.streamW)
			}
			if v := sm.all("Part")[0].all("Stream")[0]; v.attr("width") != tt.streamW {
				t.Errorf("session video stream width = %s, want the output's %s", v.attr("width"), tt.streamW)
			}
			item := metadataItem(t, f, tt.s.RatingKey, owner)
			if item.XMLName.Local != "Video" || item.attr("ratingKey") != tt.s.RatingKey || item.attr("title") != tt.s.Title ||
				item.attr("librarySectionID") != "4" || item.attr("type") != "movie" {
				t.Errorf("item = %+v", item.Attrs)
			}
			media := item.all("Media")
			if len(media) != 1 {
				t.Fatalf("%d versions", len(media))
			}
			m := media[0]
			if m.attr("id") != sm.attr("id") {
				t.Errorf("Media@id %s in metadata, %s in the session", m.attr("id"), sm.attr("id"))
			}
			if m.attr("videoResolution") != tt.source || m.attr("width") != tt.sourceW || m.attr("videoCodec") != tt.sourceCodec ||
				m.attr("bitrate") == "" || m.attr("container") != "mkv" {
				t.Errorf("source media = %+v", m.Attrs)
			}
			part, sessPart := m.all("Part")[0], sm.all("Part")[0]
			if part.attr("id") != sessPart.attr("id") || part.all("Stream")[0].attr("id") != sessPart.all("Stream")[0].attr("id") {
				t.Errorf("part/stream ids differ: %s/%s vs %s/%s", part.attr("id"), part.all("Stream")[0].attr("id"),
					sessPart.attr("id"), sessPart.all("Stream")[0].attr("id"))
			}
			if part.all("Stream")[0].attr("width") != tt.sourceW {
				t.Errorf("source video stream = %+v", part.all("Stream")[0].Attrs)
			}
		})
	}

	// JSON: the item under Metadata, Media/Part/Stream as arrays.
	r := do(t, f, req{method: "GET", path: "/library/metadata/" + uhdTranscode.RatingKey, token: owner, json: true})
	mustStatus(t, r, 200)
	var doc struct {
		MediaContainer struct {
			Size     int
			Metadata []struct {
				RatingKey string
				Type      string
				Media     []struct {
					ID              int64
					VideoResolution string
					Width           int
					Part            []struct {
						ID     int64
						Stream []struct{ StreamType int }
					}
				}
			}
		}
	}
	decodeJSON(t, r, &doc)
	md := doc.MediaContainer.Metadata
	if doc.MediaContainer.Size != 1 || len(md) != 1 || md[0].RatingKey != uhdTranscode.RatingKey || len(md[0].Media) != 1 ||
		md[0].Media[0].VideoResolution != "4k" || md[0].Media[0].Width != 3840 || len(md[0].Media[0].Part) != 1 ||
		len(md[0].Media[0].Part[0].Stream) != 2 || md[0].Media[0].Part[0].Stream[0].StreamType != 1 {
		t.Errorf("JSON metadata = %+v", doc)
	}
}

func TestMetadataVersions(t *testing.T) {
	f := newFake(t, Options{})
	// A movie kept in 4K and in 1080p; the player gets the 1080p file, transcoded.
	s := f.StartSession(MinimalMachineID, Session{AccountID: 22526914, Title: "Kingfisher", VideoResolution: "1080", OtherVersion: "4k", Transcode: true})
	item := metadataItem(t, f, s.RatingKey, owner)
	media := item.all("Media")
	if len(media) != 2 || media[0].attr("videoResolution") != "4k" || media[1].attr("videoResolution") != "1080" || media[0].attr("id") == media[1].attr("id") {
		t.Fatalf("versions = %+v", media)
	}
	sessions := decodeXML(t, do(t, f, req{method: "GET", path: "/status/sessions", token: owner}))
	if got := sessionMedia(t, sessions, s.ID); got.attr("id") != media[1].attr("id") || got.attr("videoResolution") != "720" {
		t.Errorf("session Media@id = %s (%s), want the 1080p version %s", got.attr("id"), got.attr("videoResolution"), media[1].attr("id"))
	}

	// A second viewer of the same item inherits its titles; without a
	// resolution they play its first version, with one they pick theirs.
	first := f.StartSession(MinimalMachineID, Session{AccountID: 22522496, RatingKey: s.RatingKey})
	chosen := f.StartSession(MinimalMachineID, Session{AccountID: 22522496, RatingKey: s.RatingKey, VideoResolution: "1080"})
	if first.Title != "Kingfisher" || first.VideoResolution != "4k" || first.LibraryKey != "4" || chosen.VideoResolution != "1080" {
		t.Errorf("second viewers = %+v / %+v", first, chosen)
	}
	sessions = decodeXML(t, do(t, f, req{method: "GET", path: "/status/sessions", token: owner}))
	if sessionMedia(t, sessions, first.ID).attr("id") != media[0].attr("id") || sessionMedia(t, sessions, chosen.ID).attr("id") != media[1].attr("id") {
		t.Error("the second viewers' Media@id do not name their versions")
	}
	// A new resolution on a known item adds a version; the item keeps its title.
	f.StartSession(MinimalMachineID, Session{RatingKey: s.RatingKey, VideoResolution: "720", Title: "Other title"})
	item = metadataItem(t, f, s.RatingKey, owner)
	if len(item.all("Media")) != 3 || item.all("Media")[2].attr("videoResolution") != "720" || item.attr("title") != "Kingfisher" {
		t.Errorf("after a 720 session: %d versions, title %q", len(item.all("Media")), item.attr("title"))
	}
}

func TestMetadataOfHistoryAndEndedItems(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f := newFake(t, Options{Now: func() time.Time { return now }})
	f.AddHistory(MinimalMachineID, HistoryItem{AccountID: 1, ViewedAt: now, Title: "Paper Moon Rising", RatingKey: "5001", VideoResolution: "720"})
	f.AddHistory(MinimalMachineID, HistoryItem{AccountID: 1, ViewedAt: now, Title: "Ember", Type: "track", RatingKey: "5002", VideoResolution: "4k"})
	f.AddHistory(MinimalMachineID, HistoryItem{AccountID: 1, ViewedAt: now, Title: "Pilot", GrandparentTitle: "Coastline", Type: "episode", RatingKey: "5003"})
	if h := f.History(MinimalMachineID); h[1].VideoResolution != "" || h[2].VideoResolution != "1080" {
		t.Errorf("history resolutions = %q, %q", h[1].VideoResolution, h[2].VideoResolution)
	}

	if m := metadataItem(t, f, "5001", owner).all("Media"); len(m) != 1 || m[0].attr("videoResolution") != "720" {
		t.Errorf("movie from history = %+v", m)
	}
	track := metadataItem(t, f, "5002", owner)
	if track.XMLName.Local != "Track" || track.all("Media")[0].attr("videoResolution") != "" || track.all("Media")[0].attr("audioCodec") != "mp3" {
		t.Errorf("track = %+v", track)
	}
	ep := metadataItem(t, f, "5003", owner)
	if ep.attr("grandparentTitle") != "Coastline" || ep.attr("librarySectionID") != "8" || ep.all("Media")[0].attr("videoResolution") != "1080" {
		t.Errorf("episode = %+v", ep.Attrs)
	}

	// The item stays in the library once its stream ended.
	s := f.StartSession(MinimalMachineID, Session{VideoResolution: "4k", Title: "Salt and Static"})
	if !f.EndSession(MinimalMachineID, s.ID) {
		t.Fatal("EndSession did not find the session")
	}
	if m := metadataItem(t, f, s.RatingKey, owner).all("Media"); m[0].attr("videoResolution") != "4k" {
		t.Errorf("ended item = %+v", m)
	}

	// Unknown items, bad tokens, other servers, other users.
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/999999", token: owner}), 404)
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/5001", token: "nope"}), 401)
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/5001"}), 401)
	other := f.AddServer(Server{Name: "Attic"})
	mustStatus(t, do(t, f, req{method: "GET", path: "/pms/" + other.MachineID + "/library/metadata/5001", token: owner}), 404)
	mustStatus(t, do(t, f, req{method: "GET", path: "/pms/" + MinimalMachineID + "/library/metadata/5001", token: MinimalServerToken}), 200)
	// carol has Movies only: the movie, not the episode; dave has no share.
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/5001", token: "carol-token"}), 200)
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/5003", token: "carol-token"}), 404)
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/5001", token: "dave-token"}), 401)
	if n := f.CallCount("GET /library/metadata/{ratingKey}"); n != 12 {
		t.Errorf("route count = %d, want 12", n)
	}
}

func TestEndSession(t *testing.T) {
	f := newFake(t, Options{})
	a := f.StartSession(MinimalMachineID, Session{AccountID: 22526914})
	b := f.StartSession(MinimalMachineID, Session{AccountID: 22522496})
	tests := []struct {
		machineID, id string
		want          bool
	}{
		{MinimalMachineID, a.ID, true},
		{MinimalMachineID, a.ID, false}, // already ended
		{MinimalMachineID, "no-such-session", false},
		{"no-such-server", b.ID, false},
	}
	for _, tt := range tests {
		if got := f.EndSession(tt.machineID, tt.id); got != tt.want {
			t.Errorf("EndSession(%s, %s) = %t, want %t", tt.machineID, tt.id, got, tt.want)
		}
	}
	if got := f.Sessions(MinimalMachineID); len(got) != 1 || got[0].ID != b.ID {
		t.Errorf("sessions = %+v", got)
	}
	if len(f.Terminations()) != 0 {
		t.Errorf("a player stopping was recorded as a termination: %+v", f.Terminations())
	}
	x := decodeXML(t, do(t, f, req{method: "GET", path: "/status/sessions", token: owner}))
	if x.attr("size") != "1" {
		t.Errorf("sessions document size = %s", x.attr("size"))
	}
}

func TestUpdateSession(t *testing.T) {
	f := newFake(t, Options{})
	s := f.StartSession(MinimalMachineID, Session{AccountID: 22526914, Title: "Harbor Lights", ViewOffset: 1000})

	got, ok := f.UpdateSession(MinimalMachineID, s.ID, func(x *Session) {
		x.ViewOffset, x.State = 600000, "paused"
		x.ID, x.MachineID, x.Key = "hijacked", "elsewhere", "" // kept / restored
	})
	if !ok || got.ID != s.ID || got.MachineID != MinimalMachineID || got.Key != s.Key || got.ViewOffset != 600000 || got.State != "paused" {
		t.Fatalf("UpdateSession = %+v, %t", got, ok)
	}
	doc := decodeXML(t, do(t, f, req{method: "GET", path: "/status/sessions", token: owner}))
	v := doc.all("Video")[0]
	if v.attr("viewOffset") != "600000" || v.all("Player")[0].attr("state") != "paused" || v.all("Session")[0].attr("id") != s.ID {
		t.Errorf("updated session = %+v", v.Attrs)
	}

	// Emptied fields get the defaults back; a new source resolution is a new version.
	got, _ = f.UpdateSession(MinimalMachineID, s.ID, func(x *Session) {
		x.State, x.Player = "", ""
		x.VideoResolution, x.Transcode = "4k", true
	})
	if got.State != "playing" || got.Player != "Chrome" || got.OutputResolution != "1080" {
		t.Errorf("defaults after update = %+v", got)
	}
	if m := metadataItem(t, f, s.RatingKey, owner).all("Media"); len(m) != 2 || m[1].attr("videoResolution") != "4k" {
		t.Errorf("versions after update = %+v", m)
	}

	for _, tt := range []struct {
		machineID, id string
		fn            func(*Session)
	}{
		{MinimalMachineID, "no-such-session", func(*Session) {}},
		{"no-such-server", s.ID, func(*Session) {}},
		{MinimalMachineID, s.ID, nil},
	} {
		if _, ok := f.UpdateSession(tt.machineID, tt.id, tt.fn); ok {
			t.Errorf("UpdateSession(%s, %s) succeeded", tt.machineID, tt.id)
		}
	}
}
