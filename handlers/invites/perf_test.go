package invites

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestPublicPageFollowsChanges checks that the invite page (rendered once and kept by its data)
// shows every change at the next request: a new label, a renamed server and library, a disabled
// invite; as wired today (no change counter) and with a counter that moves on every write.
func TestPublicPageFollowsChanges(t *testing.T) {
	for _, counted := range []bool{false, true} {
		t.Run(map[bool]string{false: "reads", true: "counter"}[counted], func(t *testing.T) {
			e := newEnv(t, nil)
			var gen atomic.Uint64
			srv := e.public(t)
			if counted {
				svc, err := invite.New(invite.Options{Store: e.store, Now: e.clock.Now, Generation: gen.Load})
				if err != nil {
					t.Fatal(err)
				}
				feat, err := New(Options{Service: svc, Now: e.clock.Now, RateBurst: -1, Sleep: func(time.Duration) {}})
				if err != nil {
					t.Fatal(err)
				}
				srv = webtest.New(t, webtest.Options{Mode: web.ModeInvite, BasePath: "/j", Features: []web.Feature{feat},
					Deps: handlers.Deps{Store: e.store, StoreGeneration: gen.Load}})
			}
			inv := e.create(t, invite.Spec{Label: "Summer", Enabled: true, Libraries: map[string][]string{testServerID: {"4"}}})
			gen.Add(1)
			page := func() (int, string) {
				rec := srv.Do("GET", "/"+inv.Code, web.RoleNone, nil)
				return rec.Code, rec.Body.String()
			}
			if code, body := page(); code != 200 || !strings.Contains(body, "Summer") || !strings.Contains(body, "Movies") {
				t.Fatalf("first page: %d %q", code, body)
			}
			if _, err := e.svc.Update(context.Background(), "admin:test", inv.ID, invite.Spec{Code: inv.Code, Label: "Autumn",
				Enabled: true, Libraries: map[string][]string{testServerID: {"4"}}}); err != nil {
				t.Fatal(err)
			}
			gen.Add(1)
			if _, body := page(); !strings.Contains(body, "Autumn") || strings.Contains(body, "Summer") {
				t.Errorf("after the edit the page shows %q", body)
			}
			s, err := e.store.GetServer(testServerID)
			if err != nil {
				t.Fatal(err)
			}
			s.Name = "Attic"
			for i := range s.Libraries {
				if s.Libraries[i].Key == "4" {
					s.Libraries[i].Title = "Films"
				}
			}
			if err := e.store.PutServer(s); err != nil {
				t.Fatal(err)
			}
			gen.Add(1)
			if _, body := page(); !strings.Contains(body, "Attic") || !strings.Contains(body, "Films") || strings.Contains(body, "Basement") {
				t.Errorf("after the rename the page shows %q", body)
			}
			unknown := srv.Do("GET", "/no-such-code", web.RoleNone, nil)
			if _, err := e.svc.Update(context.Background(), "admin:test", inv.ID, invite.Spec{Code: inv.Code, Label: "Autumn",
				Enabled: false, Libraries: map[string][]string{testServerID: {"4"}}}); err != nil {
				t.Fatal(err)
			}
			gen.Add(1)
			if code, body := page(); code != 404 || body != unknown.Body.String() {
				t.Errorf("disabled: %d, same page as an unknown code: %v", code, body == unknown.Body.String())
			}
			// HEAD gets the headers of the kept page and no body.
			if err := e.store.Update(func(tx *storage.Tx) error {
				cur, err := tx.Invites().Get(inv.ID)
				if err != nil {
					return err
				}
				cur.Enabled = true
				return tx.Invites().Put(cur)
			}); err != nil {
				t.Fatal(err)
			}
			gen.Add(1)
			get := srv.Do("GET", "/"+inv.Code, web.RoleNone, nil)
			head := srv.Do("HEAD", "/"+inv.Code, web.RoleNone, nil)
			if get.Code != 200 || head.Code != 200 || head.Body.Len() != 0 ||
				head.Header().Get("Content-Length") != get.Header().Get("Content-Length") {
				t.Errorf("HEAD: %d with %d bytes and length %q; GET: %d with length %q", head.Code, head.Body.Len(),
					head.Header().Get("Content-Length"), get.Code, get.Header().Get("Content-Length"))
			}
		})
	}
}
