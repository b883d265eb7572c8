package streams

import (
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// st builds a stream for rule tests.
func st(server, session string, user int64, started int, opts ...func(*Stream)) Stream {
	s := Stream{
		Server: server, Session: session, UserID: user, Username: "u", Title: "t",
		StartedAt: time.Date(2026, 1, 1, 12, 0, started, 0, time.UTC),
		Player:    Player{Local: true}, Location: "lan",
		Quality: Quality{Resolution: "1080", SourceResolution: "1080"}, Decision: "direct play",
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func transcode4K(s *Stream) {
	s.Quality = Quality{Resolution: "1080", SourceResolution: "4k"}
	s.Transcode = &Transcode{VideoDecision: "transcode", AudioDecision: "copy"}
	s.Decision = "transcode"
}

func audioTranscode4K(s *Stream) {
	s.Quality = Quality{Resolution: "4k", SourceResolution: "4k"}
	s.Transcode = &Transcode{VideoDecision: "copy", AudioDecision: "transcode"}
	s.Decision = "transcode"
}

func direct4K(s *Stream) { s.Quality = Quality{Resolution: "4k", SourceResolution: "4k"} }

func unknownSource(s *Stream) {
	s.Quality = Quality{Resolution: "1080"}
	s.Transcode = &Transcode{VideoDecision: "transcode"}
	s.Decision = "transcode"
}

func remote(s *Stream) { s.Player.Local, s.Location = false, "wan" }

func transcoding(s *Stream) {
	s.Transcode = &Transcode{VideoDecision: "transcode", AudioDecision: "copy"}
	s.Decision = "transcode"
}

func directStream(s *Stream) {
	s.Transcode = &Transcode{VideoDecision: "copy", AudioDecision: "copy"}
	s.Decision = "direct stream"
}

func owner(s *Stream) { s.Owner = true }

func noSession(s *Stream) { s.Session, s.SessionKey = "", "7" }

func TestEvaluate(t *testing.T) {
	const alice, bob = 100, 200
	users := map[int64]storage.User{
		alice: {ID: alice, Username: "alice"},
		bob:   {ID: bob, Username: "bob", StreamLimit: 3, No4KTranscode: true},
	}
	tests := []struct {
		name    string
		streams []Stream
		users   map[int64]storage.User
		rules   Rules
		want    []string // "server/session:rule"
	}{
		{"no rules, nothing stopped", []Stream{st("A", "1", alice, 1), st("A", "2", alice, 2), st("A", "3", alice, 3, transcode4K)}, users, Rules{}, nil},
		{"limit 2: the newest third stream goes", []Stream{st("A", "3", alice, 3), st("A", "1", alice, 1), st("A", "2", alice, 2)}, users, Rules{MaxStreams: 2}, []string{"A/3:max_streams"}},
		{"limit counts across servers", []Stream{st("A", "1", alice, 1), st("B", "9", alice, 2)}, users, Rules{MaxStreams: 1}, []string{"B/9:max_streams"}},
		{"same start time: ties by server then session", []Stream{st("B", "1", alice, 1), st("A", "2", alice, 1)}, users, Rules{MaxStreams: 1}, []string{"B/1:max_streams"}},
		{"at the limit: nothing", []Stream{st("A", "1", alice, 1), st("A", "2", alice, 2)}, users, Rules{MaxStreams: 2}, nil},
		{"per-user limit replaces the default", []Stream{st("A", "1", bob, 1), st("A", "2", bob, 2), st("A", "3", bob, 3), st("A", "4", bob, 4)}, users, Rules{MaxStreams: 1}, []string{"A/4:max_streams"}},
		{"per-user limit applies with no default", []Stream{st("A", "1", bob, 1), st("A", "2", bob, 2), st("A", "3", bob, 3), st("A", "4", bob, 4)}, users, Rules{}, []string{"A/4:max_streams"}},
		{"users are counted separately", []Stream{st("A", "1", alice, 1), st("A", "2", 300, 2)}, users, Rules{MaxStreams: 1}, nil},
		{"unknown users get the default", []Stream{st("A", "1", 300, 1), st("A", "2", 300, 2)}, users, Rules{MaxStreams: 1}, []string{"A/2:max_streams"}},
		{"owner is exempt", []Stream{st("A", "1", 1, 1, owner), st("A", "2", 1, 2, owner, transcode4K)}, users, Rules{MaxStreams: 1, No4KTranscode: true, RemoteDirectPlayOnly: true}, nil},
		{"owner with unknown id is exempt", []Stream{st("A", "1", 0, 1, owner), st("A", "2", 0, 2, owner)}, users, Rules{MaxStreams: 1}, nil},
		{"global no-4K: only the 4K video transcode", []Stream{st("A", "1", alice, 1, transcode4K), st("A", "2", alice, 2, direct4K), st("A", "3", alice, 3, transcoding), st("A", "4", alice, 4, audioTranscode4K)}, users, Rules{No4KTranscode: true}, []string{"A/1:no_4k_transcode"}},
		{"per-user no-4K", []Stream{st("A", "1", alice, 1, transcode4K), st("A", "2", bob, 2, transcode4K)}, users, Rules{}, []string{"A/2:no_4k_transcode"}},
		{"unknown source resolution is not stopped", []Stream{st("A", "1", bob, 1, unknownSource)}, users, Rules{No4KTranscode: true}, nil},
		{"remote direct play only", []Stream{st("A", "1", alice, 1, remote, transcoding), st("A", "2", alice, 2, remote), st("A", "3", alice, 3, remote, directStream), st("A", "4", alice, 4, transcoding), st("A", "5", alice, 5, remote, audioTranscode4K)}, users, Rules{RemoteDirectPlayOnly: true}, []string{"A/1:remote_direct_play", "A/5:remote_direct_play"}},
		{"a stream is stopped by one rule only", []Stream{st("A", "1", bob, 1, remote, transcode4K)}, users, Rules{RemoteDirectPlayOnly: true}, []string{"A/1:no_4k_transcode"}},
		{"killed streams no longer count for the limit", []Stream{st("A", "1", alice, 1), st("A", "2", alice, 2, remote, transcoding), st("A", "3", alice, 3)}, users, Rules{MaxStreams: 2, RemoteDirectPlayOnly: true}, []string{"A/2:remote_direct_play"}},
		{"streams without a session id are never stopped", []Stream{st("A", "1", alice, 1), st("A", "", alice, 2, noSession), st("A", "3", alice, 3, noSession, transcode4K)}, users, Rules{MaxStreams: 1, No4KTranscode: true}, nil},
		{"no streams", nil, users, Rules{MaxStreams: 1, No4KTranscode: true, RemoteDirectPlayOnly: true}, nil},
		{"nil users map", []Stream{st("A", "1", alice, 1), st("A", "2", alice, 2)}, nil, Rules{MaxStreams: 1}, []string{"A/2:max_streams"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, k := range Evaluate(tt.streams, tt.users, tt.rules) {
				got = append(got, k.Stream.Server+"/"+k.Stream.Session+":"+k.Rule)
				if k.Message == "" {
					t.Errorf("kill %v has no message", k.Rule)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("kills = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRuleMessages(t *testing.T) {
	r := Rules{MaxStreams: 2}
	k := Evaluate([]Stream{st("A", "1", 5, 1), st("A", "2", 5, 2), st("A", "3", 5, 3)}, nil, r)
	if len(k) != 1 || !strings.Contains(k[0].Message, "limit of 2 simultaneous") {
		t.Fatalf("kills = %+v", k)
	}
	r.MaxStreamsMessage = "Max {limit}, sorry"
	r.No4KMessage = "no 4k here"
	r.RemoteDirectMessage = "  "
	if got := r.message(RuleMaxStreams, 3); got != "Max 3, sorry" {
		t.Errorf("custom message = %q", got)
	}
	if got := r.message(RuleNo4KTranscode, 0); got != "no 4k here" {
		t.Errorf("custom 4K message = %q", got)
	}
	if got := r.message(RuleRemoteDirectPlay, 0); got != DefaultRemoteDirectMessage {
		t.Errorf("blank message not defaulted: %q", got)
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		r   Rules
		bad bool
	}{
		{Rules{}, false},
		{Rules{MaxStreams: MaxStreamLimit}, false},
		{Rules{MaxStreams: -1}, true},
		{Rules{MaxStreams: MaxStreamLimit + 1}, true},
		{Rules{No4KMessage: strings.Repeat("x", 501)}, true},
	}
	for _, tt := range tests {
		if err := tt.r.Validate(); (err != nil) != tt.bad {
			t.Errorf("Validate(%+v) = %v, want error %v", tt.r, err, tt.bad)
		}
	}
}

func TestNormalizeResolution(t *testing.T) {
	for in, want := range map[string]string{"4k": "4k", "4K": "4k", "2160": "4k", "2160p": "4k", "UHD": "4k", "1080p": "1080", "1080": "1080", "sd": "sd", " 720 ": "720", "": ""} {
		if got := NormalizeResolution(in); got != want {
			t.Errorf("NormalizeResolution(%q) = %q, want %q", in, got, want)
		}
	}
}
