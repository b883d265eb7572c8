package logbuf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// plexLikeToken is shaped like a real Plex token (20 characters, mixed case and digits).
const plexLikeToken = "zxQyJ4R2Hd8rFqkB9t3W"

func TestSensitiveName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"token", true},
		{"X-Plex-Token", true},
		{"accessToken", true},
		{"plex_token", true},
		{"api_key", true},
		{"apiKey", true},
		{"APIKey", true},
		{"client_secret", true},
		{"clientSecret", true},
		{"password", true},
		{"passwordHash", true},
		{"Authorization", true},
		{"cookie", true},
		{"credentials", true},
		{"user", false},
		{"server", false},
		{"tokenizer", false},
		{"keyboard", false},
		{"monkey", false},
		{"duration", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := SensitiveName(tt.name); got != tt.want {
			t.Errorf("SensitiveName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain message", "plain message"},
		{"", ""},
		{"GET /status?X-Plex-Token=abc123&x=1", "GET /status?X-Plex-Token=" + Redacted + "&x=1"},
		{"url https://h/p?token=supersecret", "url https://h/p?token=" + Redacted},
		{`{"password":"hunter2"}`, `{"password":"` + Redacted + `"}`},
		{"api_key: k-123456", "api_key: " + Redacted},
		{"Authorization: Bearer abcdefghijkl", "Authorization: Bearer " + Redacted},
		{"sent bearer abcdefgh12345678 to it", "sent bearer " + Redacted + " to it"},
		{"token " + plexLikeToken + " seen", "token " + Redacted + " seen"},
		{"(" + plexLikeToken + ")", "(" + Redacted + ")"},
		// Not a token: 20 characters, but no upper case or digit, or a different length.
		{"configuration_loaded", "configuration_loaded"},
		{"zxQyJ4R2Hd8rFqkB9t3Wx", "zxQyJ4R2Hd8rFqkB9t3Wx"},
		{"12345678901234567890", "12345678901234567890"},
		{"session 93h7e00ncblxncqw9lkfaoxi", "session 93h7e00ncblxncqw9lkfaoxi"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// newLogger returns a logger writing only into a new buffer of capacity n.
func newLogger(n int) (*zap.Logger, *Buffer) {
	buf := New(n)
	return zap.New(buf.Core(zapcore.DebugLevel)).Named("plex_manager"), buf
}

func TestCoreRedactsFieldsAndValues(t *testing.T) {
	logger, buf := newLogger(10)
	type creds struct{ Token string }
	logger.With(zap.String("X-Plex-Token", "ctx-token-value")).Info("calling plex with "+plexLikeToken,
		zap.String("token", "owner-token"),
		zap.String("password", "hunter2"),
		zap.String("url", "http://pms/?X-Plex-Token=abc"),
		zap.String("note", "a "+plexLikeToken+" b"),
		zap.Error(fmt.Errorf("wrapped: %w", errors.New("bad token="+plexLikeToken))),
		zap.Any("nested", map[string]any{"secret": "s3", "list": []any{plexLikeToken, 5}, "ok": "fine"}),
		zap.Strings("many", []string{"x", plexLikeToken}),
		zap.Int("count", 3),
		zap.Duration("took", 2*time.Second),
		zap.Binary("api_key", []byte("raw")),
	)
	got := buf.Entries(Query{MinLevel: zapcore.DebugLevel})
	if len(got) != 1 {
		t.Fatalf("got %d entries, want 1", len(got))
	}
	raw, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw) + got[0].Text()
	for _, secret := range []string{"ctx-token-value", "owner-token", "hunter2", "abc", plexLikeToken, "s3", "raw"} {
		if strings.Contains(text, secret) {
			t.Errorf("entry leaks %q: %s", secret, text)
		}
	}
	e := got[0]
	if e.Fields["count"] != int64(3) || e.Fields["took"] != "2s" {
		t.Errorf("plain fields changed: count=%v took=%v", e.Fields["count"], e.Fields["took"])
	}
	if nested, ok := e.Fields["nested"].(map[string]any); !ok || nested["ok"] != "fine" || nested["secret"] != Redacted {
		t.Errorf("nested = %#v", e.Fields["nested"])
	}
	if e.Logger != "plex_manager" || e.Level != "info" || e.Seq != 1 {
		t.Errorf("entry header = %q %q %d", e.Logger, e.Level, e.Seq)
	}
	if !strings.Contains(e.Message, "calling plex with "+Redacted) {
		t.Errorf("message = %q", e.Message)
	}
}

func TestRingKeepsNewestAndNumbers(t *testing.T) {
	logger, buf := newLogger(3)
	for i := 1; i <= 5; i++ {
		logger.Info(fmt.Sprintf("line %d", i))
	}
	got := buf.Entries(Query{})
	if len(got) != 3 {
		t.Fatalf("got %d entries, want 3", len(got))
	}
	for i, e := range got {
		if want := fmt.Sprintf("line %d", i+3); e.Message != want || e.Seq != uint64(i+3) {
			t.Errorf("entry %d = %d %q, want %d %q", i, e.Seq, e.Message, i+3, want)
		}
	}
	if buf.LastSeq() != 5 || buf.Dropped() != 2 {
		t.Errorf("LastSeq=%d Dropped=%d, want 5 and 2", buf.LastSeq(), buf.Dropped())
	}
}

func TestEntriesFilters(t *testing.T) {
	logger, buf := newLogger(100)
	logger.Debug("debug detail")
	logger.Info("sync finished", zap.String("server", "Basement"))
	logger.Warn("server slow")
	logger.Error("sync failed", zap.String("server", "Attic"))
	logger.Info("another info")

	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"all", Query{MinLevel: zapcore.DebugLevel}, []string{"debug detail", "sync finished", "server slow", "sync failed", "another info"}},
		{"zero value is info and up", Query{}, []string{"sync finished", "server slow", "sync failed", "another info"}},
		{"warn and up", Query{MinLevel: zapcore.WarnLevel}, []string{"server slow", "sync failed"}},
		{"text in message", Query{MinLevel: zapcore.DebugLevel, Text: "SYNC"}, []string{"sync finished", "sync failed"}},
		{"text in a field", Query{MinLevel: zapcore.DebugLevel, Text: "attic"}, []string{"sync failed"}},
		{"after (follow)", Query{MinLevel: zapcore.DebugLevel, After: 3}, []string{"sync failed", "another info"}},
		{"limit keeps newest", Query{MinLevel: zapcore.DebugLevel, Limit: 2}, []string{"sync failed", "another info"}},
		{"nothing matches", Query{Text: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range buf.Entries(tt.q) {
				got = append(got, e.Message)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCoreLevelEnabler(t *testing.T) {
	buf := New(10)
	logger := zap.New(buf.Core(zapcore.WarnLevel))
	logger.Info("dropped")
	logger.Warn("kept")
	if got := buf.Entries(Query{MinLevel: zapcore.DebugLevel}); len(got) != 1 || got[0].Message != "kept" {
		t.Fatalf("got %+v", got)
	}
}

func TestTeeKeepsOriginalOutput(t *testing.T) {
	var out bytes.Buffer
	orig := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&out), zapcore.InfoLevel)
	buf := New(10)
	logger := zap.New(orig).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, buf.Core(zapcore.DebugLevel))
	}))
	logger.Debug("only in the buffer")
	logger.Info("both")
	if n := len(buf.Entries(Query{MinLevel: zapcore.DebugLevel})); n != 2 {
		t.Errorf("buffer has %d entries, want 2", n)
	}
	if strings.Contains(out.String(), "only in the buffer") || !strings.Contains(out.String(), "both") {
		t.Errorf("original output = %s", out.String())
	}
}

