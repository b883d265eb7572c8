package plex

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Metadata is one library item as its server describes it
// (GET {pms}/library/metadata/{ratingKey}). Unlike a Session, whose Media
// describes what the transcoder delivers, Metadata.Media describes the files
// on the server.
type Metadata struct {
	// RatingKey and Key identify the item on the server.
	RatingKey string
	Key       string
	// GUID is the agent's global id (plex://movie/…).
	GUID string
	// Type is movie, episode, track, photo, show, season…
	Type string
	// Title, GrandparentTitle (the show or artist) and ParentTitle (the
	// season or album) name the item.
	Title            string
	GrandparentTitle string
	ParentTitle      string
	// Index and ParentIndex are the episode and season numbers.
	Index       int
	ParentIndex int
	// Year is the release year.
	Year int
	// LibraryKey is the server's library key of the item.
	LibraryKey string
	// Thumb is the artwork path (see Server.Thumb).
	Thumb string
	// Duration is the item's length.
	Duration time.Duration
	// Media are the item's versions (a 4K and a 1080p file of one movie
	// are two versions), in the server's order.
	Media []MediaVersion
}

// MediaVersion is one version of an item: the media of its source files.
type MediaVersion struct {
	// ID is Media@id; a session playing this version carries the same id
	// in SessionMedia.ID, transcoded or not.
	ID string
	// Resolution is the video resolution as the server names it: "4k",
	// "1080", "720", "480", "sd"… (empty for music).
	Resolution string
	// Width and Height are in pixels.
	Width  int
	Height int
	// Bitrate is in kbit/s.
	Bitrate int
	// Container, VideoCodec and AudioCodec name the formats.
	Container  string
	VideoCodec string
	AudioCodec string
	// Duration is the version's length.
	Duration time.Duration
}

// Version returns the version whose ID is mediaID (a session's
// SessionMedia.ID). When no version has that id, the only version of an
// item that has just one is returned; an item with several versions then
// reports false rather than guess which file is being played.
func (m Metadata) Version(mediaID string) (MediaVersion, bool) {
	if mediaID != "" {
		for _, v := range m.Media {
			if v.ID == mediaID {
				return v, true
			}
		}
	}
	if len(m.Media) == 1 {
		return m.Media[0], true
	}
	return MediaVersion{}, false
}

// metadataContainer holds the item as JSON Metadata[] or as an XML Video,
// Track, Photo or Directory child.
type metadataContainer struct {
	XMLName  xml.Name                `json:"-"`
	Metadata oneOrMany[metadataItem] `json:"Metadata" xml:"-"`
	Items    []metadataItem          `json:"-" xml:",any"`
}

type metadataItem struct {
	XMLName          xml.Name             `json:"-"`
	RatingKey        flexString           `json:"ratingKey" xml:"ratingKey,attr"`
	Key              string               `json:"key" xml:"key,attr"`
	GUID             string               `json:"guid" xml:"guid,attr"`
	Type             string               `json:"type" xml:"type,attr"`
	Title            string               `json:"title" xml:"title,attr"`
	GrandparentTitle string               `json:"grandparentTitle" xml:"grandparentTitle,attr"`
	ParentTitle      string               `json:"parentTitle" xml:"parentTitle,attr"`
	Index            flexInt              `json:"index" xml:"index,attr"`
	ParentIndex      flexInt              `json:"parentIndex" xml:"parentIndex,attr"`
	Year             flexInt              `json:"year" xml:"year,attr"`
	LibrarySectionID flexString           `json:"librarySectionID" xml:"librarySectionID,attr"`
	Thumb            string               `json:"thumb" xml:"thumb,attr"`
	Duration         flexInt              `json:"duration" xml:"duration,attr"`
	Media            oneOrMany[mediaItem] `json:"Media" xml:"Media"`
}

// errNoItem is returned by parseMetadata for a container without an item.
var errNoItem = errors.New("the answer holds no item")

