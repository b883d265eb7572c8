package plextest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"
)

func TestSessionsAndTerminate(t *testing.T) {
	f := newFake(t, Options{})
	tc := f.StartSession(MinimalMachineID, Session{AccountID: 22526914, Title: "Harbor Lights", VideoResolution: "4k", Transcode: true})
	dp := f.StartSession(MinimalMachineID, Session{AccountID: 1, Type: "episode", Title: "Shiva", GrandparentTitle: "Talking Dead", Local: true})
	tr := f.StartSession(MinimalMachineID, Session{AccountID: 22522496, Type: "track", Title: "Ember"})

	x := decodeXML(t, do(t, f, req{method: "GET", path: "/status/sessions", token: owner}))
	if x.attr("size") != "3" || len(x.all("Video")) != 2 || len(x.all("Track")) != 1 {
		t.Fatalf("sessions = %+v", x)
	}
	v := x.all("Video")[0]
	if v.all("User")[0].attr("id") != "22526914" || v.all("Session")[0].attr("id") != tc.ID ||
		v.all("TranscodeSession")[0].attr("videoDecision") != "transcode" ||
		v.all("TranscodeSession")[0].attr("sourceVideoCodec") != "hevc" ||
		v.all("Media")[0].all("Part")[0].attr("decision") != "transcode" ||
		v.all("Media")[0].attr("videoResolution") != "1080" ||
		v.all("Media")[0].all("Part")[0].all("Stream")[0].attr("height") != "1080" {
		t.Fatalf("4K transcode session = %+v", v)
	}
	d := x.all("Video")[1]
	if d.all("User")[0].attr("id") != "1" || d.all("User")[0].attr("title") != "owner" || len(d.all("TranscodeSession")) != 0 ||
		d.all("Media")[0].all("Part")[0].attr("decision") != "directplay" || d.all("Player")[0].attr("local") != "1" ||
		d.attr("librarySectionID") != "8" || d.attr("grandparentTitle") != "Talking Dead" {
		t.Fatalf("direct play session = %+v", d)
	}

	// JSON: items under Metadata, User/Player/Session objects.
	r := do(t, f, req{method: "GET", path: "/status/sessions", token: owner, json: true})
	var doc struct {
		MediaContainer struct {
			Size     int
			Metadata []struct {
				Type    string
				User    struct{ ID int64 }
				Session struct{ ID string }
				Media   []struct{ Part []struct{ Decision string } }
			}
		}
	}
	decodeJSON(t, r, &doc)
	if doc.MediaContainer.Size != 3 || doc.MediaContainer.Metadata[2].Type != "track" ||
		doc.MediaContainer.Metadata[0].Session.ID != tc.ID || doc.MediaContainer.Metadata[1].User.ID != 1 {
		t.Fatalf("JSON sessions = %+v", doc)
	}

	mustStatus(t, do(t, f, req{method: "GET", path: "/status/sessions/terminate?sessionId=" + tc.Key + "&reason=x", token: owner}), 404)
	mustStatus(t, do(t, f, req{method: "GET", path: "/status/sessions/terminate?sessionId=" + tc.ID + "&reason=The%20server%20owner%20has%20ended%20the%20stream.", token: owner}), 200)
	mustStatus(t, do(t, f, req{method: "POST", path: "/status/sessions/terminate?sessionId=" + tr.ID + "&reason=bye", token: MinimalServerToken}), 200)
	got := f.Sessions(MinimalMachineID)
	if len(got) != 1 || got[0].ID != dp.ID {
		t.Fatalf("sessions after terminate = %+v", got)
	}
	terms := f.Terminations()
	if len(terms) != 2 || terms[0].SessionID != tc.ID || terms[0].Reason != "The server owner has ended the stream." || terms[1].Reason != "bye" {
		t.Fatalf("terminations = %+v", terms)
	}
}

