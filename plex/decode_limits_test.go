package plex

import (
	"slices"
	"testing"
	"time"
)

// The tests of this file pin the limits the fuzz targets found missing: a
// Retry-After that overflowed, sections and libraries listed twice, doubtful
// parts of a share answer, and a Home document's own id taken for a user's.

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"120", 2 * time.Minute}, {" 5 ", 5 * time.Second}, {"86400", maxRetryAfter},
		// Out of range: the cap, never a negative (wrapped) or zero delay.
		{"86401", maxRetryAfter}, {"9223372037", maxRetryAfter}, {"99999999999999999999", maxRetryAfter},
		// Not delay-seconds (RFC 9110: digits only).
		{"-5", 0}, {"+5", 0}, {"1.5", 0}, {"soon", 0},
		{"Sun, 01 Mar 2026 09:00:30 GMT", 30 * time.Second}, {"Sunday, 01-Mar-26 09:00:30 GMT", 30 * time.Second},
		{"Sat, 28 Feb 2026 09:00:30 GMT", 0}, {"Fri, 31 Dec 9999 23:59:59 GMT", maxRetryAfter},
	} {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseSectionsRefusesRepeats(t *testing.T) {
	for name, body := range map[string]string{
		"key twice": `<MediaContainer><Server machineIdentifier="m"><Section id="1" key="4"/><Section id="2" key="4"/></Server></MediaContainer>`,
		"id twice":  `<MediaContainer><Server machineIdentifier="m"><Section id="1" key="4"/><Section id="1" key="8"/></Server></MediaContainer>`,
		"blank key": `<MediaContainer><Server machineIdentifier="m"><Section id="1" key=" "/></Server></MediaContainer>`,
	} {
		if l, err := parseSections([]byte(body), "m"); err == nil {
			t.Errorf("%s: accepted as %+v", name, l)
		}
	}
	// A repeat on another server does not matter.
	body := `<MediaContainer><Server machineIdentifier="a"><Section id="1" key="4"/></Server>` +
		`<Server machineIdentifier="m"><Section id="1" key="4"/><Section id="2" key="8"/></Server></MediaContainer>`
	if l, err := parseSections([]byte(body), "m"); err != nil || len(l) != 2 {
		t.Errorf("got %+v, %v", l, err)
	}
}

func TestParseLibrariesRefusesRepeats(t *testing.T) {
	for _, body := range []string{
		`{"MediaContainer":{"Directory":[{"key":4},{"key":"4"}]}}`,
		`<MediaContainer><Directory key="1"/><Directory key="1"/></MediaContainer>`,
		`{"MediaContainer":{"Directory":{"key":" "}}}`,
	} {
		if libs, err := parseLibraries([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", body, libs)
		}
	}
}

func TestParseShareObjectDropsDoubtfulParts(t *testing.T) {
	j, err := parseShareObject([]byte(`{"id":-3,"invitedId":"-1","libraries":[{"id":0,"key":4},{"id":5,"key":""},{"id":"6","key":" "},{"id":7,"key":8}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if j.ID != 0 || j.InvitedID != 0 || len(j.Libraries) != 1 || j.Libraries[0].ID != 7 || j.Libraries[0].Key != "8" {
		t.Errorf("got %+v", j)
	}
	j, err = parseShareObject(fakeGolden(t, "share_create.json"))
	if err != nil || j.ID != 907759183 || j.InvitedID != 41234567 || len(j.Libraries) != 2 {
		t.Errorf("the fake's share = %+v, %v", j, err)
	}
	if _, err := parseShareObject([]byte(`{"id":"x"}`)); err == nil {
		t.Error("a bad id was accepted")
	}
}

func TestParseHomeUserNotTheContainer(t *testing.T) {
	for name, tt := range map[string]struct {
		body string
		want int64
	}{
		"v2 home document": {string(golden(t, "home_v2.xml")), 13692262},
		"home with a user": {`<home id="5"><user id="6"/></home>`, 6},
		"v1 user":          {string(fakeGolden(t, "v1_managed_user.xml")), 40000001},
		"v2 user":          {string(fakeGolden(t, "managed_user.xml")), 40000001},
	} {
		u, err := parseHomeUser([]byte(tt.body))
		if err != nil || u.ID != tt.want {
			t.Errorf("%s: got %+v, %v; want id %d", name, u, err, tt.want)
		}
	}
	if u, err := parseHomeUser([]byte(`<home id="5"/>`)); err == nil {
		t.Errorf("a home without users gave %+v", u)
	}
}

func TestParsePMSDocumentLimits(t *testing.T) {
	if id, err := parseIdentity([]byte(`{"MediaContainer":{"machineIdentifier":"  "}}`)); err == nil {
		t.Errorf("blank machine id accepted: %+v", id)
	}
	if id, err := parseIdentity(fakeGolden(t, "identity.xml")); err != nil || id.MachineID != basementID || !id.Claimed {
		t.Errorf("identity = %+v, %v", id, err)
	}
	info, err := parseRoot([]byte(`<MediaContainer ownerFeatures=",, pass," transcoderActiveVideoSessions="-2"/>`))
	if err != nil || info.TranscoderActiveVideoSessions != 0 || !info.PlexPass || !slices.Equal(info.Features, []string{"pass"}) {
		t.Errorf("root = %+v, %v", info, err)
	}
	if a, err := parseServerAccounts([]byte(`<MediaContainer><Account id="-1"/></MediaContainer>`)); err == nil {
		t.Errorf("negative account id accepted: %+v", a)
	}
	a, err := parseServerAccounts(fakeGolden(t, "accounts.xml"))
	if err != nil || len(a) != 5 || a[0].ID != 0 || a[1].ID != 1 {
		t.Errorf("accounts = %+v, %v", a, err)
	}
}
