package plextest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const owner = "owner-token"

func inviteV2(t *testing.T, f *Fake, who, ids, settings string) resp {
	t.Helper()
	body := fmt.Sprintf(`{"machineIdentifier":%q,"invitedEmail":%q,"librarySectionIds":%s,"settings":%s,"skipFriendship":true}`,
		MinimalMachineID, who, ids, settings)
	return do(t, f, req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true, body: body})
}

func shareOf(t *testing.T, f *Fake, userID int64, email string) Share {
	t.Helper()
	for _, s := range f.Shares() {
		if (userID != 0 && s.UserID == userID) || (email != "" && s.InvitedEmail == email && s.UserID == 0) {
			return s
		}
	}
	t.Fatalf("no share for %d/%s in %+v", userID, email, f.Shares())
	return Share{}
}

func TestInviteAcceptUpdateRemoveV2(t *testing.T) {
	f := newFake(t, Options{})
	r := inviteV2(t, f, "dave", "[132920523,132920531]",
		`{"allowSync":1,"allowCameraUpload":"0","allowChannels":true,"allowTuners":0,"allowSubtitleAdmin":"true","filterMovies":"label!=adult","filterPhotos":null}`)
	mustStatus(t, r, 201)
	var created struct {
		ID                int64
		InvitedID         int64
		Accepted          bool
		MachineIdentifier string
		NumLibraries      int
		AllLibraries      bool
		Libraries         []struct {
			ID  int64
			Key int
		}
	}
	decodeJSON(t, r, &created)
	if created.InvitedID != 41234567 || created.Accepted || created.NumLibraries != 2 || created.AllLibraries ||
		created.Libraries[0].Key != 4 || created.Libraries[1].ID != SectionTVShows {
		t.Fatalf("created = %+v", created)
	}
	sh := shareOf(t, f, 41234567, "")
	if !sh.Pending || !sh.AllowSync || sh.AllowCameraUpload || !sh.AllowChannels || !sh.AllowSubtitleAdmin ||
		sh.FilterMovies != "label!=adult" || !slices.Equal(sh.LibraryKeys, []string{"4", "8"}) {
		t.Fatalf("stored share = %+v", sh)
	}

	// A still-pending invite is a duplicate too.
	mustStatus(t, inviteV2(t, f, "dave@example.com", "[]", "{}"), 422)

	// The owner sees it pending, dave sees it received.
	r = do(t, f, req{method: "GET", path: "/api/v2/shared_servers/invites/owned/pending", token: owner, json: true})
	mustStatus(t, r, 200)
	if !strings.Contains(r.body, `"sharedServers":[{"id":`+itoa(created.ID)) {
		t.Fatalf("owned pending: %s", r.body)
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/shared_servers/invites/received/pending", token: "dave-token", json: true})
	if !strings.Contains(r.body, itoa(created.ID)) {
		t.Fatalf("received pending: %s", r.body)
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/shared_servers/invites/received/pending", token: "alice-token", json: true})
	if strings.TrimSpace(r.body) != "[]" {
		t.Fatalf("alice received: %s", r.body)
	}
	users := decodeXML(t, do(t, f, req{method: "GET", path: "/api/users/", token: owner}))
	pending := ""
	for _, u := range users.all("User") {
		if u.attr("id") == "41234567" {
			pending = u.all("Server")[0].attr("pending")
		}
	}
	if pending != "1" {
		t.Fatalf("dave pending in /api/users = %q", pending)
	}

	// Someone else cannot accept it; dave can.
	accept := "/api/v2/shared_servers/" + itoa(created.ID) + "/accept"
	mustStatus(t, do(t, f, req{method: "POST", path: accept, token: "alice-token", json: true}), 404)
	mustStatus(t, do(t, f, req{method: "POST", path: accept, token: "dave-token", json: true}), 200)
	mustStatus(t, do(t, f, req{method: "POST", path: accept, token: "dave-token", json: true}), 400)
	if sh := shareOf(t, f, 41234567, ""); sh.Pending || sh.AcceptedAt.IsZero() {
		t.Fatalf("after accept: %+v", sh)
	}
	if a, _ := f.Account(41234567); a.Friend {
		t.Fatal("skipFriendship share made a friendship")
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/shared_servers/owned/accepted", token: owner, json: true})
	if !strings.Contains(r.body, `"invitedId":41234567`) {
		t.Fatalf("accepted list: %s", r.body)
	}

	// Update: empty list = all libraries.
	upd := "/api/v2/shared_servers/" + itoa(created.ID)
	mustStatus(t, do(t, f, req{method: "POST", path: upd, token: owner, json: true, body: `{"settings":{"allowSync":false},"librarySectionIds":[]}`}), 200)
	if sh := shareOf(t, f, 41234567, ""); !sh.AllLibraries || sh.AllowSync || len(sh.SectionIDs) != 3 {
		t.Fatalf("after update to all: %+v", sh)
	}
	mustStatus(t, do(t, f, req{method: "POST", path: upd, token: owner, json: true, body: `{"librarySectionIds":[4]}`}), 400)
	mustStatus(t, do(t, f, req{method: "POST", path: upd, token: owner, json: true, body: `{"librarySectionIds":["132920520"]}`}), 200)
	if sh := shareOf(t, f, 41234567, ""); sh.AllLibraries || !slices.Equal(sh.LibraryKeys, []string{"1"}) || !sh.AllowChannels {
		t.Fatalf("after update to music: %+v", sh)
	}

	mustStatus(t, do(t, f, req{method: "DELETE", path: upd, token: owner}), 204)
	mustStatus(t, do(t, f, req{method: "DELETE", path: upd, token: owner}), 404)
	if len(f.Shares()) != 3 {
		t.Fatalf("shares after delete: %+v", f.Shares())
	}
}

func TestInviteUnknownEmailAndUnverifiedAccept(t *testing.T) {
	f := newFake(t, Options{})
	mustStatus(t, inviteV2(t, f, "New.Person@example.com", "[]", "{}"), 201)
	sh := shareOf(t, f, 0, "New.Person@example.com")
	if !sh.Pending || !sh.AllLibraries || sh.UserID != 0 {
		t.Fatalf("email invite = %+v", sh)
	}
	mustStatus(t, inviteV2(t, f, "new.person@example.com", "[]", "{}"), 422)
	// The person signs up and accepts.
	acc := f.AddAccount(Account{Username: "newbie", Email: "new.person@example.com"})
	mustStatus(t, do(t, f, req{method: "POST", path: fmt.Sprintf("/api/v2/shared_servers/%d/accept", sh.ID), token: acc.Token, json: true}), 200)
	if got := shareOf(t, f, acc.ID, ""); got.Pending {
		t.Fatalf("after accept = %+v", got)
	}

	// erin's email is not verified.
	r := inviteV2(t, f, "erin", "[132920523]", "{}")
	mustStatus(t, r, 201)
	erin := shareOf(t, f, 42345678, "")
	r = do(t, f, req{method: "POST", path: fmt.Sprintf("/api/v2/shared_servers/%d/accept", erin.ID), token: "erin-token", json: true})
	mustStatus(t, r, 403)
	if !strings.Contains(r.body, "verified") || !shareOf(t, f, 42345678, "").Pending {
		t.Fatalf("unverified accept: %s", r.body)
	}
}

func TestV1InviteUpdateDelete(t *testing.T) {
	f := newFake(t, Options{})
	base := "/api/servers/" + MinimalMachineID + "/shared_servers"
	r := do(t, f, req{method: "POST", path: base, token: owner,
		body: `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[132920523,"132920531"],"invited_email":"dave@example.com"},"sharing_settings":{"allowSync":"1","filterMovies":"","filterTelevision":"","filterMusic":""}}`})
	mustStatus(t, r, 200)
	ss := decodeXML(t, r).all("SharedServer")
	if len(ss) != 1 || ss[0].attr("userID") != "41234567" || ss[0].attr("allowSync") != "1" {
		t.Fatalf("v1 invite answer: %s", r.body)
	}
	sh := shareOf(t, f, 41234567, "")
	one := fmt.Sprintf("%s/%d", base, sh.ID)
	x := decodeXML(t, do(t, f, req{method: "GET", path: one, token: owner}))
	if sec := x.all("SharedServer")[0].all("Section"); len(sec) != 3 || sec[0].attr("shared") != "0" || sec[1].attr("shared") != "1" {
		t.Fatalf("single share sections: %+v", sec)
	}
	mustStatus(t, do(t, f, req{method: "PUT", path: one, token: owner,
		body: `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[132920520]}}`}), 200)
	if got := shareOf(t, f, 41234567, ""); !slices.Equal(got.LibraryKeys, []string{"1"}) {
		t.Fatalf("after v1 update: %+v", got)
	}
	// v1: an empty list drops the share (reported behaviour).
	mustStatus(t, do(t, f, req{method: "PUT", path: one, token: owner,
		body: `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[]}}`}), 200)
	if len(f.Shares()) != 3 {
		t.Fatalf("after empty v1 update: %+v", f.Shares())
	}
	alice := shareOf(t, f, 22526914, "")
	mustStatus(t, do(t, f, req{method: "DELETE", path: fmt.Sprintf("%s/%d", base, alice.ID), token: owner}), 200)
	mustStatus(t, do(t, f, req{method: "DELETE", path: fmt.Sprintf("%s/%d", base, alice.ID), token: owner}), 404)
}

func TestRemoveFriendAndHome(t *testing.T) {
	f := newFake(t, Options{})
	mustStatus(t, do(t, f, req{method: "DELETE", path: "/api/v2/sharings/22522496", token: owner}), 204)
	for _, s := range f.Shares() {
		if s.UserID == 22522496 {
			t.Fatal("bob still has a share")
		}
	}
	if a, _ := f.Account(22522496); a.Friend {
		t.Fatal("bob is still a friend")
	}

	r := do(t, f, req{method: "POST", path: "/api/v2/home/users/restricted?friendlyName=Kid&restrictionProfile=little_kid", token: owner})
	mustStatus(t, r, 200)
	u := decodeXML(t, r)
	if u.XMLName.Local != "user" || u.attr("restricted") != "1" || u.attr("username") != "" || u.attr("restrictionProfile") != "little_kid" {
		t.Fatalf("managed user: %s", r.body)
	}
	// Share with the managed user by id: accepted at once.
	body := fmt.Sprintf(`{"machineIdentifier":%q,"invitedId":%s,"librarySectionIds":[%d],"settings":{}}`, MinimalMachineID, u.attr("id"), SectionMovies)
	mustStatus(t, do(t, f, req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true, body: body}), 201)
	home := decodeXML(t, do(t, f, req{method: "GET", path: "/api/home/users", token: owner}))
	if us := home.all("User"); len(us) != 2 || us[0].attr("admin") != "1" || us[1].attr("title") != "Kid" || us[1].attr("hasPassword") != "false" {
		t.Fatalf("home users: %+v", us)
	}
	users := decodeXML(t, do(t, f, req{method: "GET", path: "/api/users", token: owner}))
	found := false
	for _, x := range users.all("User") {
		if x.attr("id") == u.attr("id") {
			found = x.attr("username") == "" && x.attr("email") == "" && x.attr("restricted") == "1" && x.all("Server")[0].attr("pending") == "0"
		}
	}
	if !found {
		t.Fatalf("managed user missing or wrong in /api/users")
	}
	mustStatus(t, do(t, f, req{method: "DELETE", path: "/api/v2/home/users/" + u.attr("id"), token: owner}), 204)
	mustStatus(t, do(t, f, req{method: "DELETE", path: "/api/home/users/" + u.attr("id"), token: owner}), 404)
	if len(f.Shares()) != 2 {
		t.Fatalf("managed user's share survived: %+v", f.Shares())
	}
}

func TestResourcesAndServers(t *testing.T) {
	f := newFake(t, Options{Seed: SeedDemo(DemoOptions{Servers: 2, Friends: 3, HistoryDays: 3, Seed: 5})})
	r := do(t, f, req{method: "GET", path: "/api/v2/resources?includeHttps=1", token: owner, json: true})
	mustStatus(t, r, 200)
	var res []struct {
		Name, ClientIdentifier, Provides, AccessToken string
		Owned                                         bool
		Connections                                   []struct {
			URI   string
			Local bool
		}
	}
	decodeJSON(t, r, &res)
	servers := f.Servers()
	foreign := f.ForeignServers()
	// The owner's servers, then the servers friends share back, then the Plex Web client.
	n := len(servers) + len(foreign)
	if len(res) != n+1 || res[0].ClientIdentifier != servers[0].MachineID || res[0].AccessToken != servers[0].Token ||
		res[0].Connections[0].URI != f.URL() || res[1].Connections[0].URI != f.URL()+"/pms/"+servers[1].MachineID ||
		res[n].Provides == "server" {
		t.Fatalf("resources = %+v", res)
	}
	for i, fs := range foreign {
		if r := res[len(servers)+i]; r.Owned || r.ClientIdentifier != fs.MachineID || r.AccessToken != fs.AccessToken {
			t.Fatalf("shared-back server %d = %+v, want %+v", i, r, fs)
		}
	}
	// The second server answers under its prefix with its own identity.
	id := decodeXML(t, do(t, f, req{method: "GET", path: "/pms/" + servers[1].MachineID + "/identity"}))
	if id.attr("machineIdentifier") != servers[1].MachineID {
		t.Fatalf("identity = %+v", id)
	}
	mustStatus(t, do(t, f, req{method: "GET", path: "/pms/" + servers[1].MachineID + "/", token: servers[0].Token}), 401)
	mustStatus(t, do(t, f, req{method: "GET", path: "/pms/" + servers[1].MachineID + "/", token: servers[1].Token}), 200)

	x := decodeXML(t, do(t, f, req{method: "GET", path: "/api/servers/" + servers[1].MachineID, token: owner}))
	srv := x.all("Server")[0]
	if x.attr("machineIdentifier") == servers[1].MachineID || srv.attr("machineIdentifier") != servers[1].MachineID ||
		len(srv.all("Section")) != len(servers[1].Libraries) {
		t.Fatalf("v1 server = %+v", x)
	}
	r = do(t, f, req{method: "GET", path: "/api/v2/servers/" + servers[0].MachineID, token: owner, json: true})
	if !strings.Contains(r.body, `"librarySections":[{"id":132920520,"key":"1","title":"Music","type":"artist"}`) {
		t.Fatalf("v2 server = %s", r.body)
	}
}