// parseMetadata decodes GET /library/metadata/{ratingKey}: the first item of
// the container. An item must have a rating key.
func parseMetadata(body []byte) (Metadata, error) {
	var c metadataContainer
	if err := decodeContainer(body, &c); err != nil {
		return Metadata{}, err
	}
	if c.XMLName.Local != "" && c.XMLName.Local != "MediaContainer" {
		return Metadata{}, fmt.Errorf("the answer is a <%s> document, not a MediaContainer", truncate(c.XMLName.Local, 20))
	}
	items := append([]metadataItem(c.Metadata), c.Items...)
	if len(items) == 0 {
		return Metadata{}, errNoItem
	}
	it := items[0]
	if strings.TrimSpace(string(it.RatingKey)) == "" {
		return Metadata{}, errors.New("item without ratingKey")
	}
	m := Metadata{
		RatingKey: string(it.RatingKey), Key: it.Key, GUID: it.GUID, Type: it.Type, Title: it.Title,
		GrandparentTitle: it.GrandparentTitle, ParentTitle: it.ParentTitle, Index: int(it.Index),
		ParentIndex: int(it.ParentIndex), Year: int(it.Year), LibraryKey: string(it.LibrarySectionID),
		Thumb: it.Thumb, Duration: time.Duration(it.Duration) * time.Millisecond,
	}
	if m.Type == "" && it.XMLName.Local != "" {
		m.Type = strings.ToLower(it.XMLName.Local)
	}
	for _, v := range it.Media {
		m.Media = append(m.Media, MediaVersion{
			ID: string(v.ID), Resolution: string(v.VideoResolution), Width: int(v.Width), Height: int(v.Height),
			Bitrate: int(v.Bitrate), Container: v.Container, VideoCodec: v.VideoCodec, AudioCodec: v.AudioCodec,
			Duration: time.Duration(v.Duration) * time.Millisecond,
		})
	}
	return m, nil
}

// validRatingKey refuses what cannot be one path segment of
// /library/metadata/{ratingKey}.
func validRatingKey(k string) bool {
	if k == "" || k == "." || k == ".." || strings.TrimSpace(k) != k {
		return false
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == '?' || r == '#' {
			return false
		}
	}
	return true
}

// Metadata reads one library item with its versions' media
// (GET {pms}/library/metadata/{ratingKey}; JSON when the server honours
// Accept, XML otherwise). ratingKey is Session.RatingKey or
// HistoryItem.RatingKey. An unknown item is ErrNotFound. The route is not in
// docs/plex-api.md; its shape follows Tautulli (pmsconnect
// get_metadata_details: Media id, videoResolution, width, height, bitrate,
// container, videoCodec) and python-plexapi.
func (s *Server) Metadata(ctx context.Context, ratingKey string) (Metadata, error) {
	const route = "/library/metadata/{ratingKey}"
	r, err := s.call(http.MethodGet, route, "/library/metadata/"+pathEscape(ratingKey), true)
	if err != nil {
		return Metadata{}, err
	}
	if !validRatingKey(ratingKey) {
		return Metadata{}, invalidArg(r.endpoint(), "not a rating key: %q", truncate(ratingKey, 40))
	}
	resp, err := s.get(ctx, r)
	if e, ok := asError(err); ok && e.Status == http.StatusNotFound {
		return Metadata{}, e.withKind(ErrNotFound, "no such item on the server (it may have been deleted)")
	}
	if err != nil {
		return Metadata{}, err
	}
	m, perr := parseMetadata(resp.body)
	if errors.Is(perr, errNoItem) {
		return Metadata{}, &Error{Kind: ErrNotFound, Status: resp.status, Endpoint: r.endpoint(),
			Message: "the server listed no item with that rating key"}
	}
	if perr != nil {
		return Metadata{}, badBody(r, resp, perr)
	}
	return m, nil
}
