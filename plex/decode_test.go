package plex

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// golden reads a file of testdata.
func golden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePIN(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		file      string
		id        int64
		token     string
		expiresAt time.Time
	}{
		{"pin_created.json", 564964751, "", time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)},
		// id and expiresIn as strings, createdAt as Unix seconds, no expiresAt.
		{"pin_claimed_strings.json", 564964751, "CxoUzBTSV5hsxjTpFKaf", time.Unix(1772359200+600, 0).UTC()},
		// XML variant; empty authToken means unclaimed.
		{"pin.xml", 564964751, "", time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := parsePIN(golden(t, tt.file), now)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != tt.id || p.Code != "8lzjqnq8lye02n52jq3fqxf8e" || p.AuthToken != tt.token || !p.ExpiresAt.Equal(tt.expiresAt) {
				t.Errorf("got %+v", p)
			}
			if p.Claimed() != (tt.token != "") {
				t.Errorf("Claimed() = %t", p.Claimed())
			}
		})
	}
	for _, bad := range []string{`{}`, `{"id":1}`, `{"code":"x"}`, `not a body`, `{"id":"x","code":"y"}`, `<pin/>`} {
		if _, err := parsePIN([]byte(bad), now); err == nil {
			t.Errorf("parsePIN(%q) succeeded", bad)
		}
	}
}