func TestHistoryFiltersAndPaging(t *testing.T) {
	base := time.Unix(1700000000, 0).UTC()
	f := newFake(t, Options{})
	for i := 0; i < 450; i++ {
		acc := int64(1)
		if i%3 == 0 {
			acc = 22526914
		}
		lib := "4"
		if i%2 == 0 {
			lib = "8"
		}
		f.AddHistory(MinimalMachineID, HistoryItem{AccountID: acc, ViewedAt: base.Add(time.Duration(i) * time.Hour),
			Title: fmt.Sprint("item ", i), LibraryKey: lib, Type: map[string]string{"4": "movie", "8": "episode"}[lib]})
	}
	count := func(q string, hdr map[string]string) (xmlElem, resp) {
		t.Helper()
		r := do(t, f, req{method: "GET", path: "/status/sessions/history/all?" + q, token: owner, header: hdr})
		mustStatus(t, r, 200)
		return decodeXML(t, r), r
	}
	x, r := count("", nil)
	if x.attr("totalSize") != "450" || x.attr("size") != "200" || r.header.Get("X-Plex-Container-Total-Size") != "450" {
		t.Fatalf("page cap: size=%s total=%s", x.attr("size"), x.attr("totalSize"))
	}
	x, _ = count("accountID=22526914", nil)
	if x.attr("totalSize") != "150" {
		t.Fatalf("accountID filter total = %s", x.attr("totalSize"))
	}
	cut := base.Add(400 * time.Hour).Unix()
	for _, tt := range []struct {
		q    string
		want string
	}{
		{fmt.Sprintf("viewedAt>=%d", cut), "50"},
		{fmt.Sprintf("viewedAt>%d", cut), "49"},
		{fmt.Sprintf("viewedAt<%d", cut), "400"},
		{fmt.Sprintf("viewedAt>=%d&accountID=1&librarySectionID=4", cut), fmt.Sprint(countMatching(400, 450))},
	} {
		x, _ = count(tt.q, nil)
		if x.attr("totalSize") != tt.want {
			t.Fatalf("%s: total = %s, want %s", tt.q, x.attr("totalSize"), tt.want)
		}
	}
	// Paging by header and by query, newest first.
	x, r = count("sort=viewedAt:desc", map[string]string{"X-Plex-Container-Start": "440", "X-Plex-Container-Size": "50"})
	items := x.all("Video")
	if x.attr("offset") != "440" || x.attr("size") != "10" || len(items) != 10 || r.header.Get("X-Plex-Container-Start") != "440" {
		t.Fatalf("last page: offset=%s size=%s n=%d", x.attr("offset"), x.attr("size"), len(items))
	}
	if items[9].attr("title") != "item 0" {
		t.Fatalf("desc order ends with %q", items[9].attr("title"))
	}
	x, _ = count("sort=viewedAt%3Adesc&X-Plex-Container-Start=0&X-Plex-Container-Size=2", nil)
	if v := x.all("Video"); len(v) != 2 || v[0].attr("title") != "item 449" || v[0].attr("accountID") != "1" {
		t.Fatalf("first desc page = %+v", v)
	}
	x, _ = count("X-Plex-Container-Size=0", nil)
	if x.attr("size") != "0" || x.attr("totalSize") != "450" {
		t.Fatalf("size 0 = %+v", x.Attrs)
	}
	// A friend's share token sees only their own history.
	alice := shareOf(t, f, 22526914, "")
	r = do(t, f, req{method: "GET", path: "/status/sessions/history/all", token: alice.AccessToken, json: true})
	mustStatus(t, r, 200)
	var doc struct{ MediaContainer struct{ TotalSize int } }
	decodeJSON(t, r, &doc)
	if doc.MediaContainer.TotalSize != 150 {
		t.Fatalf("alice sees %d items", doc.MediaContainer.TotalSize)
	}
}

// countMatching counts items i in [from, n) with accountID 1 and library 4.
func countMatching(from, n int) int {
	c := 0
	for i := from; i < n; i++ {
		if i%3 != 0 && i%2 != 0 {
			c++
		}
	}
	return c
}

