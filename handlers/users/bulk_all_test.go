package users

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// TestBulkPreviewOfEveryLibraryShare: bob's share covers every library (libraries added later
// included). Adding a library leaves it alone; removing one turns it into a list, which the preview
// shows as such instead of the same list before and after.
func TestBulkPreviewOfEveryLibraryShare(t *testing.T) {
	for _, c := range []struct {
		name    string
		pairs   []string
		want    []string
		notWant []string
	}{
		{"add a library", []string{"lib_mode", "add", "lib", srvID + "/1", "downloads", "on"},
			[]string{"<td>Downloads on Basement</td><td>no</td><td>yes</td>"}, []string{"Libraries on Basement"}},
		{"remove a library", []string{"lib_mode", "remove", "lib", srvID + "/1"},
			[]string{"<td>Libraries on Basement</td><td>all libraries (incl. future)</td><td>Movies, TV Shows</td>"}, nil},
		{"set every library of today", []string{"lib_mode", "set", "lib", srvID + "/1", "lib", srvID + "/4", "lib", srvID + "/8"},
			[]string{"<td>Libraries on Basement</td><td>all libraries (incl. future)</td><td>Music, Movies, TV Shows</td>"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			if sh, ok := e.shareOf(bobID); !ok || !sh.AllLibraries || !e.user(bobID).Shares[srvID].AllLibraries {
				t.Fatalf("seed: bob = %+v", sh)
			}
			pairs := append([]string{"action", "edit", "id", fmt.Sprint(bobID)}, c.pairs...)
			rec := e.srv.Do("POST", "/users/bulk/preview", web.RoleModerator, form(pairs...))
			wantStatus(t, rec, http.StatusOK, "preview")
			body := rec.Body.String()
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("the preview lacks %q:\n%s", w, body)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(body, w) {
					t.Errorf("the preview shows %q:\n%s", w, body)
				}
			}
			if sh, _ := e.shareOf(bobID); !sh.AllLibraries || sh.AllowSync {
				t.Errorf("the preview changed the fake: %+v", sh)
			}
		})
	}
}

// TestBulkApplyKeepsEveryLibrary: adding a library and allowing downloads pushes downloads only;
// the share of every library stays one on Plex.
func TestBulkApplyKeepsEveryLibrary(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := e.srv.Do("POST", "/users/bulk/apply", web.RoleModerator,
		form("action", "edit", "id", fmt.Sprint(bobID), "id", fmt.Sprint(aliceID), "lib_mode", "add", "lib", srvID+"/1", "downloads", "on"))
	wantStatus(t, rec, http.StatusOK, "apply")
	bob, _ := e.shareOf(bobID)
	if !bob.AllLibraries || !bob.AllowSync {
		t.Errorf("bob on the fake: %+v", bob)
	}
	alice, _ := e.shareOf(aliceID)
	if alice.AllLibraries || !slices.Equal(sortedIDs(alice.SectionIDs), sections("1", "4", "8")) {
		t.Errorf("alice on the fake: %+v", alice)
	}
}
