package users

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// follow requests the redirect target of rec as role, carrying the cookies rec set (the flash).
func (e *env) follow(rec *httptest.ResponseRecorder, as web.Role) *httptest.ResponseRecorder {
	e.t.Helper()
	loc := location(rec)
	if rec.Code != http.StatusSeeOther || loc == "" {
		e.t.Fatalf("not a redirect: %d %s", rec.Code, rec.Body.String())
	}
	cookies := []string{"webtest_role=" + as.String()}
	for _, c := range rec.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return e.srv.Do("GET", strings.TrimPrefix(loc, "/m"), as, nil, "Cookie", strings.Join(cookies, "; "))
}

func TestListHTMXFragmentVersusFullPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	full := e.srv.Do("GET", "/users?q=ali", web.RoleAuditor, nil)
	wantStatus(t, full, http.StatusOK, "full page")
	if b := full.Body.String(); !strings.Contains(b, "<!doctype html>") || !strings.Contains(b, `id="user-results"`) || !strings.Contains(b, `role="search"`) {
		t.Error("the full page lacks the document, the filter form or the results")
	}
	frag := e.srv.Do("GET", "/users?q=ali", web.RoleAuditor, nil, "HX-Request", "true", "HX-Target", "user-results")
	wantStatus(t, frag, http.StatusOK, "fragment")
	b := strings.TrimSpace(frag.Body.String())
	if !strings.HasPrefix(b, `<div id="user-results"`) || strings.Contains(b, "<html") || strings.Contains(b, `role="search"`) {
		t.Errorf("the htmx answer is not just the results block: %.200s", b)
	}
	if !strings.Contains(b, ">alice</a>") || strings.Contains(b, ">bob</a>") {
		t.Errorf("the live search did not filter: %s", b)
	}
	// Other htmx requests (a boosted link, another target) get the page's content block.
	content := e.srv.Do("GET", "/users", web.RoleAuditor, nil, "HX-Request", "true")
	if cb := content.Body.String(); strings.Contains(cb, "<html") || !strings.Contains(cb, `role="search"`) {
		t.Error("an htmx request without the results target did not get the content block")
	}
	// A bad filter is a 400 with the reason, in the fragment too.
	bad := e.srv.Do("GET", "/users?status=gone", web.RoleAuditor, nil, "HX-Request", "true", "HX-Target", "user-results")
	wantStatus(t, bad, http.StatusBadRequest, "bad filter fragment")
	if !strings.Contains(bad.Body.String(), "The filter status must be one of") {
		t.Errorf("bad filter message missing: %s", bad.Body.String())
	}
}

func TestListPagingAndSortLinks(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := e.srv.Do("GET", "/users?per_page=2&sort=-username", web.RoleAuditor, nil)
	wantStatus(t, rec, http.StatusOK, "page 1")
	b := rec.Body.String()
	if !strings.Contains(b, "page 1 of 2") || !strings.Contains(b, `href="/m/users?page=2&amp;per_page=2&amp;sort=-username"`) {
		t.Errorf("paging links missing: %s", b)
	}
	if i, j := strings.Index(b, ">carol</a>"), strings.Index(b, ">bob</a>"); i < 0 || j < 0 || i > j {
		t.Error("descending sort not applied")
	}
	if !strings.Contains(b, `aria-sort="descending"`) || !strings.Contains(b, `<a href="/m/users?per_page=2">User</a>`) {
		t.Error("the sorted column does not toggle")
	}
	rec = e.srv.Do("GET", "/users?per_page=2&page=2&sort=-username", web.RoleAuditor, nil)
	if b := rec.Body.String(); !strings.Contains(b, ">alice</a>") || !strings.Contains(b, "Previous page") || strings.Contains(b, "Next page") {
		t.Error("page 2 is wrong")
	}
}

