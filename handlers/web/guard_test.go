package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// allKindsFeature registers routes of every kind and least role.
var allKindsFeature = FeatureFunc(func(r Router) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		p, _ := CurrentPrincipal(r)
		_, _ = io.WriteString(w, "ran as "+p.Name)
	}
	for _, min := range []Role{RoleAuditor, RoleModerator, RoleAdmin} {
		r.Page("GET", "/page-"+min.String(), min, ok)
		r.Page("POST", "/page-"+min.String(), min, ok)
		r.API("GET", "/things-"+min.String()+"/{id}", min, ok, APIDoc{Summary: "get", Response: struct{}{}})
		r.API("DELETE", "/things-"+min.String()+"/{id}", min, ok, APIDoc{Summary: "delete"})
	}
	r.Public("GET", "/pub", ok)
})

// fillPattern turns a route pattern into a concrete path.
func fillPattern(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(p, "x")
}

func TestEveryRouteEnforcesRoles(t *testing.T) {
	auth := &testAuth{}
	m := newTestMux(t, Options{Mode: ModeAdmin, BasePath: "/m", Auth: auth}, func(m *Mux) {
		allKindsFeature.Routes(m)
	})
	checked := 0
	for _, rt := range m.Routes() {
		path := fillPattern(rt.Path)
		for _, who := range []string{"", "auditor", "moderator", "admin"} {
			for _, via := range []string{"cookie", "bearer"} {
				if via == "bearer" && (rt.Kind != KindAPI || who == "") {
					continue
				}
				headers := map[string]string{"Content-Type": "application/json"}
				if who != "" {
					if via == "cookie" {
						headers["Cookie"] = "who=" + who
					} else {
						headers["Authorization"] = "Bearer " + who
					}
				}
				rec := do(m, rt.Method, path, headers, strings.NewReader("{}"))
				role, _ := ParseRole(who)
				var want int
				switch {
				case rt.Kind == KindOpen || rt.Kind == KindPublic:
					continue
				case who == "" && rt.Kind == KindPage:
					want = http.StatusSeeOther
				case who == "":
					want = http.StatusUnauthorized
				case !role.Allows(rt.Min):
					want = http.StatusForbidden
				default:
					want = http.StatusOK
				}
				checked++
				if rec.Code != want {
					t.Errorf("%s %s as %q via %s: %d, want %d", rt.Method, path, who, via, rec.Code, want)
					continue
				}
				switch want {
				case http.StatusOK:
					if rt.Pattern == "/openapi.json" {
						if !json.Valid(rec.Body.Bytes()) {
							t.Errorf("openapi.json is not JSON")
						}
					} else if !strings.HasPrefix(rec.Body.String(), "ran as ") {
						t.Errorf("%s %s: handler did not run: %.200q", rt.Method, path, rec.Body.String())
					}
				case http.StatusSeeOther:
					loc := rec.Header().Get("Location")
					if !strings.HasPrefix(loc, "/m/login") {
						t.Errorf("%s %s anonymous: Location %q", rt.Method, path, loc)
					}
					if rt.Method == "GET" && loc != "/m/login?next="+url.QueryEscape(path) {
						t.Errorf("%s %s anonymous: Location %q lacks next", rt.Method, path, loc)
					}
				case http.StatusUnauthorized, http.StatusForbidden:
					if rt.Kind == KindAPI {
						var body ErrorBody
						if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
							t.Errorf("%s %s: not a JSON error: %q", rt.Method, path, rec.Body.String())
						}
						if want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
							t.Errorf("%s %s: 401 without WWW-Authenticate", rt.Method, path)
						}
					} else if !strings.Contains(rec.Body.String(), "Forbidden") {
						t.Errorf("%s %s: not the 403 page", rt.Method, path)
					}
				}
			}
		}
	}
	if checked < 60 {
		t.Errorf("only %d checks ran", checked)
	}
	// A bad or unknown bearer key is refused even with a valid session cookie alongside.
	for _, authz := range []string{"Bearer nobody", "Basic YTpi", "Bearer ", "admin"} {
		rec := do(m, "GET", "/m/api/v1/things-auditor/1", map[string]string{"Authorization": authz, "Cookie": "who=admin"}, nil)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", authz, rec.Code)
		}
	}
	// htmx requests are redirected with HX-Redirect.
	rec := do(m, "GET", "/m/page-auditor", map[string]string{"HX-Request": "true"}, nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("HX-Redirect"), "/m/login") {
		t.Errorf("htmx anonymous: %d HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	// While no admin exists, pages lead to the setup wizard.
	auth.setup = true
	rec = do(m, "GET", "/m/page-auditor", map[string]string{"Cookie": "who=admin"}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/m/setup" {
		t.Errorf("setup pending: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestNoAuthenticatorRefusesEverything(t *testing.T) {
	m := newTestMux(t, Options{Mode: ModeAdmin}, func(m *Mux) { allKindsFeature.Routes(m) })
	if rec := do(m, "GET", "/page-auditor", nil, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("page: %d", rec.Code)
	}
	if rec := do(m, "GET", "/api/v1/things-auditor/1", map[string]string{"Authorization": "Bearer admin"}, nil); rec.Code != 401 {
		t.Errorf("api: %d", rec.Code)
	}
}

// sample types for the OpenAPI document.
type sampleInvite struct {
	ID        string              `json:"id"`
	Label     string              `json:"label,omitempty"`
	ExpiresAt *time.Time          `json:"expires_at,omitempty"`
	Libraries map[string][]string `json:"libraries"`
	Role      Role                `json:"role"`
	Next      *sampleInvite       `json:"next,omitempty"`
	Secret    string              `json:"-"`
	hidden    int
}

func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	m := newTestMux(t, Options{Mode: ModeAdmin, BasePath: "/m", Auth: &testAuth{}, App: AppInfo{Name: "PM", Version: "v9"}}, func(m *Mux) {
		allKindsFeature.Routes(m)
		m.API("POST", "/invites", RoleModerator, func(http.ResponseWriter, *http.Request) {}, APIDoc{
			Summary: "Create an invite", Request: sampleInvite{}, Response: sampleInvite{}, Status: 201,
			Params: []Param{{Name: "dry_run", In: ParamQuery, Type: "boolean"}},
		})
		m.API("GET", "/files/{path...}", RoleAuditor, func(http.ResponseWriter, *http.Request) {}, APIDoc{Summary: "files", Response: []byte{}})
	})
	rec := do(m, "GET", "/m/api/v1/openapi.json", map[string]string{"Authorization": "Bearer auditor"}, nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if anon := do(m, "GET", "/m/api/v1/openapi.json", nil, nil); anon.Code != 401 {
		t.Errorf("anonymous openapi.json: %d", anon.Code)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title, Version string }
		Servers []struct{ URL string }
		Paths   map[string]map[string]struct {
			Summary    string
			Parameters []struct {
				Name, In string
				Required bool
			}
			RequestBody *struct {
				Content map[string]struct{ Schema map[string]any }
			} `json:"requestBody"`
			Responses map[string]any
		}
		Components struct{ Schemas map[string]map[string]any }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Version != "v9" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/m/api/v1" {
		t.Errorf("header: %q %+v %+v", doc.OpenAPI, doc.Info, doc.Servers)
	}
	// Every API route is in the document, and nothing else.
	var want, got []string
	for _, rt := range m.Routes() {
		if rt.Kind == KindAPI {
			want = append(want, strings.ToLower(rt.Method)+" "+openAPIPath(rt.Pattern))
		}
	}
	for p, ops := range doc.Paths {
		for method, op := range ops {
			got = append(got, method+" "+p)
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no summary or responses", method, p)
			}
			// Every path template parameter is declared as a required path parameter.
			for _, name := range patternParams(p) {
				found := false
				for _, prm := range op.Parameters {
					found = found || (prm.Name == name && prm.In == "path" && prm.Required)
				}
				if !found {
					t.Errorf("%s %s: path parameter %q not declared", method, p, name)
				}
			}
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("document paths differ from routes:\n got %v\nwant %v", got, want)
	}
	if len(want) != 3*2+3 {
		t.Errorf("%d API routes, want 9", len(want))
	}
	if _, ok := doc.Paths["/files/{path}"]["get"]; !ok {
		t.Error("{path...} not turned into {path}")
	}
	post := doc.Paths["/invites"]["post"]
	if post.RequestBody == nil || post.RequestBody.Content["application/json"].Schema["$ref"] != "#/components/schemas/sampleInvite" {
		t.Errorf("request body: %+v", post.RequestBody)
	}
	if _, ok := post.Responses["201"]; !ok {
		t.Errorf("responses: %v", post.Responses)
	}
	inv := doc.Components.Schemas["sampleInvite"]
	props, _ := inv["properties"].(map[string]any)
	for _, name := range []string{"id", "label", "expires_at", "libraries", "role", "next"} {
		if _, ok := props[name]; !ok {
			t.Errorf("schema lacks %q: %v", name, props)
		}
	}
	for _, name := range []string{"Secret", "hidden", "-"} {
		if _, ok := props[name]; ok {
			t.Errorf("schema has %q", name)
		}
	}
	req, _ := json.Marshal(inv["required"])
	if string(req) != `["id","libraries","role"]` {
		t.Errorf("required = %s", req)
	}
	if exp, _ := json.Marshal(props["expires_at"]); string(exp) != `{"format":"date-time","type":["string","null"]}` {
		t.Errorf("expires_at schema %s", exp)
	}
	if role, _ := json.Marshal(props["role"]); !strings.Contains(string(role), `"enum":["admin","moderator","auditor"]`) {
		t.Errorf("role schema %s", role)
	}
}
