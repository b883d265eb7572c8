package users

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/handlers/web/webtest"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// defaultSettings are the engine's effective settings when nothing is stored.
var defaultSettings = access.Settings{InactiveDays: access.DefaultInactiveDays, RemovalCap: access.DefaultRemovalCap,
	ShrinkPercent: access.DefaultShrinkPercent, ShrinkMinUsers: access.DefaultShrinkMinUsers}

// engineSettings reads the effective engine settings.
func (e *env) engineSettings() access.Settings {
	e.t.Helper()
	st, err := e.svc.Settings()
	if err != nil {
		e.t.Fatalf("reading settings: %v", err)
	}
	return st
}

// settingsEvents lists the settings.engine_changed events, oldest first.
func (e *env) settingsEvents() []storage.Event {
	e.t.Helper()
	evs, err := e.store.ListEvents(storage.EventQuery{Type: access.EventSettingsChanged})
	if err != nil {
		e.t.Fatalf("listing events: %v", err)
	}
	slices.Reverse(evs)
	return evs
}

// settingsForm is a valid form (the given pairs replace fields; a value "-" drops the field).
func settingsForm(pairs ...string) []string {
	v := map[string]string{"inactive_days": "45", "removal_cap": "25", "shrink_percent": "30", "shrink_min_users": "5",
		"purge_never_watched": "on"}
	for i := 0; i+1 < len(pairs); i += 2 {
		v[pairs[i]] = pairs[i+1]
	}
	var out []string
	for _, k := range []string{"inactive_days", "purge_never_watched", "auto_purge", "removal_cap", "shrink_percent", "shrink_min_users"} {
		if val, ok := v[k]; ok && val != "-" {
			out = append(out, k, val)
		}
	}
	return out
}