func TestParseAccount(t *testing.T) {
	a, err := parseAccount(golden(t, "user.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 13692262 || a.Username != "owner" || !a.Home || !a.HomeAdmin || a.HomeSize != 3 || a.MaxHomeSize != 15 ||
		a.Guest || a.Protected || !a.TwoFactor || !a.PlexPass || a.PassPlan != "lifetime" {
		t.Errorf("got %+v", a)
	}
	if !slices.Equal(a.Features, []string{"webhooks", "content_filter"}) {
		t.Errorf("features = %v", a.Features)
	}
	if !a.JoinedAt.Equal(time.Unix(1419616800, 0)) {
		t.Errorf("joinedAt = %v", a.JoinedAt)
	}
	if _, err := parseAccount([]byte(`{"username":"x"}`)); err == nil {
		t.Error("an account without id was accepted")
	}
}

func TestParseResources(t *testing.T) {
	list, err := parseResources(golden(t, "resources.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("got %d resources, want only the owned server: %+v", len(list), list)
	}
	r := list[0]
	if r.MachineID != "93c418a691854d3be47ead674134d86a3f5e00f4" || r.AccessToken != "hs2vG4eNtR7nzq1tXcGR" || !r.Owned ||
		r.OwnerID != 0 || r.SourceTitle != "" {
		t.Errorf("got %+v", r)
	}
	var order []string
	for _, c := range r.Connections {
		order = append(order, c.Address)
	}
	if !slices.Equal(order, []string{"192.168.1.20", "203.0.113.7", "relay.plex.direct"}) {
		t.Errorf("connection order = %v, want local, remote, relay", order)
	}
	if r.Connections[1].Port != 32400 {
		t.Errorf("port given as a string: %d", r.Connections[1].Port)
	}
}

func TestParseSharedResources(t *testing.T) {
	tests := []struct {
		file  string
		owned bool
		want  []Resource
	}{
		{file: "resources.json", want: []Resource{{MachineID: "ffff", Name: "Friend's server", AccessToken: "not-ours", OwnerID: 42}}},
		{file: "resources_shared.json", owned: true, want: []Resource{{MachineID: "93c418a691854d3be47ead674134d86a3f5e00f4", Name: "Basement",
			ProductVersion: "1.41.3.9314-a0bfb8370", Platform: "Linux", PlatformVersion: "6.8.0", AccessToken: "hs2vG4eNtR7nzq1tXcGR",
			PublicAddress: "203.0.113.7", Owned: true, Presence: true, LastSeenAt: time.Date(2026, 3, 1, 9, 58, 0, 0, time.UTC),
			Connections: []Connection{{Protocol: "https", Address: "192.168.1.20", Port: 32400, URI: "https://192-168-1-20.abc.plex.direct:32400", Local: true}}}}},
		{file: "resources_shared.json", want: []Resource{
			// ownerId a number, relay connection sorted last.
			{MachineID: "b0b5e1f0c3a24d6e8f7a9b1c2d3e4f5a6b7c8d9e", Name: "bob's Plex", ProductVersion: "1.40.2.8395-c67dce28e",
				Platform: "Windows", PlatformVersion: "10.0 (Build 19045)", AccessToken: "bob-shares-this-token",
				PublicAddress: "198.51.100.40", OwnerID: 22522496, SourceTitle: "bob", Presence: true, HTTPSRequired: true,
				LastSeenAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), Connections: []Connection{
					{Protocol: "https", Address: "198.51.100.40", Port: 32400, URI: "https://198-51-100-40.b0b.plex.direct:32400"},
					{Protocol: "https", Address: "relay.plex.direct", Port: 8443, URI: "https://relay.example:8443", Relay: true}}},
			// ownerId quoted, owned "0", provides a list, lastSeenAt in Unix seconds.
			{MachineID: "ca401c0ffee0000000000000000000000000cafe", Name: "Carol's NAS", AccessToken: "carol-nas-token",
				OwnerID: 31415926, SourceTitle: "Carol", LastSeenAt: time.Unix(1772355600, 0).UTC()},
			// ownerId null: shared, owner unknown.
			{MachineID: "f00dfeed00000000000000000000000000000001", Name: "Family server", AccessToken: "family-token"},
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s owned=%t", tt.file, tt.owned), func(t *testing.T) {
			got, err := parseResources(golden(t, tt.file), tt.owned)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d servers, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("server %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseResourcesBadBodies(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		owned bool
		err   bool
		n     int
	}{
		{name: "not JSON", body: `<resources/>`, err: true},
		{name: "an object", body: `{"name":"x"}`, err: true},
		{name: "ownerId not a number", body: `[{"provides":"server","clientIdentifier":"m","ownerId":"bob"}]`, err: true},
		{name: "ownerId a fraction", body: `[{"provides":"server","clientIdentifier":"m","ownerId":4.5}]`, err: true},
		{name: "owned not a boolean", body: `[{"provides":"server","clientIdentifier":"m","owned":"maybe"}]`, err: true},
		{name: "shared server without id", body: `[{"provides":"server","ownerId":7,"clientIdentifier":"  "}]`, err: true},
		{name: "owned server without id", body: `[{"provides":"server","owned":true}]`, owned: true, err: true},
		// A bad entry of the other kind does not spoil the list asked for.
		{name: "owned list ignores a shared entry without id", body: `[{"provides":"server","owned":false},{"provides":"server","owned":true,"clientIdentifier":"m"}]`, owned: true, n: 1},
		{name: "negative ownerId reads as unknown", body: `[{"provides":"server","clientIdentifier":"m","ownerId":-3}]`, n: 1},
		{name: "empty list", body: `[]`},
		{name: "null", body: `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseResources([]byte(tt.body), tt.owned)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %t", err, tt.err)
			}
			if len(got) != tt.n {
				t.Fatalf("got %+v, want %d servers", got, tt.n)
			}
			for _, r := range got {
				if r.OwnerID < 0 {
					t.Errorf("negative owner id kept: %+v", r)
				}
			}
		})
	}
}

func TestParseSectionsAndMapping(t *testing.T) {
	body := golden(t, "server_sections.xml")
	if _, err := parseSections(body, "c080de7e0168d1da7027f8b218adb769bd1d6c6c"); err != errServerMissing {
		t.Errorf("the container's own machineIdentifier was taken for the server: %v", err)
	}
	l, err := parseSections(body, "93c418a691854d3be47ead674134d86a3f5e00f4")
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 3 || l[1] != (Section{ID: 132920523, Key: "4", Title: "Movies", Type: "movie"}) {
		t.Fatalf("got %+v", l)
	}
	ids, err := l.IDs("8", "4", "8")
	if err != nil || !slices.Equal(ids, []int64{132920531, 132920523}) {
		t.Errorf("IDs = %v, %v", ids, err)
	}
	keys, err := l.Keys(132920520, 132920531)
	if err != nil || !slices.Equal(keys, []string{"1", "8"}) {
		t.Errorf("Keys = %v, %v", keys, err)
	}
	if _, err := l.IDs("4", "99"); err == nil || !strings.Contains(err.Error(), `"99"`) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := l.Keys(4); err == nil || !strings.Contains(err.Error(), "4") {
		t.Errorf("a server key passed as a section id was accepted: %v", err)
	}
}

func TestParseUsers(t *testing.T) {
	users, err := parseUsers(golden(t, "users.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 3 {
		t.Fatalf("got %d users", len(users))
	}
	const m = "93c418a691854d3be47ead674134d86a3f5e00f4"
	alice, kid, dave := users[0], users[1], users[2]
	if alice.ID != 22526914 || alice.Home || alice.Managed || alice.Shares[m].ShareID != 907759180 || !alice.Shares[m].AllowSync {
		t.Errorf("alice = %+v", alice)
	}
	if !kid.Home || !kid.Managed || kid.Username != "" || !kid.Shares[m].AllLibraries || kid.Shares[m].Filters.Movies != "contentRating=G" {
		t.Errorf("kid = %+v", kid)
	}
	if !dave.Shares[m].Pending || !dave.Shares[m].LastSeenAt.IsZero() {
		t.Errorf("dave = %+v", dave)
	}
}

func TestParseSharedServers(t *testing.T) {
	list, err := parseSharedServers(golden(t, "shared_servers.xml"), "m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("got %d", len(list))
	}
	ids, keys := list[0].shared()
	if !slices.Equal(ids, []int64{132920523, 132920531}) || !slices.Equal(keys, []string{"4", "8"}) {
		t.Errorf("alice shared = %v %v", ids, keys)
	}
	if list[0].Pending || list[0].AcceptedAt.Unix() != 1700000000 || list[0].MachineID != "m1" {
		t.Errorf("alice = %+v", list[0])
	}
	ids, _ = list[1].shared()
	if len(ids) != 2 || !list[1].AllLibraries {
		t.Errorf("all-libraries share lists %v", ids)
	}
	if !list[2].Pending {
		t.Error("share without acceptedAt is not pending")
	}
}

func TestParsePendingInvites(t *testing.T) {
	list, err := parsePendingInvites(golden(t, "pending_invites.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("got %d: %+v", len(list), list)
	}
	carol, dave, flat := list[0], list[1], list[2]
	if carol.ShareID != 907759400 || carol.InviteeID != 0 || carol.Email != "carol@example.com" ||
		!slices.Equal(carol.SectionIDs, []int64{132920523}) || !slices.Equal(carol.LibraryKeys, []string{"4"}) ||
		!carol.Settings.AllowSync || carol.Settings.Filters.Movies != "label!=adult" {
		t.Errorf("carol = %+v", carol)
	}
	if carol.InvitedAt.Unix() != 1700000200 {
		t.Errorf("carol invitedAt = %v", carol.InvitedAt)
	}
	if dave.ShareID != 907759300 || dave.InviteeID != 22522496 || dave.Username != "dave" || dave.UUID != "1f2e3d4c5b6a7980" {
		t.Errorf("dave = %+v", dave)
	}
	if flat.ShareID != 907759500 || flat.MachineID != "a1a1" || !flat.AllLibraries || flat.InviteeID != 55 {
		t.Errorf("flat = %+v", flat)
	}
	if _, err := parsePendingInvites([]byte(`[{"sharedServers":[{"id":0}]}]`)); err == nil {
		t.Error("a share without id was accepted")
	}
	if _, err := parsePendingInvites([]byte(`{"errors":[]}`)); err == nil {
		t.Error("an object was accepted as a list")
	}
}

func TestParseHomeUsers(t *testing.T) {
	for _, file := range []string{"home_users.xml", "home_v2.xml"} {
		list, err := parseHomeUsers(golden(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(list) != 2 || !list[0].Admin || !list[0].HasPassword || !list[1].Managed || list[1].RestrictionProfile != "little_kid" || list[1].HasPassword {
			t.Errorf("%s: %+v", file, list)
		}
	}
	u, err := parseHomeUser(golden(t, "managed_user.xml"))
	if err != nil || u.ID != 398506727 || !u.Managed {
		t.Errorf("managed user = %+v, %v", u, err)
	}
	u, err = parseHomeUser([]byte(`{"id":"7","title":"Kid","restricted":1}`))
	if err != nil || u.ID != 7 || !u.Managed {
		t.Errorf("JSON managed user = %+v, %v", u, err)
	}
}

func TestParseSessions(t *testing.T) {
	list, err := parseSessions(golden(t, "sessions.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("got %d sessions (theme music must be skipped): %+v", len(list), list)
	}
	v := list[0]
	if v.ID != "93h7e00ncblxncqw9lkfaoxi" || v.Key != "19" || v.Type != "episode" || v.GrandparentTitle != "Talking Dead" ||
		v.Year != 2016 || v.Duration != 2556288*time.Millisecond || v.ViewOffset != 2005563*time.Millisecond || v.LibraryKey != "8" {
		t.Errorf("video = %+v", v)
	}
	if v.User.ID != 22526914 || v.Player.Address != "198.51.100.23" || v.Player.Local || !v.Player.Secure || v.Player.Product != "Plex Web" {
		t.Errorf("user/player = %+v %+v", v.User, v.Player)
	}
	if v.Media.ID != "2816" || v.Media.Resolution != "720" || v.Media.Bitrate != 3006 || v.Media.Decision != "transcode" {
		t.Errorf("media = %+v (the selected Media must win)", v.Media)
	}
	if v.Transcode == nil || !v.Transcoding() || !v.Transcode.Throttled || v.Transcode.Progress != 96.4 || !v.Transcode.Hardware() || v.Transcode.HWDecoding != "vaapi" {
		t.Errorf("transcode = %+v", v.Transcode)
	}
	tr := list[1]
	if tr.Type != "track" || tr.User.ID != 1 || !tr.Player.Local || tr.Player.State != "paused" || tr.Transcode != nil || tr.Transcoding() || tr.ID != "" {
		t.Errorf("track = %+v", tr)
	}

	list, err = parseSessions(golden(t, "sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("JSON: got %d", len(list))
	}
	m := list[0]
	if m.ID != "abc123" || m.User.ID != 22522496 || m.Player.Address != "10.0.0.5" || !m.Player.Local || m.Bandwidth != 12000 ||
		m.Media.Resolution != "4k" || m.Year != 2014 || m.LibraryKey != "4" || m.ViewOffset != time.Minute {
		t.Errorf("movie = %+v", m)
	}
	if m.Transcode == nil || !m.Transcoding() || m.Transcode.Speed != 1.8 || !m.Transcode.Hardware() {
		t.Errorf("transcode = %+v", m.Transcode)
	}
	if list[1].Type != "photo" || list[1].User.ID != 1 || list[1].Key != "31" {
		t.Errorf("photo = %+v", list[1])
	}
}

func TestParseHistory(t *testing.T) {
	p, err := parseHistory(golden(t, "history_page.xml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.total != 3693 || len(p.items) != 2 {
		t.Fatalf("got %d items, total %d", len(p.items), p.total)
	}
	e := p.items[1]
	if e.AccountID != 1 || e.ViewedAt.Unix() != 1740000000 || e.GrandparentTitle != "Mighty Machines" || e.Index != 7 || e.LibraryKey != "8" || e.DeviceID != 5 {
		t.Errorf("episode = %+v", e)
	}
	h := http.Header{}
	h.Set("X-Plex-Container-Total-Size", "101")
	p, err = parseHistory(golden(t, "history_page.json"), h)
	if err != nil {
		t.Fatal(err)
	}
	if p.total != 101 || len(p.items) != 1 || p.items[0].AccountID != 5 || p.items[0].RatingKey != "42" || p.items[0].ViewedAt.Unix() != 1740000001 {
		t.Errorf("JSON page = %+v", p)
	}
	p, err = parseHistory([]byte(`<MediaContainer size="0"/>`), nil)
	if err != nil || p.total != 0 || len(p.items) != 0 {
		t.Errorf("empty page = %+v, %v", p, err)
	}
}

func TestParsePMSDocuments(t *testing.T) {
	libs, err := parseLibraries(golden(t, "libraries.xml"))
	if err != nil || len(libs) != 2 || libs[0].Key != "4" || !libs[1].Hidden || !slices.Equal(libs[1].Locations, []string{"/data/tv", "/data/tv2"}) {
		t.Errorf("libraries.xml = %+v, %v", libs, err)
	}
	libs, err = parseLibraries(golden(t, "libraries.json"))
	if err != nil || len(libs) != 1 || libs[0].Key != "4" || !slices.Equal(libs[0].Locations, []string{"/data/movies"}) || libs[0].ScannedAt.IsZero() {
		t.Errorf("libraries.json = %+v, %v", libs, err)
	}

	var root rootContainer
	if err := decodeContainer(golden(t, "root.xml"), &root); err != nil || root.FriendlyName != "Basement" || root.TranscoderActiveVideoSessions != 1 {
		t.Errorf("root = %+v, %v", root, err)
	}
	var id identityContainer
	if err := decodeContainer(golden(t, "identity.json"), &id); err != nil || !bool(id.Claimed) || id.MachineIdentifier == "" {
		t.Errorf("identity = %+v, %v", id, err)
	}
	var acc accountsContainer
	if err := decodeContainer(golden(t, "accounts.xml"), &acc); err != nil || len(acc.Accounts) != 3 || acc.Accounts[1].ID != 1 {
		t.Errorf("accounts = %+v, %v", acc, err)
	}
	if err := decodeContainer([]byte(`{"other":{}}`), &acc); err == nil {
		t.Error("JSON without MediaContainer was accepted")
	}
	if err := decodeContainer([]byte(`plain text`), &acc); err == nil {
		t.Error("plain text was accepted")
	}
}

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		body string
		code int
		msg  string
	}{
		{`{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`, 1001, "User could not be authenticated"},
		{`{"errors":[{"code":"1003","message":"API rate limit exceeded"}]}`, 1003, "API rate limit exceeded"},
		{`<Response code="400" status="You're already sharing this server with X. Please edit your existing share."/>`, 400, "You're already sharing this server with X. Please edit your existing share."},
		{`<Response code="410" status="This endpoint was deprecated and removed"/>`, 410, "This endpoint was deprecated and removed"},
		{`<errors><error code="1999" field="base" status="400"/></errors>`, 1999, ""},
		{`<errors><error>Not found</error></errors>`, 0, "Not found"},
		{`<errors><error code="1020" message="Code not found or expired" status="404"/></errors>`, 1020, "Code not found or expired"},
		{`<html><body>401 Unauthorized</body></html>`, 0, ""},
		{``, 0, ""},
		{`{"error":"bad"}`, 0, "bad"},
	}
	for _, tt := range tests {
		code, msg := parseErrorBody([]byte(tt.body))
		if code != tt.code || msg != tt.msg {
			t.Errorf("%s: got (%d, %q), want (%d, %q)", tt.body, code, msg, tt.code, tt.msg)
		}
	}
}

func TestHistoryQueryString(t *testing.T) {
	q := HistoryQuery{AccountID: 5, LibraryKey: "4 K", Since: time.Unix(1700000000, 0), Until: time.Unix(1700003600, 0)}
	got := historyQueryString(q)
	want := "accountID=5&librarySectionID=4+K&sort=viewedAt%3Adesc&viewedAt>=1700000000&viewedAt<1700003600"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := historyQueryString(HistoryQuery{}); got != "sort=viewedAt%3Adesc" {
		t.Errorf("empty query = %s", got)
	}
}

func TestValidArtworkPath(t *testing.T) {
	good := []string{"/library/metadata/1264/thumb/1464060240", "/library/metadata/1/art", "/library/metadata/9/clearLogo/2",
		"/library/collections/5/composite/17", "/library/sections/4/composite/1700000000"}
	bad := []string{"", "/", "/library/metadata/1264", "/library/metadata/x/thumb", "/library/metadata/1/thumb/1?X-Plex-Token=a",
		"/library/metadata/1/../../status/sessions", "/status/sessions", "/library/metadata/1/thumb/1/2", "library/metadata/1/thumb",
		"/library/metadata/1/children", "/library/sections/4/all", "/library/metadata/1/thumb/", "//library/metadata/1/thumb"}
	for _, p := range good {
		if !ValidArtworkPath(p) {
			t.Errorf("%q refused", p)
		}
	}
	for _, p := range bad {
		if ValidArtworkPath(p) {
			t.Errorf("%q accepted", p)
		}
	}
}
