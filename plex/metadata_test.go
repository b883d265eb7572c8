package plex

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		file     string
		want     Metadata
		versions []MediaVersion
	}{
		{
			// JSON, two versions; the second has quoted numbers, a numeric
			// videoResolution and a single Part object.
			file: "metadata_versions.json",
			want: Metadata{RatingKey: "218860", Key: "/library/metadata/218860", GUID: "plex://movie/5d7768286f4521001ea9c3e2",
				Type: "movie", Title: "Captain America: The Winter Soldier", Year: 2014, LibraryKey: "4",
				Thumb: "/library/metadata/218860/thumb/1700000000", Duration: 8160 * time.Second},
			versions: []MediaVersion{
				{ID: "55899", Resolution: "4k", Width: 3840, Height: 1600, Bitrate: 52870, Container: "mkv", VideoCodec: "hevc",
					AudioCodec: "truehd", Duration: 8160 * time.Second},
				{ID: "55900", Resolution: "1080", Width: 1920, Height: 800, Bitrate: 10432, Container: "mp4", VideoCodec: "h264",
					AudioCodec: "eac3", Duration: 8160 * time.Second},
			},
		},
		{
			// XML, one version, with tag children (Genre, Director) to skip.
			file: "metadata_episode.xml",
			want: Metadata{RatingKey: "917", Key: "/library/metadata/917", GUID: "plex://episode/5d9c0b2e7d06d9001ffd6a3b",
				Type: "episode", Title: "At the Garbage Dump", GrandparentTitle: "Mighty Machines", ParentTitle: "Season 1",
				Index: 7, ParentIndex: 1, Year: 1998, LibraryKey: "8", Thumb: "/library/metadata/917/thumb/1700000000",
				Duration: 1500 * time.Second},
			versions: []MediaVersion{
				{ID: "2816", Resolution: "720", Width: 1280, Height: 720, Bitrate: 3006, Container: "mkv", VideoCodec: "h264",
					AudioCodec: "aac", Duration: 1500 * time.Second},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := parseMetadata(golden(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := m
			got.Media = nil
			if got.RatingKey != tt.want.RatingKey || got.Key != tt.want.Key || got.GUID != tt.want.GUID || got.Type != tt.want.Type ||
				got.Title != tt.want.Title || got.GrandparentTitle != tt.want.GrandparentTitle || got.ParentTitle != tt.want.ParentTitle ||
				got.Index != tt.want.Index || got.ParentIndex != tt.want.ParentIndex || got.Year != tt.want.Year ||
				got.LibraryKey != tt.want.LibraryKey || got.Thumb != tt.want.Thumb || got.Duration != tt.want.Duration {
				t.Errorf("item = %+v\nwant   %+v", got, tt.want)
			}
			if !slices.Equal(m.Media, tt.versions) {
				t.Errorf("versions = %+v\nwant       %+v", m.Media, tt.versions)
			}
		})
	}
}

func TestParseMetadataVariantsAndBadBodies(t *testing.T) {
	// The type comes from the element name when the attribute is missing;
	// a show (Directory) has no versions.
	m, err := parseMetadata([]byte(`<MediaContainer size="1"><Directory ratingKey="871" title="Mighty Machines"/></MediaContainer>`))
	if err != nil || m.Type != "directory" || len(m.Media) != 0 || m.RatingKey != "871" {
		t.Errorf("directory = %+v, %v", m, err)
	}
	m, err = parseMetadata([]byte(`{"MediaContainer":{"Metadata":{"ratingKey":12,"type":"track","Media":{"id":3,"audioCodec":"flac"}}}}`))
	if err != nil || m.RatingKey != "12" || len(m.Media) != 1 || m.Media[0].ID != "3" || m.Media[0].Resolution != "" {
		t.Errorf("single-object JSON = %+v, %v", m, err)
	}

	for _, tt := range []struct {
		name, body string
		noItem     bool
	}{
		{"empty XML container", `<MediaContainer size="0"/>`, true},
		{"empty JSON container", `{"MediaContainer":{"size":0}}`, true},
		{"JSON without container", `{"size":1}`, false},
		{"item without ratingKey", `<MediaContainer><Video title="x"/></MediaContainer>`, false},
		{"blank ratingKey", `{"MediaContainer":{"Metadata":[{"ratingKey":" "}]}}`, false},
		{"bad number", `{"MediaContainer":{"Metadata":[{"ratingKey":"1","Media":[{"width":"wide"}]}]}}`, false},
		{"object for a scalar", `{"MediaContainer":{"Metadata":[{"ratingKey":{"a":1}}]}}`, false},
		{"HTML", `<html><body>401 Unauthorized</body>`, false},
		{"HTML without items", `<html>maintenance</html>`, false},
		{"other XML root", `<Response code="0" status="ok"/>`, false},
		{"not a body", `Not Found`, false},
		{"empty", ``, false},
	} {
		_, err := parseMetadata([]byte(tt.body))
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if errors.Is(err, errNoItem) != tt.noItem {
			t.Errorf("%s: error %v, no-item = %t", tt.name, err, tt.noItem)
		}
	}
}

func TestMetadataVersion(t *testing.T) {
	uhd := MediaVersion{ID: "1", Resolution: "4k"}
	hd := MediaVersion{ID: "2", Resolution: "1080"}
	tests := []struct {
		name    string
		media   []MediaVersion
		mediaID string
		want    MediaVersion
		ok      bool
	}{
		{"match first", []MediaVersion{uhd, hd}, "1", uhd, true},
		{"match second", []MediaVersion{uhd, hd}, "2", hd, true},
		{"no match among several: no guess", []MediaVersion{uhd, hd}, "3", MediaVersion{}, false},
		{"no id among several: no guess", []MediaVersion{uhd, hd}, "", MediaVersion{}, false},
		{"no match, single version", []MediaVersion{hd}, "3", hd, true},
		{"no id, single version", []MediaVersion{uhd}, "", uhd, true},
		{"no versions", nil, "1", MediaVersion{}, false},
	}
	for _, tt := range tests {
		got, ok := Metadata{Media: tt.media}.Version(tt.mediaID)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: Version(%q) = %+v, %t; want %+v, %t", tt.name, tt.mediaID, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidRatingKey(t *testing.T) {
	for k, want := range map[string]bool{
		"218860": true, "abc-1_2": true, "": false, ".": false, "..": false, " 1": false, "1 ": false,
		"1/2": false, `1\2`: false, "1?x=2": false, "1#x": false, "1\n": false, "1\x7f": false,
	} {
		if got := validRatingKey(k); got != want {
			t.Errorf("validRatingKey(%q) = %t, want %t", k, got, want)
		}
	}
}
