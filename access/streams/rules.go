package streams

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Rule names, as recorded in stream.killed events.
const (
	// RuleMaxStreams limits a user's concurrent streams across all servers.
	RuleMaxStreams = "max_streams"
	// RuleNo4KTranscode forbids transcoding the video of a 4K source.
	RuleNo4KTranscode = "no_4k_transcode"
	// RuleRemoteDirectPlay allows remote players direct play (or direct stream) only: no
	// transcoding of video or audio outside the server's network.
	RuleRemoteDirectPlay = "remote_direct_play"
)

// RulesSetting is the name of the setting that holds the Rules.
const RulesSetting = "streams.rules"

// Default messages shown on the player when a rule stops a stream.
const (
	DefaultMaxStreamsMessage   = "You have reached your limit of {limit} simultaneous streams. Stop another stream and try again."
	DefaultNo4KMessage         = "4K cannot be transcoded on this server. Choose a lower quality or a player that plays 4K directly."
	DefaultRemoteDirectMessage = "Outside the home network only direct play is allowed. Set the quality to Original and try again."
)

// MaxStreamLimit bounds the limits an admin can set.
const MaxStreamLimit = 100

// Rules are the stream rules, stored as a setting. The zero value enforces nothing.
type Rules struct {
	// MaxStreams is the default limit of concurrent streams per user (0: unlimited). A user's own
	// StreamLimit, when set, replaces it.
	MaxStreams int `json:"max_streams"`
	// No4KTranscode forbids transcoding 4K video for everyone; a user's No4KTranscode forbids it
	// for that user only.
	No4KTranscode bool `json:"no_4k_transcode"`
	// RemoteDirectPlayOnly stops remote streams that transcode video or audio.
	RemoteDirectPlayOnly bool `json:"remote_direct_play_only"`
	// DryRun computes what the rules would stop and shows it on the streams page (Snapshot
	// Pending) without terminating anything or recording events.
	DryRun bool `json:"dry_run,omitempty"`
	// Messages override the default message of a rule; "{limit}" is replaced by the limit.
	MaxStreamsMessage   string `json:"max_streams_message,omitempty"`
	No4KMessage         string `json:"no_4k_message,omitempty"`
	RemoteDirectMessage string `json:"remote_direct_message,omitempty"`
}

// Validate checks the limits and message lengths.
func (r Rules) Validate() error {
	if r.MaxStreams < 0 || r.MaxStreams > MaxStreamLimit {
		return fmt.Errorf("max_streams must be between 0 and %d", MaxStreamLimit)
	}
	for name, m := range map[string]string{
		"max_streams_message": r.MaxStreamsMessage, "no_4k_message": r.No4KMessage,
		"remote_direct_message": r.RemoteDirectMessage,
	} {
		if len(m) > 500 {
			return fmt.Errorf("%s must be at most 500 characters", name)
		}
	}
	return nil
}

// message returns the rule's message with {limit} filled in.
func (r Rules) message(rule string, limit int) string {
	var m string
	switch rule {
	case RuleMaxStreams:
		m = cmp.Or(strings.TrimSpace(r.MaxStreamsMessage), DefaultMaxStreamsMessage)
	case RuleNo4KTranscode:
		m = cmp.Or(strings.TrimSpace(r.No4KMessage), DefaultNo4KMessage)
	case RuleRemoteDirectPlay:
		m = cmp.Or(strings.TrimSpace(r.RemoteDirectMessage), DefaultRemoteDirectMessage)
	}
	return strings.ReplaceAll(m, "{limit}", strconv.Itoa(limit))
}

// LoadRules reads the rules setting; unset means the zero Rules.
func LoadRules(store *storage.Store) (Rules, error) {
	var r Rules
	err := store.GetSetting(RulesSetting, &r)
	if errors.Is(err, storage.ErrNotFound) {
		return Rules{}, nil
	}
	if err != nil {
		return Rules{}, fmt.Errorf("reading stream rules: %w", err)
	}
	return r, nil
}

// SaveRules validates and stores the rules setting.
func SaveRules(store *storage.Store, r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := store.PutSetting(RulesSetting, r); err != nil {
		return fmt.Errorf("saving stream rules: %w", err)
	}
	return nil
}

// Kill is a stream a rule wants stopped.
type Kill struct {
	// Stream is the offending stream.
	Stream Stream
	// Rule is RuleMaxStreams, RuleNo4KTranscode or RuleRemoteDirectPlay.
	Rule string
	// Message is shown on the player.
	Message string
}

// Evaluate decides which streams the rules stop. It is a pure function: streams as polled (from
// every server), the stored users by plex.tv id (users absent from the map get the defaults) and
// the rules. The owner's streams are never stopped, nor streams without a Session@id (Plex cannot
// terminate them). A stream is stopped by at most one rule: first the per-stream rules (4K
// transcode, then remote direct play), then the concurrency limit, which counts the user's
// remaining streams across servers and stops the newest ones beyond the limit (by StartedAt,
// ties by server and session). Kills are returned in a stable order: by server, then session.
func Evaluate(streams []Stream, users map[int64]storage.User, rules Rules) []Kill {
	var kills []Kill
	killed := map[string]bool{}
	id := func(s Stream) string { return s.Server + "/" + s.Key() }
	eligible := func(s Stream) bool { return !s.Owner && s.CanTerminate() }

	for _, s := range streams {
		if !eligible(s) {
			continue
		}
		u := users[s.UserID]
		switch {
		case (rules.No4KTranscode || u.No4KTranscode) && s.Quality.SourceResolution == "4k" && s.VideoTranscoding():
			kills = append(kills, Kill{Stream: s, Rule: RuleNo4KTranscode, Message: rules.message(RuleNo4KTranscode, 0)})
			killed[id(s)] = true
		case rules.RemoteDirectPlayOnly && s.Remote() && s.Transcoding():
			kills = append(kills, Kill{Stream: s, Rule: RuleRemoteDirectPlay, Message: rules.message(RuleRemoteDirectPlay, 0)})
			killed[id(s)] = true
		}
	}

	byUser := map[int64][]Stream{}
	for _, s := range streams {
		if s.Owner || killed[id(s)] || s.UserID == 0 {
			continue
		}
		byUser[s.UserID] = append(byUser[s.UserID], s)
	}
	for userID, list := range byUser {
		limit := rules.MaxStreams
		if u, ok := users[userID]; ok && u.StreamLimit > 0 {
			limit = u.StreamLimit
		}
		if limit <= 0 || len(list) <= limit {
			continue
		}
		slices.SortFunc(list, func(a, b Stream) int {
			return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.Server, b.Server), cmp.Compare(a.Key(), b.Key()))
		})
		for _, s := range list[limit:] {
			if eligible(s) {
				kills = append(kills, Kill{Stream: s, Rule: RuleMaxStreams, Message: rules.message(RuleMaxStreams, limit)})
			}
		}
	}
	slices.SortFunc(kills, func(a, b Kill) int {
		return cmp.Or(cmp.Compare(a.Stream.Server, b.Stream.Server), cmp.Compare(a.Stream.Key(), b.Stream.Key()))
	})
	return kills
}
