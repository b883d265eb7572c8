package streams

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/streams"
)

// StreamsResponse is the JSON of GET /streams.
type StreamsResponse struct {
	// Streams are every server's streams, newest first.
	Streams []streams.Stream `json:"streams"`
	// Servers are the servers with their poll state and totals.
	Servers []ServerState `json:"servers"`
	// PolledAt is when the last poll started.
	PolledAt *time.Time `json:"polled_at,omitempty"`
}

// ServerState is one server in StreamsResponse.
type ServerState struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Online    bool           `json:"online"`
	Error     string         `json:"error,omitempty"`
	FetchedAt time.Time      `json:"fetched_at"`
	Totals    streams.Totals `json:"totals"`
}

// TerminateRequest is the body of DELETE /streams/{server}/{session}.
type TerminateRequest struct {
	// Reason is shown on the player (default: "The server owner has ended the stream.").
	Reason string `json:"reason,omitempty"`
}

// HistoryResponse is the JSON of GET /streams/history.
type HistoryResponse struct {
	History []streams.HistoryEntry `json:"history"`
	// Next is the cursor of the next page ("" at the end).
	Next string `json:"next,omitempty"`
}

// PollResponse is the JSON of POST /streams/poll.
type PollResponse struct {
	Servers int `json:"servers"`
	Failed  int `json:"failed"`
	Streams int `json:"streams"`
	Ended   int `json:"ended"`
	Killed  int `json:"killed"`
}

// streamView is one row of the streams page, with the texts the template shows.
type streamView struct {
	streams.Stream
	ThumbURL   string
	Who        string
	Device     string
	Where      string
	Quality    string
	Transcode  string
	Bandwidth  string
	Position   string
	Flagged    string
	ProgressPc int
}

// serverView is one server section of the streams page.
type serverView struct {
	streams.Snapshot
	Rows []streamView
	// Summary is the totals line ("1 stream · 1 transcoding · …").
	Summary string
}

// totalsSummary is a server's totals line, each count with its noun in the right number.
func totalsSummary(t streams.Totals) string {
	count := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	return strings.Join([]string{
		count(t.Streams, "stream", "streams"),
		strconv.Itoa(t.Transcodes) + " transcoding",
		count(t.DirectPlays, "direct play", "direct plays"),
		count(t.DirectStreams, "direct stream", "direct streams"),
		kbps(t.Bandwidth),
	}, " · ")
}

// livePage is the data of the streams page and its live fragment.
type livePage struct {
	Servers  []serverView
	Total    int
	PolledAt time.Time
	Refresh  string
	Rules    streams.Rules
	Default  map[string]string
	Errors   map[string]string
}

// kbps formats a bandwidth.
func kbps(v int) string {
	if v >= 1000 {
		return strconv.FormatFloat(float64(v)/1000, 'f', 1, 64) + " Mbit/s"
	}
	return strconv.Itoa(v) + " kbit/s"
}

// clock formats seconds as h:mm:ss or m:ss.
func clock(s int64) string {
	if s < 0 {
		s = 0
	}
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// resolutionLabel names a resolution for people.
func resolutionLabel(r string) string {
	switch r {
	case "":
		return ""
	case "4k", "sd":
		return strings.ToUpper(r)
	}
	return r + "p"
}

// rowOf builds the row of a stream; thumb builds the proxy URL of an artwork path.
func rowOf(s streams.Stream, flagged string, thumb func(server, path string) string) streamView {
	v := streamView{Stream: s, Flagged: flagged, ProgressPc: int(s.Progress + 0.5)}
	if s.Media.Thumb != "" {
		v.ThumbURL = thumb(s.Server, s.Media.Thumb)
	}
	v.Who = cmp.Or(s.Username, "unknown user")
	if s.Owner {
		v.Who += " (owner)"
	}
	v.Device = strings.Join(nonEmpty(s.Player.Title, s.Player.Product, s.Player.Platform), " · ")
	where := "remote"
	if !s.Remote() {
		where = "local"
	}
	if s.Player.Relayed {
		where += ", relayed"
	}
	v.Where = strings.Join(nonEmpty(s.Player.Address, where), " · ")
	q := resolutionLabel(s.Quality.Resolution)
	if src := resolutionLabel(s.Quality.SourceResolution); src != "" && src != q {
		q = src + " → " + q
	}
	if s.Quality.Bitrate > 0 {
		q = strings.Join(nonEmpty(q, kbps(s.Quality.Bitrate)), " · ")
	}
	v.Quality = q
	if t := s.Transcode; t != nil {
		parts := []string{"video " + cmp.Or(t.VideoDecision, "—"), "audio " + cmp.Or(t.AudioDecision, "—")}
		if t.Speed > 0 {
			parts = append(parts, strconv.FormatFloat(t.Speed, 'f', 1, 64)+"×")
		}
		if t.Throttled {
			parts = append(parts, "throttled")
		}
		if t.Hardware {
			parts = append(parts, "hardware")
		}
		v.Transcode = strings.Join(parts, ", ")
	}
	v.Bandwidth = kbps(s.Bandwidth)
	v.Position = clock(s.Position) + " / " + clock(s.Duration)
	return v
}

// nonEmpty keeps the non-empty strings.
func nonEmpty(list ...string) []string {
	out := list[:0:0]
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
