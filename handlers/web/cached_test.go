package web

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRenderCachedFollowsTheView checks that a page rendered with RenderCached shows what its view
// holds at every request: the app name as it changes, flash messages once, and each principal's
// own name, never another request's.
func TestRenderCachedFollowsTheView(t *testing.T) {
	var name atomic.Value
	name.Store("Alpha Plex")
	m := newTestMux(t, Options{Mode: ModeInvite, AppName: func() string { return name.Load().(string) }},
		func(m *Mux) {
			m.Open("GET", "/{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				RenderCached(w, r, http.StatusOK, "invite/landing", nil)
			}))
			m.Open("GET", "/gone", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				RenderCached(w, r, http.StatusNotFound, "invite/landing", nil)
			}))
			m.Open("POST", "/act", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Flash(w, r, FlashSuccess, "Flashed once.")
				Redirect(w, r, "/")
			}))
		})
	first := do(m, "GET", "/", nil, nil)
	if first.Code != 200 || !strings.Contains(first.Body.String(), "Alpha Plex") {
		t.Fatalf("first: %d %q", first.Code, first.Body.String())
	}
	if again := do(m, "GET", "/", nil, nil); again.Body.String() != first.Body.String() {
		t.Error("the same view rendered different bytes")
	}
	if gone := do(m, "GET", "/gone", nil, nil); gone.Code != http.StatusNotFound || gone.Body.String() != first.Body.String() {
		t.Errorf("the kept page with another status: %d", gone.Code)
	}
	name.Store("Beta Plex")
	if body := do(m, "GET", "/", nil, nil).Body.String(); !strings.Contains(body, "Beta Plex") || strings.Contains(body, "Alpha Plex") {
		t.Errorf("after the rename the page shows %q", body)
	}
	act := do(m, "POST", "/act", nil, nil)
	cookies := act.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatal("no flash cookie")
	}
	flashed := do(m, "GET", "/", map[string]string{"Cookie": "pm_flash=" + cookies[len(cookies)-1].Value}, nil)
	if !strings.Contains(flashed.Body.String(), "Flashed once.") {
		t.Errorf("the flash is not shown: %q", flashed.Body.String())
	}
	if body := do(m, "GET", "/", nil, nil).Body.String(); strings.Contains(body, "Flashed once.") {
		t.Error("the flashed page was served to a request without the flash")
	}
}

// TestRenderCachedPerPrincipal checks that a signed-in admin's page is never served to another.
func TestRenderCachedPerPrincipal(t *testing.T) {
	m := newTestMux(t, Options{Auth: &testAuth{}}, func(m *Mux) {
		m.Page("GET", "/{$}", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			RenderCached(w, r, http.StatusOK, "admin/home", nil)
		})
	})
	for _, who := range []string{"aud", "adm", "aud"} {
		cookie := map[string]string{"aud": "who=auditor", "adm": "who=admin"}[who]
		body := do(m, "GET", "/", map[string]string{"Cookie": cookie}, nil).Body.String()
		other := map[string]string{"aud": "adm", "adm": "aud"}[who]
		if !strings.Contains(body, "data-user>"+who+" ") || strings.Contains(body, "data-user>"+other+" ") {
			t.Errorf("%s's page does not name them alone", who)
		}
	}
}

// TestErrorPagesFollowTheView checks the kept error pages: each status its own page, the app
// name as it changes, and a signed-in admin's error page naming them alone.
func TestErrorPagesFollowTheView(t *testing.T) {
	var name atomic.Value
	name.Store("Alpha Plex")
	m := newTestMux(t, Options{Auth: &testAuth{}, AppName: func() string { return name.Load().(string) }}, func(m *Mux) {
		m.Page("GET", "/limited", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			Error(w, r, http.StatusTooManyRequests)
		})
		m.Open("GET", "/open-limited", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Error(w, r, http.StatusTooManyRequests)
		}))
	})
	nf := do(m, "GET", "/nothing-here", nil, nil)
	if nf.Code != 404 || !strings.Contains(nf.Body.String(), "Not found") || !strings.Contains(nf.Body.String(), "Alpha Plex") {
		t.Fatalf("404: %d %q", nf.Code, nf.Body.String())
	}
	if again := do(m, "GET", "/elsewhere", nil, nil); again.Code != 404 || again.Body.String() != nf.Body.String() {
		t.Error("two 404 pages differ")
	}
	tooMany := do(m, "GET", "/open-limited", nil, nil)
	if tooMany.Code != 429 || !strings.Contains(tooMany.Body.String(), "Too many requests") {
		t.Errorf("429: %d %q", tooMany.Code, tooMany.Body.String())
	}
	name.Store("Beta Plex")
	if body := do(m, "GET", "/nothing-here", nil, nil).Body.String(); !strings.Contains(body, "Beta Plex") {
		t.Errorf("after the rename the 404 page shows %q", body)
	}
	for _, who := range []string{"auditor", "admin"} {
		body := do(m, "GET", "/limited", map[string]string{"Cookie": "who=" + who}, nil).Body.String()
		short := testPrincipals[who].Name
		if !strings.Contains(body, "Too many requests") || !strings.Contains(body, "data-user>"+short+" ") {
			t.Errorf("%s's 429 page does not name them", who)
		}
	}
}