// settingsJSON is a valid PUT body; edit changes its fields first (delete drops one).
func settingsJSON(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	m := map[string]any{"inactive_days": 45, "purge_never_watched": true, "auto_purge": false, "removal_cap": 25,
		"shrink_percent": 30, "shrink_min_users": 5}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantSettingsForm are the settings of settingsForm() and settingsJSON(nil).
var wantSettingsForm = access.Settings{InactiveDays: 45, RemovalCap: 25, ShrinkPercent: 30, ShrinkMinUsers: 5, PurgeNeverWatched: true}

func TestEngineSettingsRolesOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{noSync: true})
	rec := e.srv.Do("GET", "/schedule/settings", web.RoleNone, nil)
	if rec.Code != http.StatusSeeOther || !strings.Contains(location(rec), "/login") {
		t.Errorf("anonymous GET: %d %s", rec.Code, location(rec))
	}
	// Auditors and moderators read the settings, in a form they cannot submit.
	for _, as := range []web.Role{web.RoleAuditor, web.RoleModerator} {
		rec := e.srv.Do("GET", "/schedule/settings", as, nil)
		wantStatus(t, rec, http.StatusOK, as.String()+" GET")
		b := rec.Body.String()
		if !strings.Contains(b, `<fieldset disabled>`) || strings.Contains(b, `>Save</button>`) || !strings.Contains(b, "an admin can change them") {
			t.Errorf("%s: the form is editable or the read-only note is missing", as)
		}
		if !strings.Contains(b, `name="inactive_days" type="number" inputmode="numeric" min="1" max="3650" step="1" value="30"`) {
			t.Errorf("%s: the current inactive days (default 30) are not shown", as)
		}
	}
	admin := e.srv.Do("GET", "/schedule/settings", web.RoleAdmin, nil)
	if b := admin.Body.String(); strings.Contains(b, `disabled`) || !strings.Contains(b, `>Save</button>`) {
		t.Error("an admin gets no editable form")
	}
	// Posting is for admins: every lower role is refused and nothing is stored.
	for _, as := range []web.Role{web.RoleNone, web.RoleAuditor, web.RoleModerator} {
		rec := e.srv.Do("POST", "/schedule/settings", as, form(settingsForm()...))
		if !refused(web.KindPage, as, rec.Code, location(rec)) {
			t.Errorf("%s POST: status %d, want a refusal", as, rec.Code)
		}
	}
	// A cross-site post by an admin is refused too (CSRF).
	rec = e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm()...), "Sec-Fetch-Site", "cross-site")
	wantStatus(t, rec, http.StatusForbidden, "cross-site POST")
	if got := e.engineSettings(); got != defaultSettings {
		t.Fatalf("a refused post changed the settings: %+v", got)
	}
	if n := len(e.settingsEvents()); n != 0 {
		t.Fatalf("%d settings events after refused posts", n)
	}

	rec = e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm()...))
	if rec.Code != http.StatusSeeOther || location(rec) != "/m/schedule/settings" {
		t.Fatalf("admin POST: %d %s %s", rec.Code, location(rec), rec.Body.String())
	}
	if got := e.engineSettings(); got != wantSettingsForm {
		t.Errorf("stored %+v, want %+v", got, wantSettingsForm)
	}
	after := e.follow(rec, web.RoleAdmin)
	b := after.Body.String()
	for _, want := range []string{"Engine settings saved.", "Inactive days: 30 → 45", "Removal cap: 10 → 25",
		"Shrink percent: 20 → 30", "Shrink minimum users: 3 → 5", "Purge users who never watched: off → on",
		`name="removal_cap" type="number" inputmode="numeric" min="1" max="10000" step="1" value="25"`} {
		if !strings.Contains(b, want) {
			t.Errorf("after saving, the page lacks %q", want)
		}
	}
	evs := e.settingsEvents()
	if len(evs) != 1 || evs[0].Actor != "admin:test-admin" {
		t.Fatalf("events = %+v, want one by admin:test-admin", evs)
	}
	data, _ := json.Marshal(evs[0].Data["settings"])
	if !strings.Contains(string(data), `"inactive_days":45`) || !strings.Contains(string(data), `"removal_cap":25`) {
		t.Errorf("the event does not record the new settings: %s", data)
	}

	// The same values again: nothing changes and no event is recorded.
	rec = e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm()...))
	if after := e.follow(rec, web.RoleAdmin); !strings.Contains(after.Body.String(), "Nothing changed.") {
		t.Error("re-saving the same values does not say nothing changed")
	}
	if n := len(e.settingsEvents()); n != 1 {
		t.Errorf("%d settings events after an unchanged save, want 1", n)
	}

	// Turning the automatic purge on warns what it will do.
	rec = e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm("auto_purge", "on")...))
	if b := e.follow(rec, web.RoleAdmin).Body.String(); !strings.Contains(b, "Automatic purge: off → on") ||
		!strings.Contains(b, "unless they are more than 25") {
		t.Errorf("turning the automatic purge on: %s", b)
	}
	if !e.engineSettings().AutoPurge {
		t.Error("auto_purge was not stored")
	}
	// Unchecking a box turns it off.
	rec = e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm("purge_never_watched", "-")...))
	wantStatus(t, rec, http.StatusSeeOther, "uncheck")
	if got := e.engineSettings(); got.PurgeNeverWatched || got.AutoPurge {
		t.Errorf("unchecked boxes stayed on: %+v", got)
	}
}

func TestEngineSettingsRolesOnTheAPI(t *testing.T) {
	e := newEnv(t, envOptions{noSync: true})
	if rec := e.srv.API("GET", "/settings/access", web.RoleNone, ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous GET: %d", rec.Code)
	}
	for _, as := range []web.Role{web.RoleAuditor, web.RoleModerator, web.RoleAdmin} {
		rec := e.srv.API("GET", "/settings/access", as, "")
		wantStatus(t, rec, http.StatusOK, as.String()+" GET")
		if got := webtest.Decode[AccessSettings](t, rec); got != toAccessSettings(defaultSettings) {
			t.Errorf("%s GET = %+v", as, got)
		}
	}
	// Every field is present in the answer, false booleans included (a GET can be PUT back).
	rec := e.srv.API("GET", "/settings/access", web.RoleAuditor, "")
	want := `{"inactive_days":30,"purge_never_watched":false,"auto_purge":false,"removal_cap":10,"shrink_percent":20,"shrink_min_users":3}`
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("GET body = %s, want %s", got, want)
	}
	for _, as := range []web.Role{web.RoleNone, web.RoleAuditor, web.RoleModerator} {
		rec := e.srv.API("PUT", "/settings/access", as, settingsJSON(t, nil))
		if !refused(web.KindAPI, as, rec.Code, "") {
			t.Errorf("%s PUT: status %d, want a refusal", as, rec.Code)
		}
	}
	if got := e.engineSettings(); got != defaultSettings {
		t.Fatalf("a refused PUT changed the settings: %+v", got)
	}
	rec = e.srv.API("PUT", "/settings/access", web.RoleAdmin, settingsJSON(t, nil))
	wantStatus(t, rec, http.StatusOK, "admin PUT")
	if got := webtest.Decode[AccessSettings](t, rec); got != toAccessSettings(wantSettingsForm) {
		t.Errorf("PUT answered %+v", got)
	}
	if got := e.engineSettings(); got != wantSettingsForm {
		t.Errorf("stored %+v", got)
	}
	// What GET gives can be PUT back unchanged: no second event.
	get := e.srv.API("GET", "/settings/access", web.RoleAuditor, "")
	wantStatus(t, e.srv.API("PUT", "/settings/access", web.RoleAdmin, get.Body.String()), http.StatusOK, "PUT of the GET")
	evs := e.settingsEvents()
	if len(evs) != 1 || evs[0].Actor != "apikey:test-admin" {
		t.Errorf("events = %+v, want one by apikey:test-admin", evs)
	}
}

