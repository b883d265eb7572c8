package users

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// bulkSeed is SeedMinimal plus n friends (ids 60000001…) sharing Movies only.
func bulkSeed(n int) (plextest.Seed, []int64) {
	s := plextest.SeedMinimal()
	var ids []int64
	for i := range n {
		id := int64(60000001 + i)
		ids = append(ids, id)
		s.Accounts = append(s.Accounts, plextest.Account{ID: id, UUID: fmt.Sprintf("%016x", id), Username: fmt.Sprintf("friend%02d", i),
			Email: fmt.Sprintf("friend%02d@example.com", i), Token: fmt.Sprintf("token-%d", id)})
		s.Shares = append(s.Shares, plextest.Share{ID: 908000000 + id, MachineID: plextest.MinimalMachineID, UserID: id,
			SectionIDs: []int64{plextest.SectionMovies}})
	}
	return s, ids
}

// hiddenInput matches the hidden fields of the preview's apply form.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestBulkEditOfFiftyUsers previews, then applies, an edit of 50 users through the pages: the
// preview changes nothing, the apply form carries exactly the previewed edit, and afterwards the
// fake has exactly the expected shares.
func TestBulkEditOfFiftyUsers(t *testing.T) {
	seed, ids := bulkSeed(50)
	e := newEnv(t, envOptions{seed: seed})
	pairs := []string{"action", "edit", "lib_mode", "add", "lib", srvID + "/8", "downloads", "on", "reason", "season pass"}
	for _, id := range ids {
		pairs = append(pairs, "id", fmt.Sprint(id))
	}
	before := e.snap()
	rec := e.srv.Do("POST", "/users/bulk/preview", web.RoleModerator, form(pairs...))
	wantStatus(t, rec, http.StatusOK, "preview")
	if !strings.Contains(rec.Body.String(), "Preview: 50 users would change") {
		t.Fatalf("preview: %s", rec.Body.String())
	}
	e.unchanged(before, "preview of 50 users")

	// Submit the preview's own apply form.
	apply := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(rec.Body.String(), -1) {
		apply.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if len(apply["id"]) != 50 || apply.Get("lib_mode") != "add" || apply.Get("downloads") != "on" {
		t.Fatalf("the apply form does not carry the previewed edit: %v", apply)
	}
	rec = e.srv.Do("POST", "/users/bulk/apply", web.RoleModerator, strings.NewReader(apply.Encode()))
	wantStatus(t, rec, http.StatusOK, "apply")
	if !strings.Contains(rec.Body.String(), "50 users changed and pushed to Plex.") {
		t.Fatalf("apply: %s", rec.Body.String())
	}

	want := sections("4", "8")
	got := map[int64]plextest.Share{}
	for _, sh := range e.fake.SharesFor(srvID) {
		got[sh.UserID] = sh
	}
	if len(got) != 53 {
		t.Errorf("the fake has %d shares, want 53", len(got))
	}
	for _, id := range ids {
		sh, ok := got[id]
		if !ok || !slices.Equal(sortedIDs(sh.SectionIDs), want) || !sh.AllowSync || sh.Pending {
			t.Errorf("user %d on the fake: %+v", id, sh)
		}
		if u := e.user(id); !slices.Equal(u.Shares[srvID].Libraries, []string{"4", "8"}) {
			t.Errorf("user %d stored libraries %v", id, u.Shares[srvID].Libraries)
		}
	}
	// The seed's own friends were not touched.
	if sh := got[aliceID]; !slices.Equal(sortedIDs(sh.SectionIDs), sections("4", "8")) || !sh.AllowSync {
		t.Errorf("alice changed: %+v", sh)
	}
	if sh := got[carolID]; !slices.Equal(sh.SectionIDs, sections("4")) || sh.AllowSync {
		t.Errorf("carol changed: %+v", sh)
	}
}

// TestBulkAPIRemovesUsers previews and applies a bulk removal of 10 users through the API.
func TestBulkAPIRemovesUsers(t *testing.T) {
	seed, ids := bulkSeed(20)
	e := newEnv(t, envOptions{seed: seed})
	gone := ids[:10]
	body, _ := json.Marshal(BulkRequest{UserIDs: gone, Remove: true, Reason: "spring cleaning"})
	before := e.snap()
	rec := e.srv.API("POST", "/users/bulk/preview", web.RoleModerator, string(body))
	wantStatus(t, rec, http.StatusOK, "preview")
	if rep := webtest.Decode[access.BulkReport](t, rec); rep.Changed != 10 || len(rep.Items) != 10 || rep.Items[0].Result != access.ResultPlanned {
		t.Fatalf("preview = %+v", rep)
	}
	e.unchanged(before, "bulk preview")
	for _, tc := range []struct{ body, field string }{
		{`{"user_ids":[],"whitelisted":true}`, "user_ids"},
		{fmt.Sprintf(`{"user_ids":[%d]}`, ids[0]), "operation"},
		{fmt.Sprintf(`{"user_ids":[%d],"remove":true,"whitelisted":true}`, ids[0]), "remove"},
		{fmt.Sprintf(`{"user_ids":[%d],"extend_days":5,"expires_at":null}`, ids[0]), "extend_days"},
		{fmt.Sprintf(`{"user_ids":[%d],"expires_at":"next week"}`, ids[0]), "expires_at"},
		{fmt.Sprintf(`{"user_ids":["%d"]}`, ids[0]), "user_ids"},
	} {
		rec := e.srv.API("POST", "/users/bulk", web.RoleModerator, tc.body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", tc.body, rec.Code)
		} else if b := webtest.Decode[web.ErrorBody](t, rec); b.Field != tc.field {
			t.Errorf("%s: %+v, want field %s", tc.body, b, tc.field)
		}
		e.unchanged(before, tc.body)
	}
	rec = e.srv.API("POST", "/users/bulk", web.RoleModerator, string(body))
	wantStatus(t, rec, http.StatusOK, "apply")
	if rep := webtest.Decode[access.BulkReport](t, rec); rep.Changed != 10 || rep.Failed != 0 {
		t.Fatalf("apply = %+v", rep)
	}
	left := map[int64]bool{}
	for _, sh := range e.fake.SharesFor(srvID) {
		left[sh.UserID] = true
	}
	for i, id := range ids {
		if left[id] == (i < 10) {
			t.Errorf("user %d: shared %v after removing the first ten", id, left[id])
		}
	}
}