func TestUserPageEditsArePushedToPlex(t *testing.T) {
	e := newEnv(t, envOptions{})
	base := fmt.Sprintf("/users/%d", carolID)
	post := func(section string, pairs ...string) *httptest.ResponseRecorder {
		t.Helper()
		rec := e.srv.Do("POST", base+"/"+section, web.RoleModerator, form(pairs...))
		wantStatus(t, rec, http.StatusSeeOther, section)
		return rec
	}
	// Libraries: Movies and Music.
	rec := post("libraries", "server", srvID, "lib", srvID+"/4", "lib", srvID+"/1")
	if page := e.follow(rec, web.RoleModerator); !strings.Contains(page.Body.String(), "Libraries saved and pushed to Plex.") {
		t.Errorf("no result shown after saving: %s", page.Body.String())
	}
	sh, ok := e.shareOf(carolID)
	if !ok || !slices.Equal(sortedIDs(sh.SectionIDs), sections("1", "4")) {
		t.Fatalf("fake share after the library edit: %+v", sh)
	}
	// Downloads and a TV filter; the movie filter stays.
	post("access", "allow_downloads", "on", "filter_movies", "contentRating=G%2CPG|label!=adult", "filter_television", "label!=scary",
		"stream_limit", "2", "no_4k_transcode", "on")
	sh, _ = e.shareOf(carolID)
	if !sh.AllowSync || sh.FilterTelevision != "label!=scary" || sh.FilterMovies != "contentRating=G%2CPG|label!=adult" {
		t.Errorf("fake share after the access edit: allowSync %v tv %q movies %q", sh.AllowSync, sh.FilterTelevision, sh.FilterMovies)
	}
	if u := e.user(carolID); u.StreamLimit != 2 || !u.No4KTranscode {
		t.Errorf("stream settings = %d %v", u.StreamLimit, u.No4KTranscode)
	}
	// Notes and whitelist.
	post("notes", "notes", "pays yearly", "whitelisted", "on")
	if u := e.user(carolID); u.Notes != "pays yearly" || !u.Whitelisted {
		t.Errorf("notes = %q whitelisted %v", u.Notes, u.Whitelisted)
	}
	// The window: an expiry in a week, then extended by 3 days, then one in the past ends access.
	post("window", "starts_at", "", "expires_at", "2025-06-08T12:00")
	if u := e.user(carolID); u.ExpiresAt == nil || !u.ExpiresAt.Equal(time.Date(2025, 6, 8, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("expiry = %v", u.ExpiresAt)
	}
	post("window", "starts_at", "", "expires_at", "2025-06-08T12:00", "extend_days", "3")
	if u := e.user(carolID); u.ExpiresAt == nil || !u.ExpiresAt.Equal(time.Date(2025, 6, 11, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("extended expiry = %v", u.ExpiresAt)
	}
	post("window", "starts_at", "", "expires_at", "2025-05-01T00:00")
	if _, ok := e.shareOf(carolID); ok {
		t.Error("a past expiry left the share on Plex")
	}
	// Submitting an unchanged form changes nothing and says so.
	before := e.snap()
	rec = post("notes", "notes", "pays yearly", "whitelisted", "on")
	if page := e.follow(rec, web.RoleModerator); !strings.Contains(page.Body.String(), "Nothing to change.") {
		t.Error("an unchanged form did not say nothing changed")
	}
	e.unchanged(before, "unchanged form")
}

func TestUserPageUnchangedLibrariesKeepAllLibraries(t *testing.T) {
	e := newEnv(t, envOptions{})
	// bob shares every library (future ones too); saving the form as shown must not pin the list.
	rec := e.srv.Do("POST", fmt.Sprintf("/users/%d/libraries", bobID), web.RoleModerator,
		form("server", srvID, "lib", srvID+"/1", "lib", srvID+"/4", "lib", srvID+"/8"))
	wantStatus(t, rec, http.StatusSeeOther, "unchanged libraries")
	if sh := e.user(bobID).Shares[srvID]; !sh.AllLibraries {
		t.Error("saving an unchanged form turned an all-libraries share into a fixed list")
	}
	// Unchecking everything removes the server's share.
	rec = e.srv.Do("POST", fmt.Sprintf("/users/%d/libraries", bobID), web.RoleModerator, form("server", srvID))
	wantStatus(t, rec, http.StatusSeeOther, "no libraries")
	if _, ok := e.shareOf(bobID); ok {
		t.Error("unchecking every library left the share on Plex")
	}
}

func TestUserPageBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	base := fmt.Sprintf("/users/%d", aliceID)
	for _, tc := range []struct {
		section string
		pairs   []string
		field   string
		message string
	}{
		{"window", []string{"starts_at", "soon"}, "starts_at", "enter a date and time"},
		{"window", []string{"expires_at", "2025-13-01T00:00"}, "expires_at", "enter a date and time"},
		{"window", []string{"starts_at", "2030-01-02T00:00", "expires_at", "2030-01-01T00:00"}, "expires_at", "is not after the start"},
		{"window", []string{"extend_days", "0"}, "extend_days", "whole number of days"},
		{"window", []string{"extend_days", "ten"}, "extend_days", "whole number of days"},
		{"window", []string{"extend_days", "5", "expires_at", "2030-01-01T00:00"}, "extend_days", "not both"},
		{"access", []string{"allow_downloads", "on", "stream_limit", "many"}, "stream_limit", "whole number"},
		{"access", []string{"allow_downloads", "on", "stream_limit", "101"}, "stream_limit", "between 0"},
		{"access", []string{"allow_downloads", "on", "filter_movies", "not a filter"}, "filters", ""},
		{"access", []string{"allow_downloads", "on", "filter_music", "contentRating=G"}, "filters", ""},
		{"libraries", []string{"server", srvID, "lib", srvID + "/99"}, "libraries", "not on any server"},
		{"libraries", []string{"server", srvID, "lib", "nope/4"}, "libraries", "not on any server"},
		{"libraries", []string{"server", "elsewhere", "lib", srvID + "/4"}, "libraries", "not connected"},
		{"libraries", []string{"lib", srvID + "/1"}, "libraries", "incomplete"},
		{"notes", []string{"notes", strings.Repeat("n", 10001)}, "notes", "at most"},
	} {
		before := e.snap()
		rec := e.srv.Do("POST", base+"/"+tc.section, web.RoleModerator, form(tc.pairs...))
		name := tc.section + " " + strings.Join(tc.pairs, "=")
		if len(name) > 80 {
			name = name[:80]
		}
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, rec.Code)
			continue
		}
		b := rec.Body.String()
		if !strings.Contains(b, "Nothing was changed") || !strings.Contains(b, tc.message) {
			t.Errorf("%s: the page does not explain (%q)", name, tc.message)
		}
		if !strings.Contains(b, `class="field-error" id="`+tc.field+`-error"`) && !strings.Contains(b, `<p class="field-error" id="`+tc.field) {
			t.Errorf("%s: field %s not marked", name, tc.field)
		}
		e.unchanged(before, name)
	}
	// The submitted values are shown again.
	rec := e.srv.Do("POST", base+"/window", web.RoleModerator, form("starts_at", "soon", "expires_at", "2031-01-01T00:00"))
	if b := rec.Body.String(); !strings.Contains(b, `value="soon"`) || !strings.Contains(b, `value="2031-01-01T00:00"`) {
		t.Error("the window form lost the submitted values")
	}
	for _, p := range []string{"/users/abc/notes", "/users/999/notes"} {
		if rec := e.srv.Do("POST", p, web.RoleModerator, form("notes", "x")); rec.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, rec.Code)
		}
	}
}