func TestEngineSettingsPageRefusesBadInput(t *testing.T) {
	tests := []struct {
		name, field, value, message string
	}{
		{"inactive days empty", "inactive_days", "", "enter a whole number from 1 to 3650"},
		{"inactive days missing", "inactive_days", "-", "enter a whole number from 1 to 3650"},
		{"inactive days zero", "inactive_days", "0", "enter a whole number from 1 to 3650"},
		{"inactive days negative", "inactive_days", "-5", "enter a whole number from 1 to 3650"},
		{"inactive days too many", "inactive_days", "3651", "enter a whole number from 1 to 3650"},
		{"inactive days fraction", "inactive_days", "1.5", "enter a whole number from 1 to 3650"},
		{"inactive days words", "inactive_days", "thirty", "enter a whole number from 1 to 3650"},
		{"inactive days overflow", "inactive_days", "99999999999999999999999", "enter a whole number from 1 to 3650"},
		{"removal cap zero", "removal_cap", "0", "enter a whole number from 1 to 10000"},
		{"removal cap too many", "removal_cap", "10001", "enter a whole number from 1 to 10000"},
		{"removal cap empty", "removal_cap", " ", "enter a whole number from 1 to 10000"},
		{"shrink percent over 100", "shrink_percent", "101", "enter a whole number from 1 to 100"},
		{"shrink percent zero", "shrink_percent", "0", "enter a whole number from 1 to 100"},
		{"shrink percent with sign", "shrink_percent", "20%", "enter a whole number from 1 to 100"},
		{"shrink min users too many", "shrink_min_users", "100001", "enter a whole number from 1 to 100000"},
		{"shrink min users zero", "shrink_min_users", "0", "enter a whole number from 1 to 100000"},
	}
	e := newEnv(t, envOptions{noSync: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm(tt.field, tt.value, "auto_purge", "on")...))
			wantStatus(t, rec, http.StatusBadRequest, tt.name)
			b := rec.Body.String()
			wantErr := fmt.Sprintf(`<p class="field-error" id="%s-error">%s</p>`, tt.field, tt.message)
			if !strings.Contains(b, wantErr) || !strings.Contains(b, "Nothing was saved: correct the fields marked below.") {
				t.Errorf("no inline error %q or flash in:\n%s", wantErr, b)
			}
			if !strings.Contains(b, fmt.Sprintf(`id="%s" name="%s"`, tt.field, tt.field)) ||
				strings.Count(b, `aria-invalid="true"`) != 1 {
				t.Error("the field at fault is not the one marked invalid")
			}
			// The other values are kept as entered, the box too.
			if tt.field != "removal_cap" && !strings.Contains(b, `max="10000" step="1" value="25"`) {
				t.Error("the valid removal cap was not kept in the form")
			}
			if !strings.Contains(b, `name="auto_purge" aria-describedby="auto_purge-hint" checked`) {
				t.Error("the checked box was not kept in the form")
			}
			if got := e.engineSettings(); got != defaultSettings {
				t.Errorf("bad input changed the settings: %+v", got)
			}
			if n := len(e.settingsEvents()); n != 0 {
				t.Errorf("%d settings events after bad input", n)
			}
		})
	}
	// Several bad fields are all marked at once.
	rec := e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm("inactive_days", "0", "shrink_percent", "500")...))
	wantStatus(t, rec, http.StatusBadRequest, "two bad fields")
	if b := rec.Body.String(); !strings.Contains(b, `id="inactive_days-error"`) || !strings.Contains(b, `id="shrink_percent-error"`) ||
		strings.Count(b, `aria-invalid="true"`) != 2 {
		t.Error("not every bad field is marked")
	}
}