func TestTruncatesHugeMessages(t *testing.T) {
	logger, buf := newLogger(2)
	logger.Info(strings.Repeat("é", maxMessageBytes), zap.String("big", strings.Repeat("x", 3*maxFieldBytes)))
	e := buf.Entries(Query{})[0]
	if len(e.Message) > maxMessageBytes+len("…") || !strings.HasSuffix(e.Message, "…") {
		t.Errorf("message length %d", len(e.Message))
	}
	if s, _ := e.Fields["big"].(string); len(s) > maxFieldBytes+len("…") {
		t.Errorf("field length %d", len(s))
	}
}

func TestWriters(t *testing.T) {
	logger, buf := newLogger(10)
	logger.Info("one", zap.Int("n", 1))
	logger.Warn("two")
	entries := buf.Entries(Query{})
	var text, js bytes.Buffer
	if err := WriteText(&text, entries); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "\tINFO\t") || !strings.HasSuffix(lines[0], `one	{"n":1}`) {
		t.Errorf("text = %q", text.String())
	}
	if err := WriteJSONLines(&js, entries); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&js)
	var n int
	for dec.More() {
		var e Entry
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("decoded %d JSON lines", n)
	}
	if err := WriteText(failingWriter{}, entries); err == nil {
		t.Error("WriteText to a failing writer returned nil")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestConcurrentWriters(t *testing.T) {
	logger, buf := newLogger(50)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				logger.Info("x", zap.Int("i", i))
				_ = buf.Entries(Query{Limit: 5})
			}
		}()
	}
	wg.Wait()
	if buf.LastSeq() != 800 || len(buf.Entries(Query{})) != 50 {
		t.Errorf("LastSeq=%d entries=%d", buf.LastSeq(), len(buf.Entries(Query{})))
	}
}

func TestLevels(t *testing.T) {
	if got := strings.Join(Levels(), ","); got != "debug,info,warn,error" {
		t.Errorf("Levels() = %s", got)
	}
}
