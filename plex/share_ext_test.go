package plex_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

const notFound1002 = `{"errors":[{"code":1002,"message":"The requested resource or endpoint could not be found","status":404}]}`

func TestShareV2(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{
		MachineID: machineID, Invitee: "dave", SectionIDs: []int64{plextest.SectionMovies, plextest.SectionTVShows},
		Settings: plex.ShareSettings{AllowSync: true, Filters: plex.Filters{Movies: "contentRating=G%2CPG|label!=adult"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	call := e.lastCall(t, "POST /api/v2/shared_servers")
	want := `{"machineIdentifier":"` + machineID + `","invitedEmail":"dave","librarySectionIds":[132920523,132920531],` +
		`"settings":{"allowSync":true,"allowCameraUpload":false,"allowChannels":false,"allowTuners":0,"allowSubtitleAdmin":false,` +
		`"filterMovies":"contentRating=G%2CPG|label!=adult","filterTelevision":"","filterMusic":"","filterPhotos":null,"filterAll":null},` +
		`"skipFriendship":true}`
	if string(call.Body) != want {
		t.Errorf("body\n got %s\nwant %s", call.Body, want)
	}
	if call.Header.Get("Content-Type") != "application/json" || call.Header.Get("Accept") != "application/json" || call.Status != 201 {
		t.Errorf("call: %v status %d", call.Header, call.Status)
	}
	if res.ShareID == 0 || res.InviteeID != daveID || !res.Pending || res.Legacy ||
		!slices.Equal(res.SectionIDs, []int64{plextest.SectionMovies, plextest.SectionTVShows}) || !slices.Equal(res.LibraryKeys, []string{"4", "8"}) {
		t.Errorf("result = %+v", res)
	}
	s, ok := e.fake.ShareOf(machineID, daveID)
	if !ok || s.ID != res.ShareID || !s.Pending || !s.AllowSync || !s.SkipFriendship || s.AllLibraries ||
		s.FilterMovies != "contentRating=G%2CPG|label!=adult" || !slices.Equal(s.SectionIDs, []int64{plextest.SectionMovies, plextest.SectionTVShows}) {
		t.Errorf("fake share = %+v", s)
	}

	// The same again: 422, already shared (pending counts).
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, InviteeID: daveID, SectionIDs: []int64{plextest.SectionMovies}})
	pe := wantKind(t, err, plex.ErrAlreadyShared)
	if pe.Status != 422 || pe.Code != 1999 {
		t.Errorf("duplicate error = %+v", pe)
	}
	if e.fake.CallCount("POST /api/servers/{machineId}/shared_servers") != 0 {
		t.Error("a 422 fell back to v1")
	}
}

func TestShareAllAndRefusals(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave@example.com", ShareAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.lastCall(t, "POST /api/v2/shared_servers").Body), `"librarySectionIds":[]`) || !res.AllLibraries {
		t.Errorf("ShareAll body %s, result %+v", e.lastCall(t, "POST /api/v2/shared_servers").Body, res)
	}
	if s, _ := e.fake.ShareOf(machineID, daveID); !s.AllLibraries {
		t.Errorf("fake share = %+v", s)
	}

	e.fake.ResetCalls()
	refused := []plex.ShareRequest{
		{MachineID: machineID, Invitee: "erin"},                                            // empty list = everything
		{MachineID: machineID, Invitee: "erin", SectionIDs: []int64{}},                     // same
		{MachineID: machineID, Invitee: "erin", ShareAll: true, SectionIDs: []int64{1}},    // both
		{MachineID: machineID, SectionIDs: []int64{plextest.SectionMovies}},                // nobody
		{MachineID: machineID, Invitee: "erin", InviteeID: erinID, SectionIDs: []int64{1}}, // two invitees
		{Invitee: "erin", SectionIDs: []int64{plextest.SectionMovies}},                     // no server
		{MachineID: machineID, Invitee: "erin", SectionIDs: []int64{0}},                    // not an id
		{MachineID: machineID, Invitee: "erin", SectionIDs: []int64{plextest.SectionMovies}, // bad filter
			Settings: plex.ShareSettings{Filters: plex.Filters{Music: "contentRating=G"}}},
	}
	for i, req := range refused {
		_, err := e.client.Share(ctx(t), e.token, req)
		wantKind(t, err, plex.ErrInvalidArgument)
		if i == 0 && !strings.Contains(err.Error(), "every library") {
			t.Errorf("the refusal does not explain itself: %v", err)
		}
	}
	if n := len(e.fake.Calls()); n != 0 {
		t.Errorf("refused requests made %d calls", n)
	}

	// plex.tv's own refusals.
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "erin", SectionIDs: []int64{4, 8}})
	wantKind(t, err, plex.ErrBadRequest) // server keys instead of section ids
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "no such user", SectionIDs: []int64{plextest.SectionMovies}})
	wantKind(t, err, plex.ErrBadRequest)
}