func TestEngineSettingsAPIRefusesBadInput(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string
	}{
		{"empty object", `{}`, "inactive_days"},
		{"inactive days missing", settingsJSON(t, func(m map[string]any) { delete(m, "inactive_days") }), "inactive_days"},
		{"inactive days null", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = nil }), "inactive_days"},
		{"inactive days zero", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = 0 }), "inactive_days"},
		{"inactive days negative", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = -1 }), "inactive_days"},
		{"inactive days too many", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = 3651 }), "inactive_days"},
		{"inactive days fraction", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = 1.5 }), "inactive_days"},
		{"inactive days string", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = "30" }), "inactive_days"},
		{"inactive days overflow", settingsJSON(t, func(m map[string]any) { m["inactive_days"] = 1e30 }), "inactive_days"},
		{"purge never watched missing", settingsJSON(t, func(m map[string]any) { delete(m, "purge_never_watched") }), "purge_never_watched"},
		{"purge never watched string", settingsJSON(t, func(m map[string]any) { m["purge_never_watched"] = "yes" }), "purge_never_watched"},
		{"auto purge missing", settingsJSON(t, func(m map[string]any) { delete(m, "auto_purge") }), "auto_purge"},
		{"auto purge number", settingsJSON(t, func(m map[string]any) { m["auto_purge"] = 1 }), "auto_purge"},
		{"removal cap missing", settingsJSON(t, func(m map[string]any) { delete(m, "removal_cap") }), "removal_cap"},
		{"removal cap zero", settingsJSON(t, func(m map[string]any) { m["removal_cap"] = 0 }), "removal_cap"},
		{"removal cap too many", settingsJSON(t, func(m map[string]any) { m["removal_cap"] = 10001 }), "removal_cap"},
		{"shrink percent over 100", settingsJSON(t, func(m map[string]any) { m["shrink_percent"] = 101 }), "shrink_percent"},
		{"shrink percent missing", settingsJSON(t, func(m map[string]any) { delete(m, "shrink_percent") }), "shrink_percent"},
		{"shrink min users zero", settingsJSON(t, func(m map[string]any) { m["shrink_min_users"] = 0 }), "shrink_min_users"},
		{"shrink min users too many", settingsJSON(t, func(m map[string]any) { m["shrink_min_users"] = 100001 }), "shrink_min_users"},
		{"an interval is not a setting", settingsJSON(t, func(m map[string]any) { m["sync_every"] = "1m" }), "sync_every"},
	}
	e := newEnv(t, envOptions{noSync: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.srv.API("PUT", "/settings/access", web.RoleAdmin, tt.body)
			wantStatus(t, rec, http.StatusBadRequest, tt.body)
			b := webtest.Decode[web.ErrorBody](t, rec)
			if b.Field != tt.field || !strings.HasPrefix(b.Error, tt.field+": ") {
				t.Errorf("%s: error %+v, want it to name %s", tt.body, b, tt.field)
			}
			if got := e.engineSettings(); got != defaultSettings {
				t.Errorf("bad input changed the settings: %+v", got)
			}
			if n := len(e.settingsEvents()); n != 0 {
				t.Errorf("%d settings events after bad input", n)
			}
		})
	}
	rec := e.srv.API("PUT", "/settings/access", web.RoleAdmin, settingsJSON(t, func(m map[string]any) { m["removal_cap"] = 10001 }))
	if b := webtest.Decode[web.ErrorBody](t, rec); b.Error != "removal_cap: enter a whole number from 1 to 10000" {
		t.Errorf("range message = %q", b.Error)
	}
	rec = e.srv.API("PUT", "/settings/access", web.RoleAdmin, `{"inactive_days":30}`)
	if b := webtest.Decode[web.ErrorBody](t, rec); b.Field != "removal_cap" || !strings.Contains(b.Error, "is required") {
		t.Errorf("missing field message = %+v", b)
	}
}

// candidateIDs are the user ids of a purge plan's candidates, sorted.
func candidateIDs(p access.PurgePlan) []int64 {
	var out []int64
	for _, c := range p.Candidates {
		out = append(out, c.UserID)
	}
	slices.Sort(out)
	return out
}

