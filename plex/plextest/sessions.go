package plextest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
)

// uuidFrom makes a stable UUID-shaped string.
func uuidFrom(s string) string {
	sum := sha1.Sum([]byte(s))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// resolutionSize maps a videoResolution to width and height.
func resolutionSize(res string) (int, int) {
	switch res {
	case "4k":
		return 3840, 2160
	case "1080":
		return 1920, 1080
	case "720":
		return 1280, 720
	default:
		return 720, 480
	}
}

func itemElement(itemType string) string {
	switch itemType {
	case "track":
		return "Track"
	case "photo":
		return "Photo"
	}
	return "Video"
}

// sessionNodeLocked renders one playing item. Media, Part and Stream carry
// the ids of the source version being played (as in
// /library/metadata/{ratingKey}); during a transcode their other attributes
// describe the transcoder's output, and TranscodeSession names the source
// codecs. Only Media@id leads back to the source file.
func (f *Fake) sessionNodeLocked(s *serverState, x Session, n int) *node {
	libTitle := ""
	for _, l := range s.Libraries {
		if l.Key == x.LibraryKey {
			libTitle = l.Title
		}
	}
	item := el(itemElement(x.Type), a("sessionKey", x.Key), a("ratingKey", x.RatingKey),
		a("key", "/library/metadata/"+x.RatingKey), a("type", x.Type), a("title", x.Title))
	if x.GrandparentTitle != "" {
		item.attrs = append(item.attrs, a("grandparentTitle", x.GrandparentTitle), a("parentIndex", 1), a("index", n%10+1))
	}
	item.attrs = append(item.attrs, a("librarySectionID", x.LibraryKey), a("librarySectionTitle", libTitle),
		a("duration", x.Duration), a("viewOffset", x.ViewOffset),
		a("thumb", fmt.Sprintf("/library/metadata/%s/thumb/1700000000", x.RatingKey)), a("year", 2016))
	item.jsonKey = "Metadata"

	var v itemVersion
	if it := s.itemLocked(x.RatingKey); it != nil {
		v = it.version(x.VideoResolution)
	}
	id := v.id
	var transcode *node
	if x.Type == "track" {
		decision := "directplay"
		if x.Transcode {
			decision = "transcode"
		}
		media := el("Media", a("id", id), a("bitrate", 320), a("container", "mp3"), a("duration", x.Duration),
			a("audioCodec", "mp3"), a("audioChannels", 2), a("selected", true))
		part := el("Part", a("id", id+1), a("container", "mp3"), a("duration", x.Duration), a("decision", decision), a("selected", true))
		part.add(el("Stream", a("id", id+2), a("streamType", 2), a("codec", "mp3"), a("bitrate", 320), a("decision", map[bool]string{true: "transcode", false: "copy"}[x.Transcode]), a("selected", true)))
		item.add(media.add(part))
	} else if x.Type != "photo" {
		src := videoSource(x.VideoResolution)
		outRes, out := x.VideoResolution, src
		partDecision, videoDecision, audioDecision, streamDecision := "directplay", "directplay", "directplay", "copy"
		if x.Transcode {
			partDecision, videoDecision, audioDecision, streamDecision = "transcode", "transcode", "copy", "transcode"
			outRes = x.OutputResolution
			out = videoSource(outRes)
			out.codec, out.container = "h264", "mp4"
			out.bitrate = map[string]int64{"4k": 20000, "1080": 10000, "720": 3000}[outRes]
			if out.bitrate == 0 {
				out.bitrate = 1500
			}
		}
		media := el("Media", a("id", id), a("bitrate", out.bitrate), a("container", out.container), a("duration", x.Duration),
			a("height", out.height), a("width", out.width), a("videoCodec", out.codec), a("videoResolution", outRes),
			a("videoFrameRate", "24p"), a("audioCodec", "aac"), a("audioChannels", 2), a("selected", true))
		part := el("Part", a("id", id+1), a("container", out.container), a("duration", x.Duration), a("decision", partDecision), a("selected", true))
		part.add(
			el("Stream", a("id", id+2), a("streamType", 1), a("codec", out.codec), a("bitrate", out.bitrate-192),
				a("width", out.width), a("height", out.height), a("decision", streamDecision), a("selected", true)),
			el("Stream", a("id", id+3), a("streamType", 2), a("codec", "aac"), a("bitrate", 192), a("decision", "copy"), a("selected", true)),
		)
		item.add(media.add(part))
		if x.Transcode {
			transcode = el("TranscodeSession", a("key", "/transcode/sessions/"+x.ID), a("throttled", false),
				a("complete", false), a("progress", 12.5), a("speed", 1.8), a("size", -22), a("duration", x.Duration),
				a("remaining", 120), a("context", "streaming"), a("protocol", "dash"), a("container", out.container),
				a("videoDecision", videoDecision), a("audioDecision", audioDecision), a("subtitleDecision", ""),
				a("sourceVideoCodec", src.codec), a("sourceAudioCodec", "aac"), a("videoCodec", out.codec),
				a("audioCodec", "aac"), a("audioChannels", 2), a("width", out.width), a("height", out.height),
				a("transcodeHwRequested", false), a("transcodeHwDecoding", ""), a("transcodeHwEncoding", ""),
				a("transcodeHwFullPipeline", false), a("timeStamp", float64(f.now().Unix())),
				a("minOffsetAvailable", 0.0), a("maxOffsetAvailable", 30.0))
			transcode.jsonOne = true
		}
	}

	acc := f.accountForServerIDLocked(x.AccountID)
	title, thumb := "", ""
	if acc != nil {
		title, thumb = acc.Title, acc.Thumb
		if x.AccountID == 1 {
			title = acc.Username
		}
	}
	user := el("User", a("id", x.AccountID), a("title", title), a("thumb", thumb))
	user.jsonOne = true
	location := "wan"
	if x.Local {
		location = "lan"
	}
	player := el("Player", a("address", x.Address), a("remotePublicAddress", x.Address), a("device", x.Platform),
		a("machineIdentifier", uuidFrom("player-"+x.ID)), a("model", "hosted"), a("platform", x.Platform),
		a("platformVersion", "1.0"), a("product", "Plex for "+x.Platform), a("profile", "Web"), a("state", x.State),
		a("title", x.Player), a("vendor", ""), a("version", "4.133.0"), a("local", x.Local), a("relayed", false),
		a("secure", true), a("userID", x.AccountID))
	player.jsonOne = true
	sess := el("Session", a("id", x.ID), a("bandwidth", x.Bandwidth), a("location", location))
	sess.jsonOne = true
	item.add(user, player, sess)
	if transcode != nil {
		item.add(transcode)
	}
	return item
}

func (f *Fake) handleSessions(w http.ResponseWriter, r *http.Request) {
	s, _, ok := f.pmsBegin(w, r, true)
	if !ok {
		return
	}
	root := el("MediaContainer", a("size", len(s.sessions)))
	for i, x := range s.sessions {
		root.add(f.sessionNodeLocked(s, x, i))
	}
	f.mu.Unlock()
	writePMS(w, r, http.StatusOK, root)
}
