package streams

import (
	"fmt"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
)

// Stream is one live stream as the UI and the REST API show it. The JSON names server, session,
// user_id, title, player, state, progress and transcode are part of the REST contract.
type Stream struct {
	// Server is the server's machineIdentifier; ServerName its friendly name.
	Server     string `json:"server"`
	ServerName string `json:"server_name,omitempty"`
	// Session is Session@id, the id to terminate with; empty when the server did not send one
	// (then the stream cannot be terminated). SessionKey is the server's sessionKey.
	Session    string `json:"session"`
	SessionKey string `json:"session_key,omitempty"`
	// UserID is the plex.tv account id (the owner's for the server's account 1; 0 when the owner's
	// id is not known yet). Owner marks the server owner; Known marks a user in the store.
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Owner    bool   `json:"owner,omitempty"`
	Known    bool   `json:"known"`
	// Title is the display title ("Show — S01E02 — Episode", "Movie (2016)", "Artist — Track").
	Title string `json:"title"`
	// Media describes the item.
	Media Media `json:"media"`
	// Player is the device.
	Player Player `json:"player"`
	// State is playing, paused or buffering.
	State string `json:"state"`
	// Progress is the position in percent (0–100); Position and Duration are in seconds.
	Progress float64 `json:"progress"`
	Position int64   `json:"position_s"`
	Duration int64   `json:"duration_s"`
	// Quality is what is delivered.
	Quality Quality `json:"quality"`
	// Decision is "direct play", "direct stream" or "transcode".
	Decision string `json:"decision"`
	// Transcode is nil unless the server runs a transcode session for the stream.
	Transcode *Transcode `json:"transcode"`
	// Bandwidth is the stream's bandwidth in kbit/s; Location is lan or wan.
	Bandwidth int    `json:"bandwidth_kbps"`
	Location  string `json:"location,omitempty"`
	// StartedAt is when the poller first saw the stream (streams already playing when the poller
	// starts get the time of its first poll).
	StartedAt time.Time `json:"started_at"`
}

// Media describes the item being played.
type Media struct {
	// Type is movie, episode, track, photo or clip.
	Type string `json:"type"`
	// ItemTitle, GrandparentTitle (show or artist) and ParentTitle (season or album) name it.
	ItemTitle        string `json:"item_title"`
	GrandparentTitle string `json:"grandparent_title,omitempty"`
	ParentTitle      string `json:"parent_title,omitempty"`
	// Season and Episode number an episode.
	Season  int `json:"season,omitempty"`
	Episode int `json:"episode,omitempty"`
	// Year is the release year.
	Year int `json:"year,omitempty"`
	// RatingKey identifies the item on the server.
	RatingKey string `json:"rating_key,omitempty"`
	// Thumb is the artwork path on the server (serve it through the thumbnail proxy; it never
	// carries a token).
	Thumb string `json:"thumb,omitempty"`
	// Library is the server's library key.
	Library string `json:"library,omitempty"`
	// Live is true for Live TV.
	Live bool `json:"live,omitempty"`
}

// Player is the device playing a stream.
type Player struct {
	// Title is the device's name; Product the app; Platform its system.
	Title    string `json:"title"`
	Product  string `json:"product"`
	Platform string `json:"platform"`
	// Address is the device's address as the server sees it.
	Address string `json:"address"`
	// Local is true on the server's network.
	Local bool `json:"local"`
	// Relayed is true through plex.tv's relay; Secure over TLS.
	Relayed bool `json:"relayed,omitempty"`
	Secure  bool `json:"secure,omitempty"`
}

// Quality is what a stream delivers.
type Quality struct {
	// Resolution is the delivered video resolution ("4k", "1080", "720", "sd"; empty for music).
	Resolution string `json:"resolution,omitempty"`
	// SourceResolution is the resolution of the file on the server, when known: the delivered
	// resolution when the video is not transcoded, else what the Options.SourceResolution hook
	// reported ("" = unknown).
	SourceResolution string `json:"source_resolution,omitempty"`
	// Bitrate is in kbit/s.
	Bitrate int `json:"bitrate_kbps,omitempty"`
	// VideoCodec and AudioCodec are the delivered codecs; Container the delivered container.
	VideoCodec string `json:"video_codec,omitempty"`
	AudioCodec string `json:"audio_codec,omitempty"`
	Container  string `json:"container,omitempty"`
}

// Transcode describes a transcode session.
type Transcode struct {
	// VideoDecision and AudioDecision are transcode, copy or direct play.
	VideoDecision string `json:"video_decision"`
	AudioDecision string `json:"audio_decision"`
	// Speed is relative to playback (1.0 = real time); Throttled means the transcoder is ahead
	// and waits.
	Speed     float64 `json:"speed"`
	Throttled bool    `json:"throttled"`
	// Hardware is true when decoding or encoding runs on hardware.
	Hardware bool `json:"hardware"`
	// SourceVideoCodec and SourceAudioCodec are the input codecs.
	SourceVideoCodec string `json:"source_video_codec,omitempty"`
	SourceAudioCodec string `json:"source_audio_codec,omitempty"`
	// Progress is the share transcoded so far, in percent.
	Progress float64 `json:"progress"`
}

// Key identifies a stream within a server: its Session@id, else its sessionKey.
func (s Stream) Key() string {
	if s.Session != "" {
		return s.Session
	}
	return "key:" + s.SessionKey
}

// CanTerminate reports whether the stream has the id Plex needs to terminate it.
func (s Stream) CanTerminate() bool { return s.Session != "" }

// Remote reports whether the player is outside the server's network.
func (s Stream) Remote() bool { return !s.Player.Local && s.Location != "lan" }