func TestPMSDocuments(t *testing.T) {
	f := newFake(t, Options{})
	id := decodeXML(t, do(t, f, req{method: "GET", path: "/identity"}))
	if id.attr("machineIdentifier") != MinimalMachineID || id.attr("claimed") != "1" {
		t.Fatalf("identity = %+v", id)
	}
	r := do(t, f, req{method: "GET", path: "/identity", json: true})
	if !strings.Contains(r.body, `{"MediaContainer":{"size":0,"claimed":true,"machineIdentifier":"`+MinimalMachineID) {
		t.Fatalf("identity JSON = %s", r.body)
	}
	root := decodeXML(t, do(t, f, req{method: "GET", path: "/", token: owner}))
	if root.attr("friendlyName") != "Basement" || root.attr("myPlexSubscription") != "1" || !strings.Contains(root.attr("ownerFeatures"), "webhooks") {
		t.Fatalf("root = %+v", root.Attrs)
	}
	libs := decodeXML(t, do(t, f, req{method: "GET", path: "/library/sections", token: owner}))
	if ds := libs.all("Directory"); len(ds) != 3 || ds[1].attr("key") != "4" || ds[1].attr("type") != "movie" {
		t.Fatalf("sections = %+v", ds)
	}
	// carol's token sees only her shared Movies.
	carol := shareOf(t, f, 31415926, "")
	libs = decodeXML(t, do(t, f, req{method: "GET", path: "/library/sections", token: carol.AccessToken}))
	if ds := libs.all("Directory"); len(ds) != 1 || ds[0].attr("title") != "Movies" {
		t.Fatalf("carol's sections = %+v", ds)
	}
	accs := decodeXML(t, do(t, f, req{method: "GET", path: "/accounts", token: owner}))
	var ids []string
	for _, a := range accs.all("Account") {
		ids = append(ids, a.attr("id"))
	}
	if strings.Join(ids, ",") != "0,1,22522496,22526914,31415926" {
		t.Fatalf("accounts = %v", ids)
	}
	for _, p := range []string{"/library/metadata/1264/thumb/1700000000", "/library/metadata/1264/art/1"} {
		r := do(t, f, req{method: "GET", path: p, token: owner})
		mustStatus(t, r, 200)
		img, err := png.Decode(bytes.NewReader([]byte(r.body)))
		if err != nil || img.Bounds().Dx() == 0 || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: not a PNG: %v", p, err)
		}
	}
	mustStatus(t, do(t, f, req{method: "GET", path: "/library/metadata/1/thumb/1"}), 401)
}

func TestSeedDemo(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := SeedDemo(DemoOptions{Seed: 42, Now: now})
	b := SeedDemo(DemoOptions{Seed: 42, Now: now})
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("SeedDemo is not deterministic")
	}
	c := SeedDemo(DemoOptions{Seed: 43, Now: now})
	jc, _ := json.Marshal(c)
	if bytes.Equal(ja, jc) {
		t.Fatal("different seeds gave the same data")
	}
	f := newFake(t, Options{Seed: a, Now: func() time.Time { return now }})
	if n := len(f.Servers()); n != 3 {
		t.Fatalf("servers = %d", n)
	}
	var friends, home, managed int
	for _, acc := range f.Accounts() {
		switch {
		case acc.Managed:
			managed++
		case acc.Home && acc.ID != MinimalOwnerID:
			home++
		case acc.Friend:
			friends++
		}
	}
	if friends != 40 || home != 2 || managed != 2 {
		t.Fatalf("friends=%d home=%d managed=%d", friends, home, managed)
	}
	var pendingEmail, pendingUser, all, filtered, sync int
	for _, s := range f.Shares() {
		switch {
		case s.Pending && s.UserID == 0:
			pendingEmail++
		case s.Pending:
			pendingUser++
		}
		if s.AllLibraries {
			all++
		}
		if s.FilterMovies != "" {
			filtered++
		}
		if s.AllowSync {
			sync++
		}
	}
	if pendingEmail < 1 || pendingUser < 1 || all < 5 || filtered < 5 || sync < 5 {
		t.Fatalf("pendingEmail=%d pendingUser=%d all=%d filtered=%d sync=%d", pendingEmail, pendingUser, all, filtered, sync)
	}
	var sawTranscode4K, sawDirect bool
	for _, s := range f.Sessions(MinimalMachineID) {
		sawTranscode4K = sawTranscode4K || (s.Transcode && s.VideoResolution == "4k")
		sawDirect = sawDirect || (!s.Transcode && s.Type == "movie")
	}
	if !sawTranscode4K || !sawDirect {
		t.Fatal("demo lacks a 4K transcode or a direct play")
	}
	// History: spans about 120 days, and some friends stopped long ago.
	last := map[int64]time.Time{}
	oldest := now
	for _, s := range f.Servers() {
		for _, h := range f.History(s.MachineID) {
			if h.ViewedAt.After(last[h.AccountID]) {
				last[h.AccountID] = h.ViewedAt
			}
			if h.ViewedAt.Before(oldest) {
				oldest = h.ViewedAt
			}
		}
	}
	if days := now.Sub(oldest).Hours() / 24; days < 115 || days > 121 {
		t.Fatalf("history spans %.0f days", days)
	}
	inactive := 0
	for id, at := range last {
		if id != 1 && now.Sub(at) > 60*24*time.Hour {
			inactive++
		}
	}
	if inactive < 2 {
		t.Fatalf("only %d long-inactive accounts", inactive)
	}
	if len(last) < 30 {
		t.Fatalf("only %d accounts have history", len(last))
	}
}
