package plextest

import (
	"strings"
	"testing"
)

// TestStrictness checks the rules that make client bugs visible.
func TestStrictness(t *testing.T) {
	const owner = "owner-token"
	shareBody := func(email string, ids string) string {
		return `{"machineIdentifier":"` + MinimalMachineID + `","invitedEmail":"` + email + `","librarySectionIds":` + ids +
			`,"settings":{"allowSync":"1","allowTuners":0,"filterMovies":""},"skipFriendship":true}`
	}
	v1Body := func(email string) string {
		return `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[132920523],"invited_email":"` +
			email + `"},"sharing_settings":{"allowSync":"0"}}`
	}
	tests := []struct {
		name     string
		q        req
		status   int
		body     string // exact body (trimmed) when set
		contains string
	}{
		{name: "v2 without client id", q: req{method: "GET", path: "/api/v2/user", token: owner, clientID: "-", json: true},
			status: 400, body: `{"errors":[{"code":1000,"message":"X-Plex-Client-Identifier is missing","status":400}]}`},
		{name: "PIN without client id", q: req{method: "POST", path: "/api/v2/pins", clientID: "-", json: true},
			status: 400, contains: `"code":1000`},
		{name: "client id in query accepted", q: req{method: "GET", path: "/api/v2/user?X-Plex-Client-Identifier=abc", token: owner, clientID: "-", json: true},
			status: 200},
		{name: "v2 without token", q: req{method: "GET", path: "/api/v2/resources", json: true},
			status: 401, body: `{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`},
		{name: "v2 bad token XML", q: req{method: "GET", path: "/api/v2/resources", token: "nope"},
			status: 401, contains: `<error code="1001" message="User could not be authenticated" status="401"/>`},
		{name: "v1 bad token", q: req{method: "GET", path: "/api/users", token: "nope"}, status: 401, contains: `code="1001"`},
		{name: "legacy account bad token", q: req{method: "GET", path: "/users/account", token: "nope"}, status: 422},
		{name: "unknown route", q: req{method: "GET", path: "/api/v2/nothing", token: owner, json: true}, status: 404, contains: `"code":1002`},
		{name: "unknown v1 route", q: req{method: "GET", path: "/api/nothing", token: owner}, status: 404},
		{name: "wrong method", q: req{method: "PATCH", path: "/api/v2/user", token: owner, json: true}, status: 404},
		{name: "v2 list without Accept json", q: req{method: "GET", path: "/api/v2/shared_servers/owned/accepted", token: owner}, status: 406},
		{name: "share with server keys", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: shareBody("dave@example.com", "[1,4,8]")}, status: 400, contains: `"field":"librarySectionIds"`},
		{name: "share with a foreign section id", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: shareBody("dave@example.com", "[132920523,999]")}, status: 400, contains: "999"},
		{name: "duplicate v2 share", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: shareBody("alice@example.com", "[132920523]")}, status: 422,
			body: `<errors><error code="1999" field="base" status="400"/></errors>`},
		{name: "duplicate v2 share by username", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: shareBody("Bob", "[]")}, status: 422, contains: `code="1999"`},
		{name: "duplicate v1 share", q: req{method: "POST", path: "/api/servers/" + MinimalMachineID + "/shared_servers", token: owner,
			body: v1Body("alice")}, status: 400,
			body: `<Response code="400" status="You're already sharing this server with alice. Please edit your existing share."/>`},
		{name: "v1 share needs libraries", q: req{method: "POST", path: "/api/servers/" + MinimalMachineID + "/shared_servers", token: owner,
			body: `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[],"invited_email":"dave"}}`}, status: 400},
		{name: "v1 share server_id mismatch", q: req{method: "POST", path: "/api/servers/" + MinimalMachineID + "/shared_servers", token: owner,
			body: `{"server_id":"other","shared_server":{"library_section_ids":[132920523],"invited_email":"dave"}}`}, status: 400},
		{name: "share with a friend's token", q: req{method: "POST", path: "/api/v2/shared_servers", token: "alice-token", json: true,
			body: shareBody("dave@example.com", "[]")}, status: 400},
		{name: "share with unknown username", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: shareBody("nobody-here", "[]")}, status: 400},
		{name: "share with self", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: shareBody("owner@example.com", "[]")}, status: 400},
		{name: "bad setting type", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
			body: `{"machineIdentifier":"` + MinimalMachineID + `","invitedEmail":"dave","librarySectionIds":[],"settings":{"allowSync":"maybe"}}`},
			status: 400, contains: "allowSync"},
		{name: "bad JSON", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true, body: `{`}, status: 400},
		{name: "retired friends delete", q: req{method: "DELETE", path: "/api/friends/22526914", token: owner}, status: 410,
			contains: `<Response code="410" status="This endpoint was deprecated and removed"/>`},
		{name: "retired invites requested", q: req{method: "GET", path: "/api/invites/requested", token: owner}, status: 410},
		{name: "retired invites requests", q: req{method: "GET", path: "/api/invites/requests", token: owner}, status: 410},
		{name: "retired v2 friends", q: req{method: "GET", path: "/api/v2/friends", token: owner, json: true}, status: 410},
		{name: "unknown server v1", q: req{method: "GET", path: "/api/servers/nope", token: owner}, status: 404},
		{name: "unknown server v2", q: req{method: "GET", path: "/api/v2/servers/nope", token: owner, json: true}, status: 404},
		{name: "unknown share v2 update", q: req{method: "POST", path: "/api/v2/shared_servers/1", token: owner, json: true, body: `{}`}, status: 404},
		{name: "unknown share v2 delete", q: req{method: "DELETE", path: "/api/v2/shared_servers/1", token: owner}, status: 404},
		{name: "unknown share v1 delete", q: req{method: "DELETE", path: "/api/servers/" + MinimalMachineID + "/shared_servers/1", token: owner}, status: 404},
		{name: "unknown share v1 update", q: req{method: "PUT", path: "/api/servers/" + MinimalMachineID + "/shared_servers/1", token: owner,
			body: `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[132920523]}}`}, status: 404},
		{name: "unknown home user", q: req{method: "DELETE", path: "/api/v2/home/users/22526914", token: owner}, status: 404},
		{name: "unknown sharings user", q: req{method: "DELETE", path: "/api/v2/sharings/41234567", token: owner}, status: 404},
		{name: "validate unknown username", q: req{method: "POST", path: "/api/users/validate?invited_email=nobody", token: owner}, status: 400},
		{name: "validate email", q: req{method: "POST", path: "/api/users/validate?invited_email=new%40example.com", token: owner},
			status: 200, body: `<Response code="0" status="Valid user"/>`},
		{name: "managed user without name", q: req{method: "POST", path: "/api/v2/home/users/restricted", token: owner}, status: 400},
		{name: "PMS without token", q: req{method: "GET", path: "/status/sessions"}, status: 401},
		{name: "PMS with friend token", q: req{method: "GET", path: "/status/sessions", token: "alice-token"}, status: 401},
		{name: "PMS with unknown token", q: req{method: "GET", path: "/", token: "nope"}, status: 401},
		{name: "PMS with server token", q: req{method: "GET", path: "/", token: MinimalServerToken}, status: 200},
		{name: "identity needs no token", q: req{method: "GET", path: "/identity"}, status: 200},
		{name: "unknown pms prefix", q: req{method: "GET", path: "/pms/nope/identity"}, status: 404},
		{name: "terminate empty sessionId", q: req{method: "GET", path: "/status/sessions/terminate?sessionId=&reason=x", token: owner}, status: 403},
		{name: "terminate no sessionId", q: req{method: "GET", path: "/status/sessions/terminate?reason=x", token: owner}, status: 403},
		{name: "terminate wrong case", q: req{method: "GET", path: "/status/sessions/terminate?sessionid=abc&reason=x", token: owner}, status: 400},
		{name: "terminate unknown", q: req{method: "POST", path: "/status/sessions/terminate?sessionId=abc&reason=x", token: owner}, status: 404},
		{name: "terminate as friend", q: req{method: "GET", path: "/status/sessions/terminate?sessionId=abc", token: "alice-token"}, status: 401},
		{name: "history encoded operator", q: req{method: "GET", path: "/status/sessions/history/all?viewedAt%3E%3D1700000000", token: owner}, status: 400},
		{name: "history encoded key with =", q: req{method: "GET", path: "/status/sessions/history/all?viewedAt%3E=1700000000", token: owner}, status: 400},
		{name: "history raw operator", q: req{method: "GET", path: "/status/sessions/history/all?viewedAt>=1700000000&sort=viewedAt%3Adesc", token: owner}, status: 200},
		{name: "history bad sort", q: req{method: "GET", path: "/status/sessions/history/all?sort=title", token: owner}, status: 400},
		{name: "history bad size", q: req{method: "GET", path: "/status/sessions/history/all?X-Plex-Container-Size=x", token: owner}, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, Options{})
			r := do(t, f, tt.q)
			mustStatus(t, r, tt.status)
			if tt.body != "" && !strings.HasSuffix(strings.TrimSpace(r.body), tt.body) {
				t.Fatalf("body = %q, want %q", r.body, tt.body)
			}
			if tt.contains != "" && !strings.Contains(r.body, tt.contains) {
				t.Fatalf("body = %q, want it to contain %q", r.body, tt.contains)
			}
			if tt.status >= 400 && len(f.Shares()) != 3 {
				t.Fatalf("a refused call changed the shares: %+v", f.Shares())
			}
		})
	}
}

