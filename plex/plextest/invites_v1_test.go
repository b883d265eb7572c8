package plextest

import (
	"strings"
	"testing"
)

// cancelV1 calls the v1 cancel route for an invitee with a raw query.
func cancelV1(t *testing.T, f *Fake, invitee, query, token string) resp {
	t.Helper()
	return do(t, f, req{method: "DELETE", path: "/api/invites/requested/" + invitee + "?" + query, token: token})
}

func pendingFor(f *Fake, userID int64, email string) int {
	n := 0
	for _, s := range f.Shares() {
		if s.Pending && ((userID != 0 && s.UserID == userID) || (email != "" && s.UserID == 0 && strings.EqualFold(s.InvitedEmail, email))) {
			n++
		}
	}
	return n
}

func TestV1CancelInvite(t *testing.T) {
	const serverOnly = "friend=0&server=1&home=0"
	tests := []struct {
		name     string
		invitee  string // path segment
		query    string
		token    string
		status   int
		contains string
		// after: pending shares left for dave (by id) and newbie (by email)
		daveLeft, newbieLeft int
	}{
		{name: "by account id", invitee: "41234567", query: serverOnly, token: owner, status: 200,
			contains: `<Response code="0" status="Success"`, daveLeft: 0, newbieLeft: 1},
		{name: "by email of a non-account", invitee: "Newbie@Example.com", query: serverOnly, token: owner, status: 200,
			contains: `code="0"`, daveLeft: 1, newbieLeft: 0},
		{name: "friend flag alone cancels no share", invitee: "41234567", query: "friend=1&server=0&home=0", token: owner,
			status: 404, contains: "Not found", daveLeft: 1, newbieLeft: 1},
		{name: "no flags", invitee: "41234567", query: "", token: owner, status: 404, daveLeft: 1, newbieLeft: 1},
		{name: "bad flag value", invitee: "41234567", query: "friend=0&server=yes&home=0", token: owner, status: 400,
			contains: "server", daveLeft: 1, newbieLeft: 1},
		{name: "unknown id", invitee: "99999999", query: serverOnly, token: owner, status: 404, daveLeft: 1, newbieLeft: 1},
		{name: "accepted share is not an invitation", invitee: "22526914", query: serverOnly, token: owner, status: 404,
			daveLeft: 1, newbieLeft: 1},
		{name: "neither id nor email", invitee: "not-an-address", query: serverOnly, token: owner, status: 404,
			daveLeft: 1, newbieLeft: 1},
		{name: "email of an account is keyed by id", invitee: "dave@example.com", query: serverOnly, token: owner,
			status: 404, daveLeft: 1, newbieLeft: 1},
		{name: "someone else's token", invitee: "41234567", query: serverOnly, token: "alice-token", status: 404,
			daveLeft: 1, newbieLeft: 1},
		{name: "bad token", invitee: "41234567", query: serverOnly, token: "nope", status: 401, contains: `code="1001"`,
			daveLeft: 1, newbieLeft: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, Options{})
			mustStatus(t, inviteV2(t, f, "dave", "[132920523]", "{}"), 201)
			mustStatus(t, inviteV2(t, f, "newbie@example.com", "[]", "{}"), 201)
			r := cancelV1(t, f, tc.invitee, tc.query, tc.token)
			mustStatus(t, r, tc.status)
			if !strings.Contains(r.body, tc.contains) {
				t.Errorf("body %q lacks %q", r.body, tc.contains)
			}
			if got := pendingFor(f, 41234567, ""); got != tc.daveLeft {
				t.Errorf("dave has %d pending invitations, want %d", got, tc.daveLeft)
			}
			if got := pendingFor(f, 0, "newbie@example.com"); got != tc.newbieLeft {
				t.Errorf("newbie has %d pending invitations, want %d", got, tc.newbieLeft)
			}
			if len(f.Shares()) != 3+tc.daveLeft+tc.newbieLeft {
				t.Errorf("shares = %+v", f.Shares())
			}
		})
	}
}

func TestV1CancelInviteEveryServer(t *testing.T) {
	f := newFake(t, Options{})
	second := f.AddServer(Server{Name: "Attic"})
	for _, machineID := range []string{MinimalMachineID, second.MachineID} {
		body := `{"machineIdentifier":"` + machineID + `","invitedId":41234567,"librarySectionIds":[]}`
		mustStatus(t, do(t, f, req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true, body: body}), 201)
	}
	if pendingFor(f, 41234567, "") != 2 {
		t.Fatalf("setup: %+v", f.Shares())
	}
	mustStatus(t, cancelV1(t, f, "41234567", "friend=0&server=1&home=0", owner), 200)
	if n := pendingFor(f, 41234567, ""); n != 0 {
		t.Fatalf("%d invitations left", n)
	}
	// A second cancel finds nothing.
	mustStatus(t, cancelV1(t, f, "41234567", "friend=0&server=1&home=0", owner), 404)
	if f.CallCount("DELETE /api/invites/requested/{id}") != 2 {
		t.Errorf("calls = %+v", f.Calls())
	}
}