func TestEngineSettingsChangeTheNextPurgePreview(t *testing.T) {
	e := newEnv(t, envOptions{})
	// Everyone joined at t0 (the first sync takes the join dates from Plex: the fake's are older);
	// bob watched 5 days before the preview, alice and carol never did.
	for _, id := range []int64{aliceID, bobID, carolID} {
		if _, err := e.store.UpdateUser(id, func(u *storage.User) error { u.CreatedAt = t0; return nil }); err != nil {
			t.Fatalf("setting user %d's join date: %v", id, err)
		}
	}
	if err := e.svc.MarkActivity(bobID, t0.Add(35*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(40 * 24 * time.Hour)
	preview := func(what string) []int64 {
		t.Helper()
		rec := e.srv.API("POST", "/purge/preview", web.RoleAuditor, "")
		wantStatus(t, rec, http.StatusOK, what)
		return candidateIDs(webtest.Decode[access.PurgePlan](t, rec))
	}
	if got, want := preview("default preview"), []int64{aliceID, carolID}; !slices.Equal(got, want) {
		t.Fatalf("with the default 30 days: candidates %v, want %v", got, want)
	}

	// 60 days through the page: nobody has been inactive that long.
	rec := e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm("inactive_days", "60", "purge_never_watched", "-")...))
	wantStatus(t, rec, http.StatusSeeOther, "60 days")
	if got := preview("60 days"); len(got) != 0 {
		t.Errorf("with 60 days: candidates %v, want none", got)
	}
	page := e.srv.Do("GET", "/purge", web.RoleAdmin, nil)
	if b := page.Body.String(); !strings.Contains(b, "for 60 days") || !strings.Contains(b, "Nobody to purge") ||
		!strings.Contains(b, `href="/m/schedule/settings"`) {
		t.Error("the purge page does not use the 60 days or does not link the settings")
	}

	// Never watched on: alice and carol are candidates at once, even with 60 days.
	rec = e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm("inactive_days", "60")...))
	wantStatus(t, rec, http.StatusSeeOther, "never watched")
	if got, want := preview("never watched"), []int64{aliceID, carolID}; !slices.Equal(got, want) {
		t.Errorf("with never watched: candidates %v, want %v", got, want)
	}

	// 10 then 3 days through the API: the never-watched users, then bob too.
	for _, tt := range []struct {
		days int
		want []int64
	}{{10, []int64{aliceID, carolID}}, {3, sortedIDs([]int64{aliceID, bobID, carolID})}} {
		body := settingsJSON(t, func(m map[string]any) { m["inactive_days"] = tt.days; m["purge_never_watched"] = false })
		wantStatus(t, e.srv.API("PUT", "/settings/access", web.RoleAdmin, body), http.StatusOK, "PUT")
		if got := preview(fmt.Sprint(tt.days, " days")); !slices.Equal(got, tt.want) {
			t.Errorf("with %d days: candidates %v, want %v", tt.days, got, tt.want)
		}
	}
	page = e.srv.Do("GET", "/purge", web.RoleAdmin, nil)
	if b := page.Body.String(); !strings.Contains(b, "for 3 days") || !strings.Contains(b, "Would be removed (3)") {
		t.Error("the purge page does not use the 3 days")
	}
}

func TestEngineSettingsShowTheIntervals(t *testing.T) {
	e := newEnv(t, envOptions{noSync: true})
	if b := e.srv.Do("GET", "/schedule/settings", web.RoleAuditor, nil).Body.String(); strings.Contains(b, "<table") ||
		!strings.Contains(b, "set in the Caddyfile") {
		t.Error("without Options.Intervals the page shows a table, or does not say where the intervals are set")
	}
	iv := &access.Intervals{Sync: 2 * time.Hour, Enforce: 30 * time.Second}
	f, err := New(Options{Engine: e.svc, Store: e.store, Intervals: iv})
	if err != nil {
		t.Fatal(err)
	}
	iv.Sync = time.Minute // New keeps a copy
	srv := webtest.New(t, webtest.Options{BasePath: "/m", Features: []web.Feature{f}})
	b := srv.Do("GET", "/schedule/settings", web.RoleAuditor, nil).Body.String()
	for _, want := range []string{
		"<td>every 2 hours</td><td>Caddyfile <code>sync_every</code></td>",
		"<td>every 30 seconds</td><td>Caddyfile <code>enforce_every</code></td>",
		"<td>every hour</td><td><span class=\"muted\">fixed</span></td>",
		"<td>every 24 hours</td><td><span class=\"muted\">fixed</span></td>",
	} {
		if !strings.Contains(b, want) {
			t.Errorf("the intervals table lacks %q", want)
		}
	}
	// The intervals cannot be posted.
	rec := srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm()...))
	wantStatus(t, rec, http.StatusSeeOther, "save")
	if b := srv.Do("GET", "/schedule/settings", web.RoleAdmin, nil).Body.String(); strings.Contains(b, `name="sync_every"`) {
		t.Error("the page has an input for an interval")
	}
}