func TestUserPageShowsPlexRefusal(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := e.snap()
	e.fake.Inject(plextestFault("", http.StatusForbidden))
	rec := e.srv.Do("POST", fmt.Sprintf("/users/%d/libraries", aliceID), web.RoleModerator, form("server", srvID, "lib", srvID+"/1"))
	wantStatus(t, rec, http.StatusUnprocessableEntity, "refused edit")
	if !strings.Contains(rec.Body.String(), "The Plex token may not do this.") {
		t.Errorf("the refusal is not explained: %s", rec.Body.String())
	}
	if got := e.user(aliceID).Shares[srvID].Libraries; !slices.Equal(got, []string{"4", "8"}) {
		t.Errorf("a refused edit changed the stored libraries: %v", got)
	}
	e.fake.ClearFaults()
	if now := e.snap(); now.shares != before.shares {
		t.Error("a refused edit changed the fake")
	}
	// Plex unreachable: saved and retried later, with a warning.
	e.fake.Inject(plextestFault("", http.StatusServiceUnavailable))
	rec = e.srv.Do("POST", fmt.Sprintf("/users/%d/libraries", aliceID), web.RoleModerator, form("server", srvID, "lib", srvID+"/1"))
	wantStatus(t, rec, http.StatusSeeOther, "edit while Plex is down")
	if page := e.follow(rec, web.RoleModerator); !strings.Contains(page.Body.String(), "Saved, but plex could not be reached; the change will be retried.") {
		t.Errorf("no retry warning: %s", page.Body.String())
	}
}