func TestV1CancelInviteRetire(t *testing.T) {
	f := newFake(t, Options{})
	mustStatus(t, inviteV2(t, f, "dave", "[132920523]", "{}"), 201)
	f.Retire("DELETE /api/invites/requested/{id}")
	r := cancelV1(t, f, "41234567", "friend=0&server=1&home=0", owner)
	mustStatus(t, r, 410)
	if !strings.Contains(r.body, `code="410"`) || pendingFor(f, 41234567, "") != 1 {
		t.Fatalf("retired cancel: %s, shares %+v", r.body, f.Shares())
	}
	f.Unretire("DELETE /api/invites/requested/{id}")
	mustStatus(t, cancelV1(t, f, "41234567", "friend=0&server=1&home=0", owner), 200)
	if pendingFor(f, 41234567, "") != 0 {
		t.Fatal("invitation survived the cancel")
	}
}

func TestV1CreateManagedUser(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		token  string
		status int
		want   string // in the body
	}{
		{name: "created", query: "title=Little+One", token: owner, status: 200, want: `title="Little One"`},
		{name: "no title", query: "", token: owner, status: 400, want: "title is required"},
		{name: "blank title", query: "title=+++", token: owner, status: 400, want: "title is required"},
		{name: "invitedEmail form is not modelled", query: "invitedEmail=dave", token: owner, status: 400, want: "title"},
		{name: "not the owner", query: "title=Kid", token: "alice-token", status: 401, want: `code="1001"`},
		{name: "bad token", query: "title=Kid", token: "nope", status: 401, want: `code="1001"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, Options{})
			before := len(f.Accounts())
			r := do(t, f, req{method: "POST", path: "/api/home/users?" + tc.query, token: tc.token})
			mustStatus(t, r, tc.status)
			if !strings.Contains(r.body, tc.want) {
				t.Fatalf("body %q lacks %q", r.body, tc.want)
			}
			if tc.status != 200 {
				if len(f.Accounts()) != before {
					t.Fatal("a refused request created an account")
				}
				return
			}
			u := decodeXML(t, r)
			if u.XMLName.Local != "User" || u.attr("restricted") != "1" || u.attr("username") != "" ||
				u.attr("restrictionProfile") != "" || u.attr("hasPassword") != "false" {
				t.Fatalf("user = %s", r.body)
			}
			id := u.attr("id")
			var found *Account
			for _, a := range f.Accounts() {
				if itoa(a.ID) == id {
					found = &a
				}
			}
			if found == nil || !found.Managed || !found.Home || found.Title != "Little One" {
				t.Fatalf("account %s = %+v", id, found)
			}
			// The new member is listed in the Home and can receive a share at once.
			if !strings.Contains(do(t, f, req{method: "GET", path: "/api/home/users", token: owner}).body, `id="`+id+`"`) {
				t.Error("not listed in /api/home/users")
			}
			body := `{"machineIdentifier":"` + MinimalMachineID + `","invitedId":` + id + `,"librarySectionIds":[132920523]}`
			share := do(t, f, req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true, body: body})
			mustStatus(t, share, 201)
			if !strings.Contains(share.body, `"accepted":true`) {
				t.Errorf("managed share not active at once: %s", share.body)
			}
		})
	}
}

func TestV1CreateManagedUserHomeFull(t *testing.T) {
	f := newFake(t, Options{})
	created := 0
	for range maxHomeSize + 2 {
		r := do(t, f, req{method: "POST", path: "/api/home/users?title=Kid", token: owner})
		if r.status == 200 {
			created++
			continue
		}
		mustStatus(t, r, 400)
		if !strings.Contains(r.body, "Plex Home is full") {
			t.Fatalf("full: %s", r.body)
		}
	}
	if created != maxHomeSize-1 {
		t.Fatalf("created %d managed users, want %d (the owner counts)", created, maxHomeSize-1)
	}
	f.Retire("POST /api/home/users")
	mustStatus(t, do(t, f, req{method: "POST", path: "/api/home/users?title=Kid", token: owner}), 410)
}
