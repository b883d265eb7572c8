package plex

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Session is one stream playing on a server (GET {pms}/status/sessions).
type Session struct {
	// ID is Session@id, the id to terminate with; empty when the server
	// did not send it (then the stream cannot be terminated).
	ID string
	// Key is the sessionKey (not usable to terminate).
	Key string
	// Type is movie, episode, track, photo or clip.
	Type string
	// RatingKey identifies the item on the server.
	RatingKey string
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
	// Thumb is the artwork path (see Server.Thumb).
	Thumb string
	// LibraryKey is the server's library key of the item.
	LibraryKey string
	// Duration is the item's length and ViewOffset the position.
	Duration   time.Duration
	ViewOffset time.Duration
	// Live is true for Live TV.
	Live bool
	// User is who watches.
	User SessionUser
	// Player is the device.
	Player Player
	// Bandwidth is in kbit/s; Location is "lan" or "wan".
	Bandwidth int
	Location  string
	// Media describes the stream's media.
	Media SessionMedia
	// Transcode is nil when the stream is not transcoded.
	Transcode *Transcode
}

// Transcoding reports whether the video or the audio is really transcoded
// (not merely copied into another container).
func (s Session) Transcoding() bool {
	return s.Transcode != nil && (s.Transcode.VideoDecision == "transcode" || s.Transcode.AudioDecision == "transcode")
}

// SessionUser is who is watching. ID is the server account id: 1 for the
// owner, the plex.tv user id for everyone else (quirk 2).
type SessionUser struct {
	// ID is the server account id.
	ID int64
	// Title is the user's name.
	Title string
	// Thumb is the avatar URL.
	Thumb string
}

// Player is the device playing the stream.
type Player struct {
	// Title is the player's name ("Living Room TV").
	Title string
	// Product is the app ("Plex Web", "Plex for Roku").
	Product string
	// Platform and PlatformVersion describe the device's system.
	Platform        string
	PlatformVersion string
	// Device is the device kind.
	Device string
	// Version is the app version.
	Version string
	// MachineID is the player's client identifier.
	MachineID string
	// Address is the player's address with any "::ffff:" prefix removed.
	Address string
	// PublicAddress is the player's public address, prefix removed too.
	PublicAddress string
	// State is playing, paused or buffering.
	State string
	// Local is true on the server's LAN.
	Local bool
	// Relayed is true through plex.tv's relay.
	Relayed bool
	// Secure is true over TLS.
	Secure bool
}

// SessionMedia describes the media being played (the selected Media
// element; during a transcode it describes the output).
type SessionMedia struct {
	// ID is Media@id: the id of the item's version being played. During a
	// transcode it is still the id of the source version, so it picks the
	// source out of Metadata.Media (Metadata.Version).
	ID string
	// Resolution is the video resolution: "4k", "1080", "720", "sd"…
	Resolution string
	// Bitrate is in kbit/s.
	Bitrate int
	// Width and Height are in pixels.
	Width  int
	Height int
	// Container, VideoCodec and AudioCodec name the formats.
	Container  string
	VideoCodec string
	AudioCodec string
	// Decision is the part's decision: directplay, copy or transcode.
	Decision string
}

// Transcode describes a transcode session.
type Transcode struct {
	// VideoDecision, AudioDecision and SubtitleDecision are transcode,
	// copy or direct play.
	VideoDecision    string
	AudioDecision    string
	SubtitleDecision string
	// Speed is the transcode speed relative to playback.
	Speed float64
	// Progress is the share transcoded so far, in percent.
	Progress float64
	// Throttled is true when the transcoder is ahead and waits.
	Throttled bool
	// Complete is true when the transcode is finished.
	Complete bool
	// SourceVideoCodec and SourceAudioCodec are the input codecs.
	SourceVideoCodec string
	SourceAudioCodec string
	// VideoCodec, AudioCodec and Container are the output formats.
	VideoCodec string
	AudioCodec string
	Container  string
	// Protocol is the streaming protocol (dash, hls, http).
	Protocol string
	// HWRequested is true when hardware transcoding was asked for;
	// HWDecoding and HWEncoding name the hardware used (empty when none).
	HWRequested bool
	HWDecoding  string
	HWEncoding  string
	// HWFullPipeline is true when decoding and encoding both run on
	// hardware.
	HWFullPipeline bool
}