func TestRemoveAsksThenRevokes(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := e.srv.Do("GET", fmt.Sprintf("/users/%d/remove", aliceID), web.RoleModerator, nil)
	wantStatus(t, rec, http.StatusOK, "confirm page")
	if b := rec.Body.String(); !strings.Contains(b, "the share of <strong>Basement</strong> is revoked") || !strings.Contains(b, `method="post"`) {
		t.Error("the confirmation page does not say what happens")
	}
	if _, ok := e.shareOf(aliceID); !ok {
		t.Fatal("showing the confirmation removed the share")
	}
	before := e.snap()
	rec = e.srv.Do("POST", fmt.Sprintf("/users/%d/remove", aliceID), web.RoleModerator, form("reason", strings.Repeat("r", 501)))
	wantStatus(t, rec, http.StatusBadRequest, "long reason")
	e.unchanged(before, "long reason")
	rec = e.srv.Do("POST", fmt.Sprintf("/users/%d/remove", aliceID), web.RoleModerator, form("reason", "moved away"))
	wantStatus(t, rec, http.StatusSeeOther, "remove")
	if page := e.follow(rec, web.RoleModerator); !strings.Contains(page.Body.String(), "alice was removed from Plex.") {
		t.Error("no result shown")
	}
	if _, ok := e.shareOf(aliceID); ok {
		t.Error("alice is still shared on Plex")
	}
	if u := e.user(aliceID); u.Status != storage.StatusRemoved {
		t.Errorf("status = %s", u.Status)
	}
	evs, _ := e.store.ListEvents(storage.EventQuery{UserID: aliceID, Type: access.EventUserRemoved})
	if len(evs) != 1 || evs[0].Actor != "admin:test-moderator" {
		t.Errorf("removal events = %+v", evs)
	}
}

func TestBulkPagesPreviewThenApply(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := e.srv.Do("GET", fmt.Sprintf("/users/bulk?id=%d&id=%d", aliceID, carolID), web.RoleModerator, nil)
	wantStatus(t, rec, http.StatusOK, "bulk form")
	if b := rec.Body.String(); !strings.Contains(b, "2 users chosen") || !strings.Contains(b, ">alice</a>") {
		t.Error("the bulk form does not list the users")
	}
	pairs := []string{"id", fmt.Sprint(aliceID), "id", fmt.Sprint(carolID), "action", "edit", "lib_mode", "add", "lib", srvID + "/1",
		"downloads", "off", "whitelist", "on"}
	before := e.snap()
	rec = e.srv.Do("POST", "/users/bulk/preview", web.RoleModerator, form(pairs...))
	wantStatus(t, rec, http.StatusOK, "preview")
	b := rec.Body.String()
	if !strings.Contains(b, "Preview: 2 users would change") || !strings.Contains(b, "Libraries on Basement") ||
		!strings.Contains(b, "Movies, TV Shows") || !strings.Contains(b, "Music, Movies, TV Shows") || !strings.Contains(b, "Whitelisted") {
		t.Errorf("the preview does not show the changes: %s", b)
	}
	if !strings.Contains(b, `action="/m/users/bulk/apply"`) || !strings.Contains(b, `name="lib_mode" value="add"`) {
		t.Error("the preview has no apply form carrying the edit")
	}
	e.unchanged(before, "preview")
	rec = e.srv.Do("POST", "/users/bulk/apply", web.RoleModerator, form(pairs...))
	wantStatus(t, rec, http.StatusOK, "apply")
	if !strings.Contains(rec.Body.String(), "2 users changed and pushed to Plex.") {
		t.Errorf("no result: %s", rec.Body.String())
	}
	for _, id := range []int64{aliceID, carolID} {
		sh, ok := e.shareOf(id)
		if !ok || !slices.Contains(sh.SectionIDs, sections("1")[0]) || sh.AllowSync {
			t.Errorf("user %d on the fake: %+v", id, sh)
		}
		if !e.user(id).Whitelisted {
			t.Errorf("user %d not whitelisted", id)
		}
	}
	if sh, _ := e.shareOf(bobID); !sh.AllLibraries {
		t.Error("bob was changed")
	}
	// Every user matching a filter.
	rec = e.srv.Do("GET", "/users/bulk?match=1&library="+srvID+"/8", web.RoleModerator, nil)
	if b := rec.Body.String(); !strings.Contains(b, "2 users chosen") || !strings.Contains(b, ">bob</a>") || strings.Contains(b, ">carol</a>") {
		t.Errorf("match=1 chose the wrong users")
	}
}

func TestBulkPagesBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := fmt.Sprint(aliceID)
	for _, tc := range []struct {
		pairs []string
		text  string
	}{
		{[]string{"action", "edit", "whitelist", "on"}, "choose at least one user"},
		{[]string{"id", "x", "whitelist", "on"}, "damaged"},
		{[]string{"id", id}, "nothing to change"},
		{[]string{"id", id, "action", "explode"}, "choose edit or remove"},
		{[]string{"id", id, "lib_mode", "set"}, "choose the libraries to set"},
		{[]string{"id", id, "lib_mode", "add", "lib", srvID + "/42"}, "not on any server"},
		{[]string{"id", id, "lib_mode", "sideways", "lib", srvID + "/4"}, "choose set, add or remove"},
		{[]string{"id", id, "downloads", "maybe"}, "choose leave, on or off"},
		{[]string{"id", id, "starts_mode", "set", "starts_at", ""}, "enter the start"},
		{[]string{"id", id, "expires_mode", "set", "expires_at", "later"}, "enter a date and time"},
		{[]string{"id", id, "expires_mode", "extend", "extend_days", "0"}, "whole number of days"},
		{[]string{"id", id, "expires_mode", "forever"}, "choose set, clear or extend"},
		{[]string{"id", id, "whitelist", "on", "reason", strings.Repeat("r", 501)}, "at most 500"},
	} {
		for _, route := range []string{"/users/bulk/preview", "/users/bulk/apply"} {
			before := e.snap()
			rec := e.srv.Do("POST", route, web.RoleModerator, form(tc.pairs...))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s %v: status %d, want 400", route, tc.pairs, rec.Code)
				continue
			}
			if !strings.Contains(rec.Body.String(), tc.text) {
				t.Errorf("%s %v: message %q missing", route, tc.pairs, tc.text)
			}
			e.unchanged(before, route)
		}
	}
	if rec := e.srv.Do("GET", "/users/bulk", web.RoleModerator, nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bulk form without users: %d", rec.Code)
	}
}

func TestInvitePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		pairs []string
		field string
	}{
		{[]string{"invitee", "dave"}, "libraries"},
		{[]string{"invitee", "", "lib", srvID + "/4"}, "invitee"},
		{[]string{"invitee", "no-such-user", "lib", srvID + "/4"}, "invitee"},
		{[]string{"invitee", "dave", "lib", srvID + "/4", "expires_at", "someday"}, "expires_at"},
		{[]string{"invitee", "dave", "lib", srvID + "/4", "membership_days", "-1"}, "membership_days"},
		{[]string{"invitee", "dave", "lib", srvID + "/4", "filter_movies", "bad filter"}, "filters"},
	} {
		before := e.snap()
		rec := e.srv.Do("POST", "/users/invite", web.RoleModerator, form(tc.pairs...))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", tc.pairs, rec.Code)
			continue
		}
		if !strings.Contains(rec.Body.String(), `id="`+tc.field+`-error"`) {
			t.Errorf("%v: field %s not marked", tc.pairs, tc.field)
		}
		e.unchanged(before, strings.Join(tc.pairs, " "))
	}
	rec := e.srv.Do("POST", "/users/invite", web.RoleModerator, form("invitee", "dave", "lib", srvID+"/4", "lib", srvID+"/8", "allow_downloads", "on"))
	wantStatus(t, rec, http.StatusSeeOther, "invite")
	sh, ok := e.shareOf(daveID)
	if !ok || !sh.Pending || !sh.AllowSync || !slices.Equal(sortedIDs(sh.SectionIDs), sections("4", "8")) {
		t.Fatalf("dave's share on the fake: %+v %v", sh, ok)
	}
	// The pending page lists the invitation with working buttons.
	rec = e.srv.Do("GET", "/users/pending", web.RoleModerator, nil)
	wantStatus(t, rec, http.StatusOK, "pending page")
	b := rec.Body.String()
	if !strings.Contains(b, "dave") || !strings.Contains(b, "Movies, TV Shows") || !strings.Contains(b, "/resend") {
		t.Errorf("pending page: %s", b)
	}
	rec = e.srv.Do("POST", fmt.Sprintf("/users/pending/%d/%s/cancel", daveID, srvID), web.RoleModerator, form())
	wantStatus(t, rec, http.StatusSeeOther, "cancel")
	if page := e.follow(rec, web.RoleModerator); !strings.Contains(page.Body.String(), "Invitation withdrawn.") {
		t.Error("no result shown")
	}
	if _, ok := e.shareOf(daveID); ok {
		t.Error("the withdrawn invitation is still on Plex")
	}
}

func TestHomePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, pairs := range [][]string{{"name", ""}, {"name", "Kid", "restriction_profile", "toddler"}, {"name", "Kid", "lib", "x/1"}} {
		before := e.snap()
		if rec := e.srv.Do("POST", "/users/home/managed", web.RoleModerator, form(pairs...)); rec.Code != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", pairs, rec.Code)
		}
		e.unchanged(before, strings.Join(pairs, " "))
	}
	rec := e.srv.Do("POST", "/users/home/managed", web.RoleModerator, form("name", "Living room", "restriction_profile", "teen", "lib", srvID+"/8"))
	wantStatus(t, rec, http.StatusSeeOther, "create managed")
	page, err := e.store.ListUsers(storage.UserQuery{Kind: storage.KindManaged})
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("managed users = %+v %v", page.Users, err)
	}
	kid := page.Users[0]
	if sh, ok := e.shareOf(kid.ID); !ok || !slices.Equal(sh.SectionIDs, sections("8")) {
		t.Errorf("the managed user's share: %+v %v", sh, ok)
	}
	rec = e.srv.Do("GET", "/users/home", web.RoleAuditor, nil)
	if b := rec.Body.String(); !strings.Contains(b, "Living room") || !strings.Contains(b, "teen") || strings.Contains(b, "Create a managed user") {
		t.Error("the Home page does not list the managed user, or shows the form to an auditor")
	}
	rec = e.srv.Do("POST", fmt.Sprintf("/users/home/%d/remove", kid.ID), web.RoleModerator, form())
	wantStatus(t, rec, http.StatusSeeOther, "remove managed")
	if _, ok := e.shareOf(kid.ID); ok {
		t.Error("the removed managed user keeps a share")
	}
	rec = e.srv.Do("POST", fmt.Sprintf("/users/home/%d/remove", aliceID), web.RoleModerator, form())
	wantStatus(t, rec, http.StatusBadRequest, "remove a friend from the Home")
}