func TestDescribeEvery(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Minute, "every minute"},
		{15 * time.Minute, "every 15 minutes"},
		{90 * time.Minute, "every 90 minutes"},
		{time.Hour, "every hour"},
		{24 * time.Hour, "every 24 hours"},
		{time.Second, "every second"},
		{45 * time.Second, "every 45 seconds"},
		{1500 * time.Millisecond, "every 1.5s"},
	}
	for _, tt := range tests {
		if got := describeEvery(tt.d); got != tt.want {
			t.Errorf("describeEvery(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestEngineSettingsRenderHostileInputInert(t *testing.T) {
	e := newEnv(t, envOptions{noSync: true})
	hostile := []string{`"><script>alert("days")</script>`, `<img src=x onerror=alert(1)>`, `' autofocus onfocus='alert(2)`,
		`</form><svg onload=alert(3)>`}
	fields := []string{"inactive_days", "removal_cap", "shrink_percent", "shrink_min_users"}
	for i, h := range hostile {
		rec := e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm(fields[i], h)...))
		wantStatus(t, rec, http.StatusBadRequest, fields[i])
		b := rec.Body.String()
		for _, raw := range []string{"<script>alert(", "<img src=x", "<svg onload", "' autofocus", "</form><svg"} {
			if strings.Contains(b, raw) {
				t.Errorf("%s: %q appears unescaped", fields[i], raw)
			}
		}
		if !strings.Contains(b, fmt.Sprintf(`id="%s-error"`, fields[i])) {
			t.Errorf("%s: the hostile value is not reported as an error", fields[i])
		}
	}
	if !strings.Contains(e.srv.Do("POST", "/schedule/settings", web.RoleAdmin, form(settingsForm("inactive_days", hostile[0])...)).Body.String(),
		`value="&#34;&gt;&lt;script&gt;alert(&#34;days&#34;)&lt;/script&gt;"`) {
		t.Error("the hostile value is not echoed escaped in the attribute")
	}
	if got := e.engineSettings(); got != defaultSettings {
		t.Errorf("hostile input changed the settings: %+v", got)
	}
	// The answers of the API are JSON, never HTML.
	rec := e.srv.API("PUT", "/settings/access", web.RoleAdmin, settingsJSON(t, func(m map[string]any) { m["inactive_days"] = hostile[0] }))
	if strings.Contains(rec.Body.String(), "<script>") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("API answer: %s %s", rec.Header().Get("Content-Type"), rec.Body.String())
	}
}

// TestPagesLinkTheEngineSettings: the schedule, the purge page and the application settings (served
// by package handlers, admins only, with the store) link the engine settings, which sit under the
// schedule in the nav.
func TestPagesLinkTheEngineSettings(t *testing.T) {
	e := newEnv(t, envOptions{noSync: true})
	withStore := webtest.New(t, webtest.Options{BasePath: "/m", Features: []web.Feature{e.feature},
		Deps: handlers.Deps{Store: e.store}})
	for _, c := range []struct {
		srv  *webtest.Server
		path string
		role web.Role
	}{{e.srv, "/schedule", web.RoleAuditor}, {e.srv, "/purge", web.RoleAuditor}, {withStore, "/settings", web.RoleAdmin}} {
		rec := c.srv.Do("GET", c.path, c.role, nil)
		wantStatus(t, rec, http.StatusOK, c.path)
		if !strings.Contains(rec.Body.String(), `href="/m/schedule/settings"`) {
			t.Errorf("%s does not link the engine settings", c.path)
		}
	}
	rec := e.srv.Do("GET", "/schedule/settings", web.RoleAuditor, nil)
	if !strings.Contains(rec.Body.String(), `href="/m/schedule" aria-current="page"`) || !strings.Contains(rec.Body.String(), "Purge rules and safety limits") {
		t.Error("the settings page is not marked under the schedule in the nav, or lacks its heading")
	}
}