// Hardware reports whether the transcode uses hardware.
func (t Transcode) Hardware() bool {
	used := func(s string) bool {
		s = strings.ToLower(strings.TrimSpace(s))
		return s != "" && s != "0" && s != "false"
	}
	return t.HWFullPipeline || used(t.HWDecoding) || used(t.HWEncoding)
}

// sessionsContainer holds items as JSON Metadata[] or as XML Video, Track
// and Photo children.
type sessionsContainer struct {
	Metadata oneOrMany[sessionItem] `json:"Metadata" xml:"-"`
	Items    []sessionItem          `json:"-" xml:",any"`
}

type sessionItem struct {
	XMLName          xml.Name                 `json:"-"`
	SessionKey       flexString               `json:"sessionKey" xml:"sessionKey,attr"`
	RatingKey        flexString               `json:"ratingKey" xml:"ratingKey,attr"`
	GUID             string                   `json:"guid" xml:"guid,attr"`
	Type             string                   `json:"type" xml:"type,attr"`
	Title            string                   `json:"title" xml:"title,attr"`
	GrandparentTitle string                   `json:"grandparentTitle" xml:"grandparentTitle,attr"`
	ParentTitle      string                   `json:"parentTitle" xml:"parentTitle,attr"`
	Index            flexInt                  `json:"index" xml:"index,attr"`
	ParentIndex      flexInt                  `json:"parentIndex" xml:"parentIndex,attr"`
	Year             flexInt                  `json:"year" xml:"year,attr"`
	Thumb            string                   `json:"thumb" xml:"thumb,attr"`
	LibrarySectionID flexString               `json:"librarySectionID" xml:"librarySectionID,attr"`
	Duration         flexInt                  `json:"duration" xml:"duration,attr"`
	ViewOffset       flexInt                  `json:"viewOffset" xml:"viewOffset,attr"`
	Live             flexBool                 `json:"live" xml:"live,attr"`
	Media            oneOrMany[mediaItem]     `json:"Media" xml:"Media"`
	User             oneOrMany[userItem]      `json:"User" xml:"User"`
	Player           oneOrMany[playerItem]    `json:"Player" xml:"Player"`
	Session          oneOrMany[sessionElem]   `json:"Session" xml:"Session"`
	TranscodeSession oneOrMany[transcodeItem] `json:"TranscodeSession" xml:"TranscodeSession"`
}

// mediaItem is a Media element, in a session (the stream) or in an item's
// metadata (a version of the item: the source file's media).
type mediaItem struct {
	ID              flexString          `json:"id" xml:"id,attr"`
	Duration        flexInt             `json:"duration" xml:"duration,attr"`
	Bitrate         flexInt             `json:"bitrate" xml:"bitrate,attr"`
	Width           flexInt             `json:"width" xml:"width,attr"`
	Height          flexInt             `json:"height" xml:"height,attr"`
	Container       string              `json:"container" xml:"container,attr"`
	VideoCodec      string              `json:"videoCodec" xml:"videoCodec,attr"`
	AudioCodec      string              `json:"audioCodec" xml:"audioCodec,attr"`
	VideoResolution flexString          `json:"videoResolution" xml:"videoResolution,attr"`
	Selected        flexBool            `json:"selected" xml:"selected,attr"`
	Parts           oneOrMany[partItem] `json:"Part" xml:"Part"`
}

type partItem struct {
	Decision string   `json:"decision" xml:"decision,attr"`
	Selected flexBool `json:"selected" xml:"selected,attr"`
}

type userItem struct {
	ID    flexInt `json:"id" xml:"id,attr"`
	Title string  `json:"title" xml:"title,attr"`
	Thumb string  `json:"thumb" xml:"thumb,attr"`
}