func TestShareFallsBackToV1(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.fake.Retire("POST /api/v2/shared_servers")
	res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave",
		SectionIDs: []int64{plextest.SectionTVShows}, Settings: plex.ShareSettings{AllowChannels: true, Filters: plex.Filters{Television: "label=kids"}}})
	if err != nil {
		t.Fatal(err)
	}
	v1 := e.lastCall(t, "POST /api/servers/{machineId}/shared_servers")
	want := `{"server_id":"` + machineID + `","shared_server":{"library_section_ids":[132920531],"invited_email":"dave"},` +
		`"sharing_settings":{"allowSync":"0","allowCameraUpload":"0","allowChannels":"1","filterMovies":"","filterTelevision":"label=kids","filterMusic":""}}`
	if string(v1.Body) != want {
		t.Errorf("v1 body\n got %s\nwant %s", v1.Body, want)
	}
	if !res.Legacy || res.ShareID == 0 || !res.Pending || res.InviteeID != daveID || !slices.Equal(res.LibraryKeys, []string{"8"}) {
		t.Errorf("result = %+v", res)
	}
	if s, ok := e.fake.ShareOf(machineID, daveID); !ok || !s.AllowChannels || s.FilterTelevision != "label=kids" || s.ID != res.ShareID {
		t.Errorf("fake share = %+v", s)
	}

	// v1 duplicate: 400 "already sharing".
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, InviteeID: aliceID, SectionIDs: []int64{plextest.SectionMovies}})
	pe := wantKind(t, err, plex.ErrAlreadyShared)
	if pe.Status != 400 || !strings.Contains(pe.Message, "already sharing") {
		t.Errorf("v1 duplicate = %+v", pe)
	}

	// ShareAll has no v1 form: the 410 is returned, v1 is not called.
	before := e.fake.CallCount("POST /api/servers/{machineId}/shared_servers")
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "erin", ShareAll: true})
	wantKind(t, err, plex.ErrGone)
	if e.fake.CallCount("POST /api/servers/{machineId}/shared_servers") != before {
		t.Error("ShareAll fell back to v1")
	}
}

func TestShareFallbackOn404Code1002Only(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	e.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 404, Body: notFound1002, Count: 1})
	res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave", SectionIDs: []int64{plextest.SectionMovies}})
	if err != nil || !res.Legacy {
		t.Fatalf("404 code 1002 did not fall back: %+v, %v", res, err)
	}

	e.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers", Status: 404, Body: `{"errors":[{"code":1001,"message":"nope"}]}`, Count: 1})
	before := e.fake.CallCount("POST /api/servers/{machineId}/shared_servers")
	_, err = e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "erin", SectionIDs: []int64{plextest.SectionMovies}})
	wantKind(t, err, plex.ErrNotFound)
	if e.fake.CallCount("POST /api/servers/{machineId}/shared_servers") != before {
		t.Error("a plain 404 fell back to v1")
	}
}

