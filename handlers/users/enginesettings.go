package users

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// pageEngineSettings is the access engine's settings page.
const pageEngineSettings = "admin/settings-engine"

// engineSettingsPath is the page's path below the base path.
const engineSettingsPath = "/schedule/settings"

// engineSettingsRoutes registers the engine settings page and REST routes: auditors read them,
// admins change them.
func (f *Feature) engineSettingsRoutes(r web.Router) {
	r.Page(http.MethodGet, engineSettingsPath, web.RoleAuditor, f.engineSettingsPage)
	r.Page(http.MethodPost, engineSettingsPath, web.RoleAdmin, f.engineSettingsSave)
	r.API(http.MethodGet, "/settings/access", web.RoleAuditor, f.apiEngineSettings, web.APIDoc{
		Summary: "Purge rules and safety limits of the access engine", Tags: tagSettings, Response: AccessSettings{},
		Description: "The effective settings: the stored ones, with the defaults for any never set. The sync and " +
			"enforcement intervals are not here: they are set in the Caddyfile (sync_every, enforce_every)."})
	r.API(http.MethodPut, "/settings/access", web.RoleAdmin, f.apiPutEngineSettings, web.APIDoc{
		Summary: "Change the purge rules and safety limits", Tags: tagSettings, Request: AccessSettings{},
		Response: AccessSettings{},
		Description: "Replaces every setting: each field is required (GET them first). A value out of range is a 400 " +
			"naming the field and nothing is saved. A change is recorded as a settings.engine_changed event and used " +
			"by the next pass and purge preview."})
}

// tagSettings groups the settings routes in openapi.json.
var tagSettings = []string{"settings"}

// AccessSettings are the access engine's admin-editable settings in the REST API (GET and PUT
// /settings/access). The names are access.Settings' JSON names.
type AccessSettings struct {
	// InactiveDays: users who have not watched anything for this many days are purge candidates.
	InactiveDays int `json:"inactive_days"`
	// PurgeNeverWatched makes users who never watched anything candidates however recently they joined.
	PurgeNeverWatched bool `json:"purge_never_watched"`
	// AutoPurge lets the daily purge loop remove the candidates without an admin.
	AutoPurge bool `json:"auto_purge"`
	// RemovalCap is the most shares one automatic pass may remove; above it nothing is removed.
	RemovalCap int `json:"removal_cap"`
	// ShrinkPercent and ShrinkMinUsers: a sync that would mark more than ShrinkPercent % of the
	// active users, and at least ShrinkMinUsers of them, as removed is held for confirmation.
	ShrinkPercent  int `json:"shrink_percent"`
	ShrinkMinUsers int `json:"shrink_min_users"` // see ShrinkPercent
}