type playerItem struct {
	Title               string   `json:"title" xml:"title,attr"`
	Product             string   `json:"product" xml:"product,attr"`
	Platform            string   `json:"platform" xml:"platform,attr"`
	PlatformVersion     string   `json:"platformVersion" xml:"platformVersion,attr"`
	Device              string   `json:"device" xml:"device,attr"`
	Version             string   `json:"version" xml:"version,attr"`
	MachineIdentifier   string   `json:"machineIdentifier" xml:"machineIdentifier,attr"`
	Address             string   `json:"address" xml:"address,attr"`
	RemotePublicAddress string   `json:"remotePublicAddress" xml:"remotePublicAddress,attr"`
	State               string   `json:"state" xml:"state,attr"`
	Local               flexBool `json:"local" xml:"local,attr"`
	Relayed             flexBool `json:"relayed" xml:"relayed,attr"`
	Secure              flexBool `json:"secure" xml:"secure,attr"`
}

type sessionElem struct {
	ID        string  `json:"id" xml:"id,attr"`
	Bandwidth flexInt `json:"bandwidth" xml:"bandwidth,attr"`
	Location  string  `json:"location" xml:"location,attr"`
}

type transcodeItem struct {
	VideoDecision           string     `json:"videoDecision" xml:"videoDecision,attr"`
	AudioDecision           string     `json:"audioDecision" xml:"audioDecision,attr"`
	SubtitleDecision        string     `json:"subtitleDecision" xml:"subtitleDecision,attr"`
	Speed                   flexFloat  `json:"speed" xml:"speed,attr"`
	Progress                flexFloat  `json:"progress" xml:"progress,attr"`
	Throttled               flexBool   `json:"throttled" xml:"throttled,attr"`
	Complete                flexBool   `json:"complete" xml:"complete,attr"`
	SourceVideoCodec        string     `json:"sourceVideoCodec" xml:"sourceVideoCodec,attr"`
	SourceAudioCodec        string     `json:"sourceAudioCodec" xml:"sourceAudioCodec,attr"`
	VideoCodec              string     `json:"videoCodec" xml:"videoCodec,attr"`
	AudioCodec              string     `json:"audioCodec" xml:"audioCodec,attr"`
	Container               string     `json:"container" xml:"container,attr"`
	Protocol                string     `json:"protocol" xml:"protocol,attr"`
	TranscodeHwRequested    flexBool   `json:"transcodeHwRequested" xml:"transcodeHwRequested,attr"`
	TranscodeHwDecoding     flexString `json:"transcodeHwDecoding" xml:"transcodeHwDecoding,attr"`
	TranscodeHwEncoding     flexString `json:"transcodeHwEncoding" xml:"transcodeHwEncoding,attr"`
	TranscodeHwFullPipeline flexBool   `json:"transcodeHwFullPipeline" xml:"transcodeHwFullPipeline,attr"`
}

// parseSessions decodes GET /status/sessions. Theme music (tracks whose
// guid starts with library://) is skipped, as Tautulli does.
func parseSessions(body []byte) ([]Session, error) {
	var c sessionsContainer
	if err := decodeContainer(body, &c); err != nil {
		return nil, err
	}
	items := append([]sessionItem(c.Metadata), c.Items...)
	out := make([]Session, 0, len(items))
	for _, it := range items {
		if it.Type == "track" && strings.HasPrefix(it.GUID, "library://") {
			continue
		}
		out = append(out, it.toSession())
	}
	return out, nil
}

