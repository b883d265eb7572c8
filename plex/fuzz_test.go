package plex

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary bodies to every decoder of outside input.
// Decoders must never panic, and what they accept must satisfy the
// invariants the rest of the client relies on. Run one with, for example,
// go test ./plex -run '^$' -fuzz FuzzParseUsers -fuzztime 20s.

func FuzzParseUsers(f *testing.F) {
	f.Add(golden(f, "users.xml"))
	f.Add([]byte(`<MediaContainer><User id="1"><Server machineIdentifier="m" pending="true"/></User></MediaContainer>`))
	f.Add([]byte(`<MediaContainer><User id="x"/></MediaContainer>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		users, err := parseUsers(body)
		if err != nil {
			return
		}
		for _, u := range users {
			if u.ID <= 0 {
				t.Fatalf("accepted a user without id: %+v", u)
			}
			for m := range u.Shares {
				if m == "" {
					t.Fatal("share keyed by an empty machine id")
				}
			}
		}
	})
}

func FuzzParseSharedServers(f *testing.F) {
	f.Add(golden(f, "shared_servers.xml"))
	f.Add([]byte(`<MediaContainer><SharedServer id="1" userID="2" allLibraries="1"><Section id="3" key="4" shared="1"/></SharedServer></MediaContainer>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := parseSharedServers(body, "m")
		if err != nil {
			return
		}
		for _, s := range list {
			if s.ShareID <= 0 || s.MachineID != "m" {
				t.Fatalf("bad share accepted: %+v", s)
			}
			ids, keys := s.shared()
			if len(ids) != len(keys) {
				t.Fatalf("ids %v and keys %v differ in length", ids, keys)
			}
		}
	})
}

func FuzzParsePendingInvites(f *testing.F) {
	f.Add(golden(f, "pending_invites.json"))
	f.Add([]byte(`[{"id":1,"machineIdentifier":"m","libraries":[{"id":"2","key":3}]}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := parsePendingInvites(body)
		if err != nil {
			return
		}
		for _, inv := range list {
			if inv.ShareID <= 0 || inv.MachineID == "" {
				t.Fatalf("bad invite accepted: %+v", inv)
			}
		}
	})
}

func FuzzParseSessions(f *testing.F) {
	f.Add(golden(f, "sessions.xml"))
	f.Add(golden(f, "sessions.json"))
	f.Add([]byte(`{"MediaContainer":{"Metadata":{"type":"movie","Media":{"Part":{}}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := parseSessions(body)
		if err != nil {
			return
		}
		for _, s := range list {
			if s.Transcoding() && s.Transcode == nil {
				t.Fatal("transcoding without a transcode session")
			}
			if len(s.Player.Address) >= 7 && s.Player.Address[:7] == "::ffff:" {
				t.Fatalf("mapped prefix kept: %q", s.Player.Address)
			}
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	f.Add(golden(f, "history_page.xml"))
	f.Add(golden(f, "history_page.json"))
	f.Add([]byte(`<MediaContainer totalSize="-4"/>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseHistory(body, nil)
		if err != nil {
			return
		}
		if p.total < -1 {
			t.Fatalf("total %d", p.total)
		}
	})
}

func FuzzParsePIN(f *testing.F) {
	f.Add(golden(f, "pin_created.json"))
	f.Add(golden(f, "pin_claimed_strings.json"))
	f.Add(golden(f, "pin.xml"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parsePIN(body, now)
		if err != nil {
			return
		}
		if p.ID <= 0 || p.Code == "" {
			t.Fatalf("PIN without id or code accepted: %+v", p)
		}
	})
}

func FuzzParseAccount(f *testing.F) {
	f.Add(golden(f, "user.json"))
	f.Add([]byte(`{"id":"1","subscription":{"features":[1,{"id":2},"x",null]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := parseAccount(body)
		if err == nil && a.ID <= 0 {
			t.Fatalf("account without id accepted: %+v", a)
		}
	})
}

func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"errors":[{"code":1001,"message":"x","status":401}]}`,
		`<Response code="400" status="You're already sharing"/>`,
		`<errors><error code="1999" field="base" status="400"/></errors>`,
		`<errors><error>Not found</error></errors>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		parseErrorBody(body)
	})
}

func FuzzFilterRoundTrip(f *testing.F) {
	for _, s := range []string{"contentRating=G%2CPG|label!=adult", "label=kids", "contentRating!=R,NC-17", "", "label=a%20b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseFilter(s)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed filter %q does not validate: %v", s, err)
		}
		again, err := ParseFilter(p.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", p.String(), s, err)
		}
		if !slices.Equal(again.ContentRatings, p.ContentRatings) || !slices.Equal(again.ExcludeContentRatings, p.ExcludeContentRatings) ||
			!slices.Equal(again.Labels, p.Labels) || !slices.Equal(again.ExcludeLabels, p.ExcludeLabels) {
			t.Fatalf("round trip of %q: %+v became %+v", s, p, again)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add(golden(f, "metadata_versions.json"))
	f.Add(golden(f, "metadata_episode.xml"))
	f.Add([]byte(`{"MediaContainer":{"Metadata":{"ratingKey":1,"Media":{"id":2,"Part":{}}}}}`))
	f.Add([]byte(`<MediaContainer><Video ratingKey="1"><Media id="2"/><Media id="2" videoResolution="4k"/></Video></MediaContainer>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseMetadata(body)
		if err != nil {
			return
		}
		if strings.TrimSpace(m.RatingKey) == "" {
			t.Fatalf("item without rating key accepted: %+v", m)
		}
		for _, v := range m.Media {
			got, ok := m.Version(v.ID)
			if v.ID != "" && (!ok || got.ID != v.ID) {
				t.Fatalf("Version(%q) = %+v, %t for a listed version", v.ID, got, ok)
			}
		}
		if _, ok := m.Version(""); ok != (len(m.Media) == 1) {
			t.Fatalf("Version(\"\") = %t with %d versions", ok, len(m.Media))
		}
	})
}

func FuzzParseResources(f *testing.F) {
	f.Add(golden(f, "resources.json"))
	f.Add(golden(f, "resources_shared.json"))
	f.Add([]byte(`[{"provides":"server","clientIdentifier":"m","ownerId":"7","owned":"0","connections":[{"relay":1},{"local":"1"}]}]`))
	f.Add([]byte(`[{"product":"Plex Media Server","clientIdentifier":"m","ownerId":-1,"owned":false}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, owned := range []bool{true, false} {
			list, err := parseResources(body, owned)
			if err != nil {
				continue
			}
			for _, r := range list {
				if strings.TrimSpace(r.MachineID) == "" || r.Owned != owned || r.OwnerID < 0 {
					t.Fatalf("owned=%t: bad server accepted: %+v", owned, r)
				}
				if owned && (r.OwnerID != 0 || r.SourceTitle != "") {
					t.Fatalf("an owned server has an owner: %+v", r)
				}
				for i := 1; i < len(r.Connections); i++ {
					if connRank(r.Connections[i-1]) > connRank(r.Connections[i]) {
						t.Fatalf("connections out of order: %+v", r.Connections)
					}
				}
			}
		}
	})
}