// JSONSchema describes the settings with their ranges in the OpenAPI document.
func (AccessSettings) JSONSchema() map[string]any {
	props := map[string]any{
		"purge_never_watched": map[string]any{"type": "boolean",
			"description": "Users who never watched anything are purge candidates however recently they joined."},
		"auto_purge": map[string]any{"type": "boolean",
			"description": "The daily purge loop removes the candidates without an admin (never more than removal_cap: above it, nobody)."},
	}
	required := []string{"purge_never_watched", "auto_purge"}
	var st access.Settings
	for _, n := range numericSettings(&st) {
		props[n.Field] = map[string]any{"type": "integer", "minimum": 1, "maximum": n.Max, "description": n.Doc}
		required = append(required, n.Field)
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// toAccessSettings converts the engine's settings for the API.
func toAccessSettings(st access.Settings) AccessSettings {
	return AccessSettings{InactiveDays: st.InactiveDays, PurgeNeverWatched: st.PurgeNeverWatched, AutoPurge: st.AutoPurge,
		RemovalCap: st.RemovalCap, ShrinkPercent: st.ShrinkPercent, ShrinkMinUsers: st.ShrinkMinUsers}
}

// accessSettingsInput is the body of PUT /settings/access as read: a missing field stays nil.
type accessSettingsInput struct {
	InactiveDays      *int  `json:"inactive_days"`
	PurgeNeverWatched *bool `json:"purge_never_watched"`
	AutoPurge         *bool `json:"auto_purge"`
	RemovalCap        *int  `json:"removal_cap"`
	ShrinkPercent     *int  `json:"shrink_percent"`
	ShrinkMinUsers    *int  `json:"shrink_min_users"`
}

// settings checks every field and returns the settings; the error is a
// *web.InputError naming the first field at fault.
func (in accessSettingsInput) settings() (access.Settings, error) {
	missing := func(field string) error {
		return web.NewInputError(field, "is required: PUT replaces every setting (GET /settings/access gives the current ones)")
	}
	st := access.Settings{}
	ints := map[string]*int{"inactive_days": in.InactiveDays, "removal_cap": in.RemovalCap,
		"shrink_percent": in.ShrinkPercent, "shrink_min_users": in.ShrinkMinUsers}
	for _, n := range numericSettings(&st) {
		v := ints[n.Field]
		if v == nil {
			return access.Settings{}, missing(n.Field)
		}
		if *v < 1 || *v > n.Max {
			return access.Settings{}, n.rangeError()
		}
		*n.Value = *v
	}
	if in.PurgeNeverWatched == nil {
		return access.Settings{}, missing("purge_never_watched")
	}
	if in.AutoPurge == nil {
		return access.Settings{}, missing("auto_purge")
	}
	st.PurgeNeverWatched, st.AutoPurge = *in.PurgeNeverWatched, *in.AutoPurge
	return st, nil
}

// numericSetting is one whole-number engine setting.
type numericSetting struct {
	// Field is the JSON and form name (access.Settings' JSON name).
	Field string
	// Label names the setting in messages.
	Label string
	// Max is the largest value access.Settings.Validate accepts; the least is 1 (a stored 0 means
	// "the default" and is never what an admin means).
	Max int
	// Default is the package default.
	Default int
	// Doc says what the setting does (openapi.json).
	Doc string
	// Value points into the settings the list was made for.
	Value *int
}

// rangeError is the message of a value out of range or not a whole number.
func (n numericSetting) rangeError() *web.InputError {
	return web.NewInputError(n.Field, "enter a whole number from 1 to %d", n.Max)
}

// numericSettings lists the whole-number settings of st, in the order of the form.
func numericSettings(st *access.Settings) []numericSetting {
	return []numericSetting{
		{Field: "inactive_days", Label: "Inactive days", Max: 3650, Default: access.DefaultInactiveDays, Value: &st.InactiveDays,
			Doc: "Users who have not watched anything for this many days are purge candidates."},
		{Field: "removal_cap", Label: "Removal cap", Max: 10000, Default: access.DefaultRemovalCap, Value: &st.RemovalCap,
			Doc: "The most shares one automatic pass (enforcement, automatic purge) may remove; above it nothing is removed and an admin is asked."},
		{Field: "shrink_percent", Label: "Shrink percent", Max: 100, Default: access.DefaultShrinkPercent, Value: &st.ShrinkPercent,
			Doc: "A sync that would mark more than this percentage of the active users as removed is held for an admin's confirmation."},
		{Field: "shrink_min_users", Label: "Shrink minimum users", Max: 100000, Default: access.DefaultShrinkMinUsers, Value: &st.ShrinkMinUsers,
			Doc: "A sync is held (see shrink_percent) only when at least this many users would be marked removed."},
	}
}

// settingsValues are the settings form's values as entered.
type settingsValues struct {
	// Numbers are the whole-number fields by name, as typed.
	Numbers           map[string]string
	PurgeNeverWatched bool
	AutoPurge         bool
}

// settingsValuesOf fills the form from settings.
func settingsValuesOf(st access.Settings) settingsValues {
	v := settingsValues{Numbers: map[string]string{}, PurgeNeverWatched: st.PurgeNeverWatched, AutoPurge: st.AutoPurge}
	for _, n := range numericSettings(&st) {
		v.Numbers[n.Field] = strconv.Itoa(*n.Value)
	}
	return v
}

// parseSettingsForm reads the form; errs maps every field at fault to its message.
func parseSettingsForm(form url.Values) (settingsValues, access.Settings, map[string]string) {
	v := settingsValues{Numbers: map[string]string{}, PurgeNeverWatched: form.Get("purge_never_watched") != "",
		AutoPurge: form.Get("auto_purge") != ""}
	st := access.Settings{PurgeNeverWatched: v.PurgeNeverWatched, AutoPurge: v.AutoPurge}
	errs := map[string]string{}
	for _, n := range numericSettings(&st) {
		raw := strings.TrimSpace(form.Get(n.Field))
		v.Numbers[n.Field] = raw
		i, err := strconv.Atoi(raw)
		if err != nil || i < 1 || i > n.Max {
			errs[n.Field] = n.rangeError().Message
			continue
		}
		*n.Value = i
	}
	return v, st, errs
}

// settingsChanges describes what differs between two settings ("Inactive days: 30 → 10").
func settingsChanges(before, after access.Settings) []string {
	var out []string
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	bn, an := numericSettings(&before), numericSettings(&after)
	for i := range bn {
		if *bn[i].Value != *an[i].Value {
			out = append(out, fmt.Sprintf("%s: %d → %d", bn[i].Label, *bn[i].Value, *an[i].Value))
		}
	}
	if before.PurgeNeverWatched != after.PurgeNeverWatched {
		out = append(out, "Purge users who never watched: "+onOff(before.PurgeNeverWatched)+" → "+onOff(after.PurgeNeverWatched))
	}
	if before.AutoPurge != after.AutoPurge {
		out = append(out, "Automatic purge: "+onOff(before.AutoPurge)+" → "+onOff(after.AutoPurge))
	}
	return out
}

// settingHelp is one whole-number field of the page with its help.
type settingHelp struct {
	Field   string
	Max     int
	Default int
}

// engineSettingsView is the settings page's data.
type engineSettingsView struct {
	Values settingsValues
	// Current are the effective settings (shown beside what was entered when it is refused).
	Current access.Settings
	Errors  map[string]string
	// Limits are the whole-number fields' ranges and defaults by name.
	Limits map[string]settingHelp
	// Intervals are the background loops' periods (nil: the root did not say).
	Intervals []intervalRow
}

// intervalRow is one background loop's period.
type intervalRow struct {
	// Loop names the loop.
	Loop string
	// Every is the period in words ("every 15 minutes").
	Every string
	// Directive is the Caddyfile option that sets it ("" when it is fixed).
	Directive string
}

// intervalRows describes the loops' periods with the engine's defaults for zero fields (as
// access.Service.Loops applies them); nil without intervals.
func intervalRows(iv *access.Intervals) []intervalRow {
	if iv == nil {
		return nil
	}
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	return []intervalRow{
		{Loop: "Sync with Plex (and refresh the servers)", Every: describeEvery(or(iv.Sync, access.DefaultSyncEvery)), Directive: "sync_every"},
		{Loop: "Enforcement (starts, expiries, library windows, retries)", Every: describeEvery(or(iv.Enforce, access.DefaultEnforceEvery)), Directive: "enforce_every"},
		{Loop: "Watch history", Every: describeEvery(or(iv.History, access.DefaultHistoryEvery))},
		{Loop: "Automatic purge (when on)", Every: describeEvery(or(iv.Purge, access.DefaultPurgeEvery))},
	}
}

// describeEvery says a period in words: "every minute", "every 15 minutes", "every 24 hours".
func describeEvery(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "every " + one
		}
		return fmt.Sprintf("every %d %ss", n, one)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return unit(int64(d/time.Second), "second")
	}
	return "every " + d.String()
}