// VideoTranscoding reports whether the video itself is transcoded (not merely copied).
func (s Stream) VideoTranscoding() bool {
	return s.Transcode != nil && s.Transcode.VideoDecision == "transcode"
}

// Transcoding reports whether the video or the audio is transcoded.
func (s Stream) Transcoding() bool {
	return s.Transcode != nil && (s.Transcode.VideoDecision == "transcode" || s.Transcode.AudioDecision == "transcode")
}

// NormalizeResolution maps Plex's resolution names onto "4k", "1080", "720", "480", "sd" or the
// lower-cased input: "2160", "2160p", "uhd" and "4K" are all "4k"; "1080p" is "1080".
func NormalizeResolution(r string) string {
	r = strings.ToLower(strings.TrimSpace(r))
	switch r {
	case "4k", "2160", "2160p", "uhd":
		return "4k"
	}
	return strings.TrimSuffix(r, "p")
}

// displayTitle builds the one-line title of a session.
func displayTitle(s plex.Session) string {
	switch s.Type {
	case "episode":
		parts := []string{}
		if s.GrandparentTitle != "" {
			parts = append(parts, s.GrandparentTitle)
		}
		if s.ParentIndex > 0 || s.Index > 0 {
			parts = append(parts, fmt.Sprintf("S%02dE%02d", s.ParentIndex, s.Index))
		}
		parts = append(parts, s.Title)
		return strings.Join(parts, " — ")
	case "track":
		if s.GrandparentTitle != "" {
			return s.GrandparentTitle + " — " + s.Title
		}
	case "movie":
		if s.Year > 0 {
			return fmt.Sprintf("%s (%d)", s.Title, s.Year)
		}
	}
	return s.Title
}

// decisionOf names the stream's overall decision.
func decisionOf(s plex.Session) string {
	switch {
	case s.Transcoding():
		return "transcode"
	case s.Transcode != nil || s.Media.Decision == "copy":
		return "direct stream"
	}
	return "direct play"
}

// fromSession converts a plex session of server (id, name) into a Stream. ownerID is the owner's
// plex.tv id (0 when unknown).
func fromSession(serverID, serverName string, s plex.Session, ownerID int64) Stream {
	st := Stream{
		Server: serverID, ServerName: serverName, Session: s.ID, SessionKey: s.Key,
		Title: displayTitle(s),
		Media: Media{
			Type: s.Type, ItemTitle: s.Title, GrandparentTitle: s.GrandparentTitle, ParentTitle: s.ParentTitle,
			Year: s.Year, RatingKey: s.RatingKey, Thumb: s.Thumb, Library: s.LibraryKey, Live: s.Live,
		},
		Player: Player{
			Title: s.Player.Title, Product: s.Player.Product, Platform: s.Player.Platform,
			Address: s.Player.Address, Local: s.Player.Local, Relayed: s.Player.Relayed, Secure: s.Player.Secure,
		},
		State:    s.Player.State,
		Position: int64(s.ViewOffset / time.Second),
		Duration: int64(s.Duration / time.Second),
		Quality: Quality{
			Resolution: NormalizeResolution(s.Media.Resolution), Bitrate: s.Media.Bitrate,
			VideoCodec: s.Media.VideoCodec, AudioCodec: s.Media.AudioCodec, Container: s.Media.Container,
		},
		Decision:  decisionOf(s),
		Bandwidth: s.Bandwidth,
		Location:  s.Location,
	}
	if s.Type == "episode" {
		st.Media.Season, st.Media.Episode = s.ParentIndex, s.Index
	}
	if s.Duration > 0 {
		st.Progress = min(100, float64(s.ViewOffset)*100/float64(s.Duration))
	}
	if s.Transcode != nil {
		t := s.Transcode
		st.Transcode = &Transcode{
			VideoDecision: t.VideoDecision, AudioDecision: t.AudioDecision, Speed: t.Speed, Throttled: t.Throttled,
			Hardware: t.Hardware(), SourceVideoCodec: t.SourceVideoCodec, SourceAudioCodec: t.SourceAudioCodec,
			Progress: t.Progress,
		}
	}
	if !st.VideoTranscoding() {
		st.Quality.SourceResolution = st.Quality.Resolution
	}
	// Quirk 2: the server's account 1 is the owner; everyone else uses the plex.tv id.
	if s.User.ID == 1 {
		st.Owner, st.UserID = true, ownerID
	} else {
		st.UserID = s.User.ID
	}
	st.Username = s.User.Title
	return st
}

// Totals sums the streams of one server.
type Totals struct {
	// Streams counts all streams; Transcodes those with video or audio transcoded; DirectPlays
	// and DirectStreams the others.
	Streams       int `json:"streams"`
	Transcodes    int `json:"transcodes"`
	DirectPlays   int `json:"direct_plays"`
	DirectStreams int `json:"direct_streams"`
	// Bandwidth sums the streams' bandwidth in kbit/s; LANBandwidth and WANBandwidth split it.
	Bandwidth    int `json:"bandwidth_kbps"`
	LANBandwidth int `json:"lan_bandwidth_kbps"`
	WANBandwidth int `json:"wan_bandwidth_kbps"`
}

// TotalsOf sums streams.
func TotalsOf(streams []Stream) Totals {
	var t Totals
	for _, s := range streams {
		t.Streams++
		switch s.Decision {
		case "transcode":
			t.Transcodes++
		case "direct stream":
			t.DirectStreams++
		default:
			t.DirectPlays++
		}
		t.Bandwidth += s.Bandwidth
		if s.Remote() {
			t.WANBandwidth += s.Bandwidth
		} else {
			t.LANBandwidth += s.Bandwidth
		}
	}
	return t
}