func TestUpdateShare(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	const aliceShare = 907759180
	settings := plex.ShareSettings{AllowChannels: true, Filters: plex.Filters{Movies: "label!=adult"}}
	if err := e.client.UpdateShare(ctx(t), e.token, machineID, aliceShare, []int64{plextest.SectionMovies}, settings); err != nil {
		t.Fatal(err)
	}
	call := e.lastCall(t, "POST /api/v2/shared_servers/{id}")
	want := `{"settings":{"allowSync":false,"allowCameraUpload":false,"allowChannels":true,"allowTuners":0,"allowSubtitleAdmin":false,` +
		`"filterMovies":"label!=adult","filterTelevision":"","filterMusic":"","filterPhotos":null,"filterAll":null},"librarySectionIds":[132920523]}`
	if string(call.Body) != want || call.Path != "/api/v2/shared_servers/907759180" {
		t.Errorf("%s body\n got %s\nwant %s", call.Path, call.Body, want)
	}
	s, _ := e.fake.ShareOf(machineID, aliceID)
	if s.AllowSync || !s.AllowChannels || s.FilterMovies != "label!=adult" || !slices.Equal(s.SectionIDs, []int64{plextest.SectionMovies}) {
		t.Errorf("fake share = %+v", s)
	}

	// Never an empty list.
	e.fake.ResetCalls()
	wantKind(t, e.client.UpdateShare(ctx(t), e.token, machineID, aliceShare, nil, settings), plex.ErrInvalidArgument)
	wantKind(t, e.client.UpdateShare(ctx(t), e.token, machineID, 0, []int64{1}, settings), plex.ErrInvalidArgument)
	if n := len(e.fake.Calls()); n != 0 {
		t.Errorf("refused updates made %d calls", n)
	}

	// An update is idempotent: a 500 is retried.
	e.fake.Inject(plextest.Fault{Route: "POST /api/v2/shared_servers/{id}", Status: 500, Count: 1})
	if err := e.client.UpdateShare(ctx(t), e.token, machineID, aliceShare, []int64{plextest.SectionTVShows}, settings); err != nil {
		t.Fatalf("update after one 500: %v", err)
	}
	if n := len(e.calls("POST /api/v2/shared_servers/{id}")); n != 2 {
		t.Errorf("%d update calls, want 2", n)
	}

	// Fallback to v1 PUT.
	e.fake.Retire("POST /api/v2/shared_servers/{id}")
	if err := e.client.UpdateShare(ctx(t), e.token, machineID, aliceShare, []int64{plextest.SectionMusic, plextest.SectionMovies}, plex.ShareSettings{AllowSync: true}); err != nil {
		t.Fatal(err)
	}
	put := e.lastCall(t, "PUT /api/servers/{machineId}/shared_servers/{id}")
	want = `{"server_id":"` + machineID + `","shared_server":{"library_section_ids":[132920520,132920523]},` +
		`"sharing_settings":{"allowSync":"1","allowCameraUpload":"0","allowChannels":"0","filterMovies":"","filterTelevision":"","filterMusic":""}}`
	if string(put.Body) != want {
		t.Errorf("v1 body\n got %s\nwant %s", put.Body, want)
	}
	if s, _ := e.fake.ShareOf(machineID, aliceID); !s.AllowSync || !slices.Equal(s.SectionIDs, []int64{plextest.SectionMusic, plextest.SectionMovies}) {
		t.Errorf("fake share after v1 = %+v", s)
	}
	err := e.client.UpdateShare(ctx(t), e.token, machineID, 123, []int64{plextest.SectionMovies}, settings)
	wantKind(t, err, plex.ErrNotFound)
}

