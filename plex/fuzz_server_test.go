package plex

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets of this file cover the decoders of server and sharing
// documents: plex.tv's server with its sections, a share object, the Home
// member lists, and the PMS identity, root, library and account documents.
// Seeds are the documents of docs/plex-api.md (in testdata) and the fake's
// golden answers.

// fakeGolden reads a golden answer of the fake (plextest/testdata).
func fakeGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("plextest", "testdata", name+".golden"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// basementID is the machine id of the documents' server.
const basementID = "93c418a691854d3be47ead674134d86a3f5e00f4"

func FuzzParseSections(f *testing.F) {
	f.Add(golden(f, "server_sections.xml"), basementID)
	f.Add(fakeGolden(f, "api_server.xml"), basementID)
	f.Add(fakeGolden(f, "api_server.xml"), "c080de7e0168d1da7027f8b218adb769bd1d6c6c")
	f.Add([]byte(`<MediaContainer><Server machineIdentifier="m"><Section id="1" key="4"/><Section id="2" key="4"/></Server></MediaContainer>`), "m")
	f.Add([]byte(`<MediaContainer><Server machineIdentifier="m"><Section id="1" key="4"/><Section id="1" key="8"/></Server></MediaContainer>`), "m")
	f.Add([]byte(`<MediaContainer><Server machineIdentifier="m"><Section id="1.0" key=" "/></Server></MediaContainer>`), "m")
	f.Fuzz(func(t *testing.T, body []byte, machineID string) {
		list, err := parseSections(body, machineID)
		if err != nil {
			if list != nil {
				t.Fatalf("error %v with a list %+v", err, list)
			}
			return
		}
		keys := make([]string, 0, len(list))
		for _, s := range list {
			if s.ID <= 0 || strings.TrimSpace(s.Key) == "" {
				t.Fatalf("section without id or key accepted: %+v", s)
			}
			// The two lookups are inverse: each key maps to its id and back.
			ids, err := list.IDs(s.Key)
			if err != nil || !slices.Equal(ids, []int64{s.ID}) {
				t.Fatalf("IDs(%q) = %v, %v; want [%d]", s.Key, ids, err, s.ID)
			}
			back, err := list.Keys(s.ID)
			if err != nil || !slices.Equal(back, []string{s.Key}) {
				t.Fatalf("Keys(%d) = %v, %v; want [%q]", s.ID, back, err, s.Key)
			}
			keys = append(keys, s.Key)
		}
		ids, err := list.IDs(keys...)
		if err != nil || len(ids) != len(list) {
			t.Fatalf("IDs of every key = %v, %v for %d sections", ids, err, len(list))
		}
		if again, err := list.Keys(ids...); err != nil || !slices.Equal(again, keys) {
			t.Fatalf("Keys(IDs(%q)) = %q, %v", keys, again, err)
		}
		// An unknown key or id is an invalid argument, not a silent miss.
		if _, err := list.IDs(strings.Join(keys, "/") + "/unknown"); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("unknown key: %v", err)
		}
		if _, err := list.Keys(-1); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("unknown id: %v", err)
		}
	})
}