func (it sessionItem) toSession() Session {
	s := Session{
		Key: string(it.SessionKey), Type: it.Type, RatingKey: string(it.RatingKey), Title: it.Title,
		GrandparentTitle: it.GrandparentTitle, ParentTitle: it.ParentTitle, Index: int(it.Index),
		ParentIndex: int(it.ParentIndex), Year: int(it.Year), Thumb: it.Thumb, LibraryKey: string(it.LibrarySectionID),
		Duration: time.Duration(it.Duration) * time.Millisecond, ViewOffset: time.Duration(it.ViewOffset) * time.Millisecond,
		Live: bool(it.Live),
	}
	if s.Type == "" {
		s.Type = strings.ToLower(it.XMLName.Local)
	}
	if len(it.User) > 0 {
		u := it.User[0]
		s.User = SessionUser{ID: int64(u.ID), Title: u.Title, Thumb: u.Thumb}
	}
	if len(it.Player) > 0 {
		p := it.Player[0]
		s.Player = Player{
			Title: p.Title, Product: p.Product, Platform: p.Platform, PlatformVersion: p.PlatformVersion,
			Device: p.Device, Version: p.Version, MachineID: p.MachineIdentifier,
			Address: stripMapped(p.Address), PublicAddress: stripMapped(p.RemotePublicAddress),
			State: p.State, Local: bool(p.Local), Relayed: bool(p.Relayed), Secure: bool(p.Secure),
		}
	}
	if len(it.Session) > 0 {
		e := it.Session[0]
		s.ID, s.Bandwidth, s.Location = e.ID, int(e.Bandwidth), e.Location
	}
	if m, ok := selectedMedia(it.Media); ok {
		s.Media = SessionMedia{
			ID: string(m.ID), Resolution: string(m.VideoResolution), Bitrate: int(m.Bitrate), Width: int(m.Width), Height: int(m.Height),
			Container: m.Container, VideoCodec: m.VideoCodec, AudioCodec: m.AudioCodec,
		}
		for _, p := range m.Parts {
			if bool(p.Selected) || s.Media.Decision == "" {
				s.Media.Decision = p.Decision
			}
		}
	}
	if len(it.TranscodeSession) > 0 {
		t := it.TranscodeSession[0]
		s.Transcode = &Transcode{
			VideoDecision: t.VideoDecision, AudioDecision: t.AudioDecision, SubtitleDecision: t.SubtitleDecision,
			Speed: float64(t.Speed), Progress: float64(t.Progress), Throttled: bool(t.Throttled), Complete: bool(t.Complete),
			SourceVideoCodec: t.SourceVideoCodec, SourceAudioCodec: t.SourceAudioCodec, VideoCodec: t.VideoCodec,
			AudioCodec: t.AudioCodec, Container: t.Container, Protocol: t.Protocol,
			HWRequested: bool(t.TranscodeHwRequested), HWDecoding: string(t.TranscodeHwDecoding),
			HWEncoding: string(t.TranscodeHwEncoding), HWFullPipeline: bool(t.TranscodeHwFullPipeline),
		}
	}
	return s
}

// selectedMedia picks the Media element marked selected, else the first.
func selectedMedia(list []mediaItem) (mediaItem, bool) {
	for _, m := range list {
		if m.Selected {
			return m, true
		}
	}
	if len(list) > 0 {
		return list[0], true
	}
	return mediaItem{}, false
}

// stripMapped removes the IPv4-mapped IPv6 prefix.
func stripMapped(addr string) string {
	if len(addr) > 7 && strings.EqualFold(addr[:7], "::ffff:") {
		return addr[7:]
	}
	return addr
}

// Sessions lists what is playing now (GET {pms}/status/sessions; needs the
// owner's token).
func (s *Server) Sessions(ctx context.Context) ([]Session, error) {
	r, err := s.call(http.MethodGet, "/status/sessions", "/status/sessions", true)
	if err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, r)
	if err != nil {
		return nil, err
	}
	out, perr := parseSessions(resp.body)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return out, nil
}

// Terminate stops a stream and shows reason to the viewer
// (GET {pms}/status/sessions/terminate?sessionId=…&reason=…). sessionID is
// Session.ID, never Session.Key. Without Plex Pass on the owner the server
// answers 401: ErrPlexPassRequired. An unknown session is ErrNotFound. It is
// not retried on server errors: a terminate that went through but answered
// 500 would then report ErrNotFound.
func (s *Server) Terminate(ctx context.Context, sessionID, reason string) error {
	const route = "/status/sessions/terminate"
	r, err := s.call(http.MethodGet, route, route, true)
	if err != nil {
		return err
	}
	if strings.TrimSpace(sessionID) == "" {
		return invalidArg(r.endpoint(), "no session id given (the stream has no Session@id)")
	}
	r.idempotent = false
	r.query = "sessionId=" + url.QueryEscape(sessionID) + "&reason=" + url.QueryEscape(reason)
	_, err = s.get(ctx, r)
	if e, ok := asError(err); ok && e.Status == http.StatusUnauthorized {
		return e.withKind(ErrPlexPassRequired, "the server refused to stop the stream: terminating streams needs Plex Pass on the owner's account")
	}
	if e, ok := asError(err); ok && e.Status == http.StatusNotFound {
		return e.withKind(ErrNotFound, "no such stream (it may have ended)")
	}
	return err
}