func TestTerminateNeedsPlexPass(t *testing.T) {
	f := newFake(t, Options{NoPlexPass: true})
	s := f.StartSession(MinimalMachineID, Session{AccountID: 22526914})
	r := do(t, f, req{method: "GET", path: "/status/sessions/terminate?sessionId=" + s.ID + "&reason=bye", token: "owner-token"})
	mustStatus(t, r, 401)
	if len(f.Sessions(MinimalMachineID)) != 1 || len(f.Terminations()) != 0 {
		t.Fatal("a refused terminate stopped the session")
	}
	root := decodeXML(t, do(t, f, req{method: "GET", path: "/", token: "owner-token"}))
	if root.attr("myPlexSubscription") != "0" {
		t.Fatalf("myPlexSubscription = %q", root.attr("myPlexSubscription"))
	}
}

func TestTokenInQueryIsLogged(t *testing.T) {
	f := newFake(t, Options{})
	mustStatus(t, do(t, f, req{method: "GET", path: "/api/v2/user?X-Plex-Token=owner-token", json: true}), 200)
	mustStatus(t, do(t, f, req{method: "GET", path: "/api/v2/user", token: "owner-token", json: true}), 200)
	calls := f.Calls()
	if len(calls) != 2 || !calls[0].TokenInQuery || calls[1].TokenInQuery {
		t.Fatalf("TokenInQuery = %v, %v", calls[0].TokenInQuery, calls[1].TokenInQuery)
	}
	if calls[0].Route != "GET /api/v2/user" || calls[0].Status != 200 {
		t.Fatalf("call = %+v", calls[0])
	}
}

func TestRetireAnyRoute(t *testing.T) {
	f := newFake(t, Options{})
	f.Retire("POST /api/v2/shared_servers")
	r := do(t, f, req{method: "POST", path: "/api/v2/shared_servers", token: "owner-token", json: true, body: `{}`})
	mustStatus(t, r, 410)
	f.Retire("GET /api/servers/{machineId}/shared_servers")
	mustStatus(t, do(t, f, req{method: "GET", path: "/api/servers/" + MinimalMachineID + "/shared_servers", token: "owner-token"}), 410)
	f.Unretire("POST /api/v2/shared_servers")
	mustStatus(t, do(t, f, req{method: "POST", path: "/api/v2/shared_servers", token: "owner-token", json: true, body: `{}`}), 400)
	if n := f.CallCount("POST /api/v2/shared_servers"); n != 2 {
		t.Fatalf("CallCount = %d", n)
	}
}