func FuzzParseLibraries(f *testing.F) {
	f.Add(golden(f, "libraries.xml"))
	f.Add(golden(f, "libraries.json"))
	f.Add(fakeGolden(f, "library_sections.xml"))
	f.Add([]byte(`{"MediaContainer":{"Directory":[{"key":4},{"key":"4"}]}}`))
	f.Add([]byte(`{"MediaContainer":{"Directory":{"key":" ","Location":[{"path":"/a"},{"path":"/b"}]}}}`))
	f.Add([]byte(`<MediaContainer><Directory key="1" updatedAt="2025-02-19T21:20:00Z"><Location path="/x"/></Directory></MediaContainer>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		libs, err := parseLibraries(body)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range libs {
			if strings.TrimSpace(l.Key) == "" || seen[l.Key] {
				t.Fatalf("blank or repeated key accepted: %+v", libs)
			}
			seen[l.Key] = true
			if !l.UpdatedAt.IsZero() && l.UpdatedAt.Location().String() != "UTC" {
				t.Fatalf("updatedAt not in UTC: %v", l.UpdatedAt)
			}
			if !l.ScannedAt.IsZero() && l.ScannedAt.Location().String() != "UTC" {
				t.Fatalf("scannedAt not in UTC: %v", l.ScannedAt)
			}
		}
	})
}

func FuzzParseShareObject(f *testing.F) {
	f.Add(fakeGolden(f, "share_create.json"))
	f.Add([]byte(`{}`))
	f.Add([]byte(`<MediaContainer/>`))
	f.Add([]byte(`{"id":-3,"invitedId":"-1","libraries":[{"id":0,"key":4},{"id":5,"key":""},{"id":"6","key":" "},{"id":7,"key":8}]}`))
	f.Add([]byte(`{"id":1,"libraries":[{"id":1e3,"key":true}],"acceptedAt":"2025-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := parseShareObject(body)
		if err != nil {
			return
		}
		if sniff(body) != formatJSON && (j.ID != 0 || j.Libraries != nil) {
			t.Fatalf("a body that is not JSON gave a share: %+v", j)
		}
		if j.ID < 0 || j.InvitedID < 0 {
			t.Fatalf("negative id kept: share %d, invitee %d", j.ID, j.InvitedID)
		}
		for _, l := range j.Libraries {
			if l.ID <= 0 || strings.TrimSpace(string(l.Key)) == "" {
				t.Fatalf("library without id or key kept: %+v", l)
			}
		}
	})
}

func FuzzParseHomeUsers(f *testing.F) {
	f.Add(golden(f, "home_users.xml"))
	f.Add(golden(f, "home_v2.xml"))
	f.Add(fakeGolden(f, "home_users.xml"))
	f.Add(fakeGolden(f, "v2_home_users.xml"))
	f.Add([]byte(`<MediaContainer><User id="0"/></MediaContainer>`))
	f.Add([]byte(`<home id="5"><user id="6" restricted="1"/></home>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := parseHomeUsers(body)
		if err != nil {
			return
		}
		for _, u := range list {
			if u.ID <= 0 {
				t.Fatalf("home user without id accepted: %+v", u)
			}
		}
		if n := countUserElements(body); len(list) > n {
			t.Fatalf("%d users from a document with %d user elements", len(list), n)
		}
	})
}

func FuzzParseHomeUser(f *testing.F) {
	f.Add(golden(f, "managed_user.xml"))
	f.Add(fakeGolden(f, "managed_user.xml"))
	f.Add(fakeGolden(f, "v1_managed_user.xml"))
	f.Add(golden(f, "home_v2.xml"))
	f.Add([]byte(`{"id":"7","restricted":1,"username":null}`))
	f.Add([]byte(`<home id="5"><users><user id="6"/></users></home>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := parseHomeUser(body)
		if err != nil {
			return
		}
		if u.ID <= 0 {
			t.Fatalf("home user without id accepted: %+v", u)
		}
		if sniff(body) != formatXML {
			return
		}
		// The user is the root element when that is a user, else the
		// first member of the list: never the id of a container.
		name, id, ok := rootElement(body)
		if ok && strings.EqualFold(name, "user") && id > 0 {
			if u.ID != id {
				t.Fatalf("root user %d, got %d", id, u.ID)
			}
			return
		}
		list, err := parseHomeUsers(body)
		if err != nil || len(list) == 0 || list[0] != u {
			t.Fatalf("got %+v; the list is %+v, %v", u, list, err)
		}
	})
}

func FuzzParsePMSDocuments(f *testing.F) {
	f.Add(golden(f, "identity.json"))
	f.Add(golden(f, "root.xml"))
	f.Add(golden(f, "accounts.xml"))
	f.Add(fakeGolden(f, "identity.json"))
	f.Add(fakeGolden(f, "identity.xml"))
	f.Add(fakeGolden(f, "pms_root.xml"))
	f.Add(fakeGolden(f, "accounts.xml"))
	f.Add([]byte(`{"MediaContainer":{"machineIdentifier":" ","ownerFeatures":",, pass,","transcoderActiveVideoSessions":"-2","Account":{"id":-1}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if id, err := parseIdentity(body); err == nil && strings.TrimSpace(id.MachineID) == "" {
			t.Fatalf("identity without machine id accepted: %+v", id)
		}
		if info, err := parseRoot(body); err == nil {
			for _, feat := range info.Features {
				if feat == "" || feat != strings.TrimSpace(feat) || strings.Contains(feat, ",") {
					t.Fatalf("feature %q in %q", feat, info.Features)
				}
			}
			if info.PlexPass != (info.MyPlexSubscription || hasPassFeature(info.Features)) {
				t.Fatalf("PlexPass %t with subscription %t and features %q", info.PlexPass, info.MyPlexSubscription, info.Features)
			}
			if info.TranscoderActiveVideoSessions < 0 {
				t.Fatalf("negative transcode count %d", info.TranscoderActiveVideoSessions)
			}
		}
		if accounts, err := parseServerAccounts(body); err == nil {
			for _, a := range accounts {
				if a.ID < 0 {
					t.Fatalf("negative account id accepted: %+v", a)
				}
			}
		}
	})
}

// rootElement returns the name and the id attribute of a document's root
// element, read with its own decoder (the oracle of FuzzParseHomeUser).
func rootElement(body []byte) (name string, id int64, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = passThroughCharset
	for {
		tok, err := d.Token()
		if err != nil {
			return "", 0, false
		}
		if se, isStart := tok.(xml.StartElement); isStart {
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					n, err := parseFlexInt(a.Value)
					if err != nil {
						return se.Name.Local, 0, false // the decoder refuses the element
					}
					id = n
				}
			}
			return se.Name.Local, id, true
		}
	}
}

// countUserElements counts the elements named User or user in body.
func countUserElements(body []byte) int {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = passThroughCharset
	n := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return n
		}
		if se, ok := tok.(xml.StartElement); ok && strings.EqualFold(se.Name.Local, "user") {
			n++
		}
	}
}
