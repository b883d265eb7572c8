package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDecodeJSON(t *testing.T) {
	type input struct {
		Name   string    `json:"name"`
		Count  int       `json:"count"`
		When   time.Time `json:"when"`
		Role   Role      `json:"role"`
		Echo   echoer    `json:"echo"`
		Plain  plainErr  `json:"plain"`
		Nested struct {
			At time.Time `json:"at"`
		} `json:"nested"`
	}
	m := newTestMux(t, Options{MaxBody: 64, Auth: &testAuth{}}, func(m *Mux) {
		m.API("POST", "/in", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			var in input
			if !DecodeJSON(w, r, &in) {
				return
			}
			JSON(w, http.StatusOK, in)
		}, APIDoc{Summary: "decode", Request: input{}, Response: input{}})
	})
	tests := []struct {
		name, ctype, body string
		status            int
		field, contains   string
	}{
		{"ok", "application/json", `{"name":"x","count":2,"role":"admin"}`, 200, "", `"role":"admin"`},
		{"ok with charset", "application/json; charset=utf-8", `{"name":"x"}`, 200, "", `"name":"x"`},
		{"form content type", "application/x-www-form-urlencoded", `{"name":"x"}`, 415, "", "must be JSON"},
		{"no content type", "", `{"name":"x"}`, 415, "", "must be JSON"},
		{"empty", "application/json", ``, 400, "", "empty"},
		{"syntax", "application/json", `{"name":`, 400, "", "not valid JSON"},
		{"garbage", "application/json", `<xml/>`, 400, "", "not valid JSON"},
		{"unknown field", "application/json", `{"nope":1}`, 400, "nope", "unknown field"},
		{"wrong type", "application/json", `{"count":"two"}`, 400, "count", "want an integer"},
		{"wrong type string", "application/json", `{"name":5}`, 400, "name", "want a string"},
		{"not an object", "application/json", `[1,2]`, 400, "", "want an object"},
		{"bad time", "application/json", `{"when":"SECRETVALUE"}`, 400, "when", "must be an RFC 3339 date-time"},
		{"bad nested time", "application/json", `{"nested":{"at":"SECRETVALUE"}}`, 400, "nested", "RFC 3339"},
		{"bad role", "application/json", `{"role":"SECRETVALUE"}`, 400, "role", "unknown role: want admin"},
		{"own error echoing the value", "application/json", `{"name":"x","echo":"SECRETVALUE"}`, 400, "echo", "does not accept"},
		{"own error echoing a short value", "application/json", `{"echo":"ab"}`, 400, "echo", "does not accept"},
		{"own error without the value", "application/json", `{"plain":"SECRETVALUE"}`, 400, "plain", "plain: not a plain value"},
		{"trailing data", "application/json", `{"name":"x"} {"name":"y"}`, 400, "", "exactly one"},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", 100) + `"}`, 413, "", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(m, "POST", "/api/v1/in", map[string]string{"Content-Type": tt.ctype, "Authorization": "Bearer auditor"}, strings.NewReader(tt.body))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("%d %s, want %d containing %q", rec.Code, rec.Body.String(), tt.status, tt.contains)
			}
			if strings.Contains(rec.Body.String(), "SECRET") {
				t.Errorf("the answer repeats the value sent: %s", rec.Body.String())
			}
			if tt.status != 200 {
				var e ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || e.Field != tt.field {
					t.Errorf("error body %s, want field %q", rec.Body.String(), tt.field)
				}
			}
		})
	}
}

func TestFlashSurvivesOneRedirectAndCannotBeForged(t *testing.T) {
	m := newTestMux(t, Options{Auth: &testAuth{}}, func(m *Mux) {
		m.Open("POST", "/act", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Flash(w, r, FlashSuccess, "Saved <b>it</b>.")
			Flash(w, r, FlashWarning, "Second.")
			Redirect(w, r, "/")
		}))
		m.Page("GET", "/{$}", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			FlashNow(r, FlashInfo, "Now.")
			Render(w, r, "admin/home", nil)
		})
	})
	rec := do(m, "POST", "/act", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("redirect: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	cookies := rec.Result().Cookies()
	flash := cookies[len(cookies)-1]
	page := do(m, "GET", "/", map[string]string{"Cookie": "who=admin; pm_flash=" + flash.Value}, nil)
	body := page.Body.String()
	for _, want := range []string{"Saved &lt;b&gt;it&lt;/b&gt;.", "Second.", "Now.", `flash-success`, `flash-warning`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(strings.Join(page.Header().Values("Set-Cookie"), ";"), "pm_flash=; Path=/; Max-Age=0") {
		t.Errorf("the flash cookie was not cleared: %v", page.Header().Values("Set-Cookie"))
	}
	// A forged or altered cookie shows nothing.
	value, mac, _ := strings.Cut(flash.Value, ".")
	for _, forged := range []string{value + ".AAAA", "eyJrIjoiZXJyb3IiLCJtIjoiaGkifQ." + mac, "garbage"} {
		body := do(m, "GET", "/", map[string]string{"Cookie": "who=admin; pm_flash=" + forged}, nil).Body.String()
		if strings.Contains(body, "Saved") || strings.Contains(body, "flash-error") {
			t.Errorf("forged flash %q shown", forged)
		}
	}
}

func TestLocalTarget(t *testing.T) {
	m := newTestMux(t, Options{BasePath: "/m"}, func(m *Mux) {
		m.Open("GET", "/t", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for target, want := range map[string]bool{
				"/m/": true, "/m/users?x=1": true, "/m": false, "/mx/": false, "//evil.example/": false,
				"/m//evil.example": false, "/m/\\evil": false, "https://evil.example/m/": false, "/m/a\r\nb": false, "": false,
			} {
				if got := LocalTarget(r, target); got != want {
					t.Errorf("LocalTarget(%q) = %v, want %v", target, got, want)
				}
			}
			if got := URL(r, "/users", "a/b", 7); got != "/m/users/a%2Fb/7" {
				t.Errorf("URL = %q", got)
			}
			if got := URL(r, "relative"); got != "/m/" {
				t.Errorf("bad URL = %q", got)
			}
		}))
	})
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/m/t", nil))
}

// echoer refuses every value with an error that repeats it, as time.Time's does.
type echoer struct{}

func (*echoer) UnmarshalJSON(b []byte) error { return fmt.Errorf("cannot use %s here", b) }

// plainErr refuses every value with an error that does not repeat it.
type plainErr struct{}

func (*plainErr) UnmarshalJSON([]byte) error { return errors.New("not a plain value") }

// wholeErr refuses itself as a whole (no field to blame): the answer names no field and repeats
// nothing.
type wholeErr struct{}

func (*wholeErr) UnmarshalJSON(b []byte) error { return fmt.Errorf("bad body %s", b) }

func TestDecodeJSONWholeValueError(t *testing.T) {
	m := newTestMux(t, Options{Auth: &testAuth{}}, func(m *Mux) {
		m.API("POST", "/in", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			var in wholeErr
			if DecodeJSON(w, r, &in) {
				JSON(w, http.StatusOK, in)
			}
		}, APIDoc{Summary: "decode", Request: map[string]any{}})
	})
	rec := do(m, "POST", "/api/v1/in", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer auditor"},
		strings.NewReader(`{"a":"SECRETVALUE"}`))
	if rec.Code != 400 || strings.Contains(rec.Body.String(), "SECRET") || !strings.Contains(rec.Body.String(), "wrong format") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}