// renderEngineSettings shows the page.
func (f *Feature) renderEngineSettings(w http.ResponseWriter, r *http.Request, status int, current access.Settings,
	v settingsValues, errs map[string]string) {
	limits := map[string]settingHelp{}
	for _, n := range numericSettings(&current) {
		limits[n.Field] = settingHelp{Field: n.Field, Max: n.Max, Default: n.Default}
	}
	web.RenderStatus(w, r, status, pageEngineSettings, engineSettingsView{Values: v, Current: current, Errors: errs,
		Limits: limits, Intervals: intervalRows(f.intervals)})
}

// engineSettingsPage answers GET /schedule/settings.
func (f *Feature) engineSettingsPage(w http.ResponseWriter, r *http.Request) {
	st, err := f.engine.Settings()
	if err != nil {
		f.serverError(w, r, "reading the engine settings", err)
		return
	}
	f.renderEngineSettings(w, r, http.StatusOK, st, settingsValuesOf(st), nil)
}

// engineSettingsSave answers POST /schedule/settings: every field is checked, nothing is saved
// unless all are valid.
func (f *Feature) engineSettingsSave(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	current, err := f.engine.Settings()
	if err != nil {
		f.serverError(w, r, "reading the engine settings", err)
		return
	}
	v, st, errs := parseSettingsForm(r.PostForm)
	if len(errs) > 0 {
		web.FlashNow(r, web.FlashError, "Nothing was saved: correct the fields marked below.")
		f.renderEngineSettings(w, r, http.StatusBadRequest, current, v, errs)
		return
	}
	changes := settingsChanges(current, st)
	if len(changes) == 0 {
		web.Flash(w, r, web.FlashInfo, "Nothing changed.")
		web.Redirect(w, r, engineSettingsPath)
		return
	}
	saved, err := f.engine.PutSettings(actor(r), st)
	if err != nil {
		if field, msg, ok := inputField(err); ok {
			web.FlashNow(r, web.FlashError, "Nothing was saved: correct the fields marked below.")
			f.renderEngineSettings(w, r, http.StatusBadRequest, current, v, map[string]string{field: msg})
			return
		}
		f.serverError(w, r, "storing the engine settings", err)
		return
	}
	kind, msg := web.FlashSuccess, "Engine settings saved. "+strings.Join(changes, "; ")+"."
	if saved.AutoPurge && !current.AutoPurge {
		// One flash per redirect: the warning carries the summary.
		kind, msg = web.FlashWarning, msg+fmt.Sprintf(" The automatic purge is on: its next daily run removes every purge "+
			"candidate, unless they are more than %d (then nobody, and an event says so). Check the purge preview.", saved.RemovalCap)
	}
	web.Flash(w, r, kind, msg)
	web.Redirect(w, r, engineSettingsPath)
}

// apiEngineSettings answers GET /settings/access.
func (f *Feature) apiEngineSettings(w http.ResponseWriter, r *http.Request) {
	st, err := f.engine.Settings()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toAccessSettings(st))
}

// apiPutEngineSettings answers PUT /settings/access.
func (f *Feature) apiPutEngineSettings(w http.ResponseWriter, r *http.Request) {
	var in accessSettingsInput
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	st, err := in.settings()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	current, err := f.engine.Settings()
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	if len(settingsChanges(current, st)) == 0 {
		web.JSON(w, http.StatusOK, toAccessSettings(current))
		return
	}
	saved, err := f.engine.PutSettings(actor(r), st)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toAccessSettings(saved))
}