func TestPassPages(t *testing.T) {
	e := newEnv(t, envOptions{})
	sh, _ := e.shareOf(aliceID)
	changeFakeShare(t, e, sh.ID, []string{"1"})
	rec := e.srv.Do("POST", "/sync", web.RoleModerator, form())
	wantStatus(t, rec, http.StatusOK, "sync")
	if b := rec.Body.String(); !strings.Contains(b, "Sync done: 0 adopted, 1 updated, 0 marked removed.") || !strings.Contains(b, "Libraries on Basement: Movies, TV Shows → Music") {
		t.Errorf("sync result: %s", b)
	}
	exp := t0.Add(time.Minute)
	if _, err := e.svc.UpdateUser(t.Context(), "admin:test", carolID, access.UserPatch{ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	rec = e.srv.Do("POST", "/enforce", web.RoleModerator, form("ignore_cap", "on"))
	wantStatus(t, rec, http.StatusForbidden, "a moderator lifting the cap")
	rec = e.srv.Do("POST", "/enforce", web.RoleModerator, form())
	wantStatus(t, rec, http.StatusOK, "enforce")
	if b := rec.Body.String(); !strings.Contains(b, "Pass done: 1 changes.") || !strings.Contains(b, ">expire<") {
		t.Errorf("enforce result: %s", b)
	}
	if _, ok := e.shareOf(carolID); ok {
		t.Error("carol's expired share is still on Plex")
	}
	rec = e.srv.Do("GET", "/schedule", web.RoleAuditor, nil)
	if b := rec.Body.String(); !strings.Contains(b, "Sync: 0 adopted, 1 updated") || !strings.Contains(b, "Enforcement") {
		t.Error("the schedule does not list the passes")
	}

	// Purge: preview, then exactly the checked (previewed) users.
	e.clock.Add(40 * 24 * time.Hour)
	rec = e.srv.Do("GET", "/purge", web.RoleAuditor, nil)
	if b := rec.Body.String(); !strings.Contains(b, "Would be removed (2)") || strings.Contains(b, `name="id"`) {
		t.Error("the purge preview is wrong, or offers the checkboxes to an auditor")
	}
	before := e.snap()
	rec = e.srv.Do("POST", "/purge", web.RoleAdmin, form("id", fmt.Sprint(aliceID), "id", fmt.Sprint(carolID)))
	wantStatus(t, rec, http.StatusBadRequest, "purge with a user not in the preview")
	if !strings.Contains(rec.Body.String(), fmt.Sprintf("user %d is not in a fresh purge preview", carolID)) {
		t.Errorf("stale id not explained: %s", rec.Body.String())
	}
	e.unchanged(before, "purge refused")
	rec = e.srv.Do("POST", "/purge", web.RoleAdmin, form("id", fmt.Sprint(aliceID)))
	wantStatus(t, rec, http.StatusOK, "purge")
	if !strings.Contains(rec.Body.String(), "1 users removed.") {
		t.Errorf("purge result: %s", rec.Body.String())
	}
	if _, ok := e.shareOf(aliceID); ok {
		t.Error("alice is still on Plex")
	}
	if _, ok := e.shareOf(bobID); !ok {
		t.Error("bob, previewed but not checked, was purged")
	}
}

func TestDashboard(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := e.srv.Do("GET", "/", web.RoleAuditor, nil)
	wantStatus(t, rec, http.StatusOK, "dashboard")
	b := rec.Body.String()
	for _, want := range []string{`data-count="active">3<`, `data-count="streams">2<`, "Basement", "1.41.3.9314-a0bfb8370", "3 ms", "user.adopted"} {
		if !strings.Contains(b, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(b, "data-token-alert") {
		t.Error("token alert shown while the token works")
	}
	// Plex rejects the token: the dashboard says so.
	e.fake.Inject(plextestFault("", http.StatusUnauthorized))
	_, _ = e.svc.Sync(t.Context(), "system")
	rec = e.srv.Do("GET", "/", web.RoleAuditor, nil)
	if !strings.Contains(rec.Body.String(), "data-token-alert") {
		t.Error("no token alert after Plex rejected the token")
	}
	e.streams = nil
	e.feature.streams = nil
	rec = e.srv.Do("GET", "/", web.RoleAuditor, nil)
	if !strings.Contains(rec.Body.String(), "Not polled.") {
		t.Error("without a stream source the dashboard should say streams are not polled")
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := e.snap()
	for _, p := range []string{fmt.Sprintf("/users/%d/notes", aliceID), fmt.Sprintf("/users/%d/remove", aliceID), "/users/bulk/apply", "/sync"} {
		rec := e.srv.Do("POST", p, web.RoleAdmin, form("notes", "x", "id", fmt.Sprint(aliceID), "action", "remove"), "Sec-Fetch-Site", "cross-site")
		if rec.Code != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", p, rec.Code)
		}
	}
	e.unchanged(before, "cross-site posts")
}