func TestRemoveShareAndFriend(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	if err := e.client.RemoveShare(ctx(t), e.token, machineID, 907759182); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.ShareOf(machineID, carolID); ok {
		t.Error("carol's share is still there")
	}
	if c := e.lastCall(t, "DELETE /api/v2/shared_servers/{id}"); c.Path != "/api/v2/shared_servers/907759182" || c.Status != 204 {
		t.Errorf("call %s → %d", c.Path, c.Status)
	}
	// Already gone: v2 404 code 1002 → v1 → 404 → ErrNotFound.
	wantKind(t, e.client.RemoveShare(ctx(t), e.token, machineID, 907759182), plex.ErrNotFound)
	if e.fake.CallCount("DELETE /api/servers/{machineId}/shared_servers/{id}") != 1 {
		t.Error("the v1 route was not tried")
	}

	e.fake.Retire("DELETE /api/v2/shared_servers/{id}")
	if err := e.client.RemoveShare(ctx(t), e.token, machineID, 907759180); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.ShareOf(machineID, aliceID); ok {
		t.Error("alice's share survived the v1 delete")
	}
	wantKind(t, e.client.RemoveShare(ctx(t), e.token, machineID, 0), plex.ErrInvalidArgument)

	if err := e.client.RemoveFriend(ctx(t), e.token, bobID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.ShareOf(machineID, bobID); ok {
		t.Error("bob still has a share")
	}
	if c := e.lastCall(t, "DELETE /api/v2/sharings/{userId}"); c.Path != "/api/v2/sharings/"+strconv.Itoa(bobID) {
		t.Errorf("path %s", c.Path)
	}
	wantKind(t, e.client.RemoveFriend(ctx(t), e.token, bobID), plex.ErrNotFound)
	wantKind(t, e.client.RemoveFriend(ctx(t), e.token, 0), plex.ErrInvalidArgument)
}

func TestCancelInvite(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	seedUsers(t, e)
	invites, err := e.client.ListPendingInvites(ctx(t), e.token)
	if err != nil || len(invites) != 2 {
		t.Fatalf("invites = %+v, %v", invites, err)
	}
	var byEmail, byID plex.PendingInvite
	for _, inv := range invites {
		if inv.InviteeID == 0 {
			byEmail = inv
		} else {
			byID = inv
		}
	}
	if err := e.client.CancelInvite(ctx(t), e.token, byID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.ShareOf(machineID, daveID); ok {
		t.Error("dave's invitation is still there")
	}

	// With the v2 route retired, the v1 invites route is used, keyed by the
	// address and with the invitation's flags.
	e.fake.Retire("DELETE /api/v2/shared_servers/{id}")
	if err := e.client.CancelInvite(ctx(t), e.token, byEmail); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.fake.Shares() {
		if s.Pending && s.InvitedEmail == byEmail.Email {
			t.Error("the invitation by email is still there")
		}
	}
	// Cancelling again finds nothing; with the v1 route retired too, it is gone.
	wantKind(t, e.client.CancelInvite(ctx(t), e.token, byEmail), plex.ErrNotFound)
	e.fake.Retire("DELETE /api/invites/requested/{id}")
	wantKind(t, e.client.CancelInvite(ctx(t), e.token, byEmail), plex.ErrGone)
	var v1 *plextest.Call
	for _, c := range e.fake.Calls() {
		if c.Method == "DELETE" && strings.HasPrefix(c.Path, "/api/invites/requested/") {
			v1 = &c
		}
	}
	if v1 == nil || v1.Path != "/api/invites/requested/newbie@example.com" || v1.RawQuery != "friend=0&server=1&home=0" {
		t.Errorf("v1 call = %+v", v1)
	}
	wantKind(t, e.client.CancelInvite(ctx(t), e.token, plex.PendingInvite{}), plex.ErrInvalidArgument)
}

func TestAcceptInvite(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, Invitee: "dave@example.com", SectionIDs: []int64{plextest.SectionMovies}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.client.AcceptInvite(ctx(t), "dave-token", machineID)
	if err != nil {
		t.Fatal(err)
	}
	if id != res.ShareID {
		t.Errorf("accepted %d, want %d", id, res.ShareID)
	}
	if s, _ := e.fake.ShareOf(machineID, daveID); s.Pending || s.AcceptedAt.IsZero() {
		t.Errorf("fake share = %+v", s)
	}
	if c := e.lastCall(t, "POST /api/v2/shared_servers/{id}/accept"); c.Header.Get("X-Plex-Token") != "dave-token" {
		t.Error("accepted with the wrong token")
	}
	_, err = e.client.AcceptInvite(ctx(t), "dave-token", machineID)
	wantKind(t, err, plex.ErrNotFound) // nothing pending any more

	// An account whose email is not verified.
	if _, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, InviteeID: erinID, SectionIDs: []int64{plextest.SectionMovies}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.AcceptInvite(ctx(t), "erin-token", machineID)
	pe := wantKind(t, err, plex.ErrUnverifiedEmail)
	if pe.Status != 403 {
		t.Errorf("unverified = %+v", pe)
	}
	_, err = e.client.AcceptInvite(ctx(t), "erin-token", "")
	wantKind(t, err, plex.ErrInvalidArgument)
}

func TestValidateInvitee(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	for _, who := range []string{"dave", "alice@example.com", "someone.new@example.com"} {
		if err := e.client.ValidateInvitee(ctx(t), e.token, who); err != nil {
			t.Errorf("%s: %v", who, err)
		}
	}
	if q := e.lastCall(t, "POST /api/users/validate").RawQuery; q != "invited_email=someone.new%40example.com" {
		t.Errorf("query = %q", q)
	}
	wantKind(t, e.client.ValidateInvitee(ctx(t), e.token, "no such user"), plex.ErrNotFound)
	wantKind(t, e.client.ValidateInvitee(ctx(t), e.token, " "), plex.ErrInvalidArgument)
	wantKind(t, e.client.ValidateInvitee(ctx(t), "bad", "dave"), plex.ErrUnauthorized)
}

func TestHomeManagedUsers(t *testing.T) {
	e := newEnv(t, plextest.Options{})
	kid, err := e.client.CreateManagedUser(ctx(t), e.token, "Little One", "little_kid")
	if err != nil {
		t.Fatal(err)
	}
	if kid.ID == 0 || !kid.Managed || kid.Title != "Little One" || kid.RestrictionProfile != "little_kid" {
		t.Errorf("kid = %+v", kid)
	}
	if q := e.lastCall(t, "POST /api/v2/home/users/restricted").RawQuery; q != "friendlyName=Little+One&restrictionProfile=little_kid" {
		t.Errorf("query = %q", q)
	}
	if a, ok := e.fake.Account(kid.ID); !ok || !a.Managed || !a.Home {
		t.Errorf("fake account = %+v", a)
	}
	res, err := e.client.Share(ctx(t), e.token, plex.ShareRequest{MachineID: machineID, InviteeID: kid.ID, SectionIDs: []int64{plextest.SectionMovies}})
	if err != nil || res.Pending {
		t.Errorf("managed share = %+v, %v (managed users cannot accept: it must be active at once)", res, err)
	}
	var body map[string]any
	if err := json.Unmarshal(e.lastCall(t, "POST /api/v2/shared_servers").Body, &body); err != nil || body["invitedId"] != float64(kid.ID) || body["invitedEmail"] != nil {
		t.Errorf("share body = %v, %v", body, err)
	}

	if err := e.client.RemoveHomeUser(ctx(t), e.token, kid.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.Account(kid.ID); ok {
		t.Error("the managed user still exists")
	}
	wantKind(t, e.client.RemoveHomeUser(ctx(t), e.token, kid.ID), plex.ErrNotFound)

	// v1 fallback for removal.
	kid2, err := e.client.CreateManagedUser(ctx(t), e.token, "Second", "")
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Retire("DELETE /api/v2/home/users/{id}")
	before := e.fake.CallCount("DELETE /api/home/users/{id}")
	if err := e.client.RemoveHomeUser(ctx(t), e.token, kid2.ID); err != nil {
		t.Fatal(err)
	}
	if e.fake.CallCount("DELETE /api/home/users/{id}") != before+1 {
		t.Error("v1 removal not used")
	}

	// Creation with a profile never falls back (v1 would drop the profile).
	e.fake.Retire("POST /api/v2/home/users/restricted")
	_, err = e.client.CreateManagedUser(ctx(t), e.token, "Third", "little_kid")
	wantKind(t, err, plex.ErrGone)
	// Without a profile it falls back to the v1 route.
	third, err := e.client.CreateManagedUser(ctx(t), e.token, "Third", "")
	if err != nil || third.ID == 0 || !third.Managed || third.Title != "Third" {
		t.Errorf("v1 managed user = %+v, %v", third, err)
	}
	if q := e.lastCall(t, "POST /api/home/users").RawQuery; q != "title=Third" {
		t.Errorf("v1 query = %q", q)
	}
	if a, ok := e.fake.Account(third.ID); !ok || !a.Managed || !a.Home {
		t.Errorf("fake account = %+v", a)
	}
	_, err = e.client.CreateManagedUser(ctx(t), e.token, "", "")
	wantKind(t, err, plex.ErrInvalidArgument)
}
