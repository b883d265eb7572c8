package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
	"github.com/plex-manager/caddy-plex-manager/templates"
)

// sampleFeature stands for a feature package: routes of every kind.
var sampleFeature = web.FeatureFunc(func(r web.Router) {
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "feature ran") }
	r.Page("GET", "/things", web.RoleAuditor, ok)
	r.Page("POST", "/things", web.RoleModerator, ok)
	r.API("GET", "/things/{id}", web.RoleAuditor, ok, web.APIDoc{Summary: "a thing", Response: struct{}{}})
	r.API("DELETE", "/things/{id}", web.RoleAdmin, ok, web.APIDoc{Summary: "delete a thing"})
	r.Public("GET", "/{code}", ok)
})

// concrete turns a route pattern into a request path.
func concrete(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(p, "x")
}

func TestEveryAdminRouteEnforcesRoles(t *testing.T) {
	hs := newHarness(t, harnessOptions{base: "/m"})
	// Rebuild with a feature mounted, over the same store.
	deps := hs.deps
	deps.Features = []web.Feature{sampleFeature}
	var err error
	if hs.h, err = newServer(Config{Mode: ModeAdmin, BasePath: "/m"}, deps, templates.Files()); err != nil {
		t.Fatal(err)
	}
	hs.addAdmin("root", storage.RoleAdmin, true) // keeps the others from being the last admin
	admins := map[web.Role]storage.Admin{}
	keys := map[web.Role]string{}
	for _, role := range web.Roles() {
		admins[role] = hs.addAdmin("as-"+role.String(), role.String(), true)
		keys[role] = hs.apiKey(role.String())
	}
	// session returns a browser with a fresh session of role (some routes end sessions).
	session := func(role web.Role) *browser {
		token, _, err := hs.h.core.sessions.Create(admins[role].ID, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		b := hs.browser()
		b.cookies["pm_session"] = token
		return b
	}
	routes := hs.h.mux.Routes()
	kinds := map[string]int{}
	checked := 0
	for _, rt := range routes {
		kinds[rt.Kind]++
		if rt.Kind != web.KindPage && rt.Kind != web.KindAPI {
			continue
		}
		path := concrete(rt.Path)
		// Anonymous.
		rec := hs.browser().do(rt.Method, strings.TrimPrefix(path, "/m"), url.Values{})
		if rt.Kind == web.KindAPI {
			rec = hs.api(rt.Method, strings.TrimPrefix(path, "/m/api/v1"), "", "")
		}
		switch {
		case rt.Kind == web.KindPage && (rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/m/login")):
			t.Errorf("anonymous %s %s: %d %q, want 303 to the sign-in page", rt.Method, path, rec.Code, rec.Header().Get("Location"))
		case rt.Kind == web.KindAPI && rec.Code != http.StatusUnauthorized:
			t.Errorf("anonymous %s %s: %d, want 401", rt.Method, path, rec.Code)
		}
		for _, role := range web.Roles() {
			allowed := role.Allows(rt.Min)
			var recs []*httptest.ResponseRecorder
			if rt.Kind == web.KindPage {
				recs = append(recs, session(role).do(rt.Method, strings.TrimPrefix(path, "/m"), url.Values{}))
			} else {
				body := ""
				if rt.Method != "GET" && rt.Method != "DELETE" {
					body = "{}"
				}
				recs = append(recs, hs.api(rt.Method, strings.TrimPrefix(path, "/m/api/v1"), keys[role], body))
				// API routes also take the session cookie.
				recs = append(recs, session(role).do(rt.Method, strings.TrimPrefix(path, "/m"), nil, "Content-Type", "application/json"))
			}
			for _, rec := range recs {
				checked++
				loc := rec.Header().Get("Location")
				// The guard's redirect to the sign-in page sets no flash; a handler that signs out
				// (logout everywhere) does.
				guardRedirect := strings.Contains(loc, "/login") && !strings.Contains(strings.Join(rec.Header().Values("Set-Cookie"), ";"), "pm_flash=")
				if allowed {
					if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden || guardRedirect {
						t.Errorf("%s %s as %s: %d %q, want the route to run", rt.Method, path, role, rec.Code, loc)
					}
				} else if rec.Code != http.StatusForbidden {
					t.Errorf("%s %s as %s (needs %s): %d, want 403", rt.Method, path, role, rt.Min, rec.Code)
				}
			}
		}
	}
	if kinds[web.KindPage] < 20 || kinds[web.KindAPI] < 10 || checked < 100 {
		t.Errorf("only %v routes and %d checks", kinds, checked)
	}
	// The feature's routes are mounted (its Public route is not, on the admin handler).
	if !hs.h.mux.Has("GET", "/things") || hs.h.mux.Has("GET", "/{code}") {
		t.Error("feature routes mounted wrongly")
	}
	if rec := session(web.RoleAuditor).get("/things"); rec.Body.String() != "feature ran" {
		t.Errorf("feature page: %d %q", rec.Code, rec.Body.String())
	}
}

func TestOpenAPIListsExactlyTheAPIRoutes(t *testing.T) {
	hs := newHarness(t, harnessOptions{bootstrap: "bootstrap-key-for-tests-0123456789"})
	rec := hs.api("GET", "/openapi.json", "bootstrap-key-for-tests-0123456789", "")
	if rec.Code != 200 {
		t.Fatalf("openapi.json: %d", rec.Code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for p, ops := range doc.Paths {
		for m := range ops {
			got = append(got, strings.ToUpper(m)+" "+p)
		}
	}
	for _, rt := range hs.h.mux.Routes() {
		if rt.Kind == web.KindAPI {
			want = append(want, rt.Method+" "+strings.NewReplacer("{$}", "", "...", "").Replace(rt.Pattern))
		}
		if rt.Kind != web.KindAPI && strings.HasPrefix(rt.Path, "/api/") {
			t.Errorf("route %s %s under /api is not an API route", rt.Method, rt.Path)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if doc.OpenAPI != "3.1.0" || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("document (%s):\n%s\nroutes:\n%s", doc.OpenAPI, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, must := range []string{"GET /status", "GET /me", "GET /admins", "POST /api-keys", "PATCH /settings", "GET /openapi.json"} {
		if !strings.Contains(strings.Join(got, "\n"), must) {
			t.Errorf("document lacks %s", must)
		}
	}
}

func TestFeatureMayServeTheStartPage(t *testing.T) {
	dashboard := web.FeatureFunc(func(r web.Router) {
		r.Page("GET", "/{$}", web.RoleAuditor, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "feature dashboard") })
	})
	h := newTestHandler(t, Config{Mode: ModeAdmin}, Deps{Features: []web.Feature{dashboard}})
	if rec := do(h, "GET", "/", nil, nil); rec.Body.String() != "feature dashboard" {
		t.Errorf("GET / = %d %q, want the feature's page", rec.Code, rec.Body.String())
	}
	// Without such a feature the placeholder answers.
	h = newTestHandler(t, Config{Mode: ModeAdmin}, Deps{})
	if rec := do(h, "GET", "/", nil, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "<h1>Dashboard</h1>") {
		t.Errorf("placeholder: %d", rec.Code)
	}
}
