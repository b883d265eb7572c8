package logbuf

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// DefaultCapacity is the number of entries a Buffer keeps when New is given no positive capacity.
const DefaultCapacity = 2000

// Size limits of one entry, so a huge message cannot pin megabytes in the ring.
const (
	maxMessageBytes = 8 << 10
	maxFieldBytes   = 4 << 10
)

// Entry is one log line, already redacted.
type Entry struct {
	// Seq numbers the entries of a Buffer from 1, without gaps; a viewer in follow mode asks for
	// the entries after the last Seq it has.
	Seq uint64 `json:"seq"`
	// Time is when the line was logged (UTC).
	Time time.Time `json:"time"`
	// Level is debug, info, warn, error, dpanic, panic or fatal.
	Level string `json:"level"`
	// Logger is the logger's name ("http.handlers.plex_manager").
	Logger string `json:"logger,omitempty"`
	// Message is the log message.
	Message string `json:"message"`
	// Caller is file:line when the logger records it.
	Caller string `json:"caller,omitempty"`
	// Fields are the structured fields, logger context included.
	Fields map[string]any `json:"fields,omitempty"`
}

// Text renders the entry as one line: time, level, logger, message and the fields as JSON.
func (e Entry) Text() string {
	var b strings.Builder
	b.WriteString(e.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteByte('\t')
	b.WriteString(strings.ToUpper(e.Level))
	b.WriteByte('\t')
	if e.Logger != "" {
		b.WriteString(e.Logger)
		b.WriteByte('\t')
	}
	b.WriteString(e.Message)
	if len(e.Fields) > 0 {
		if raw, err := json.Marshal(e.Fields); err == nil {
			b.WriteByte('\t')
			b.Write(raw)
		}
	}
	return b.String()
}

// levelValue parses an entry's level for filtering; unknown names sort as debug.
func levelValue(name string) zapcore.Level {
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return zapcore.DebugLevel
	}
	return l
}

// Buffer is a fixed-size ring of log entries. It is safe for concurrent use.
type Buffer struct {
	mu      sync.Mutex
	entries []Entry // ring storage, len == capacity once full
	next    int     // index the next entry goes to
	full    bool
	seq     uint64
	dropped uint64
}

// New returns an empty Buffer keeping the last capacity entries (DefaultCapacity when capacity is
// not positive).
func New(capacity int) *Buffer {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Buffer{entries: make([]Entry, capacity)}
}

// Capacity returns how many entries the buffer keeps.
func (b *Buffer) Capacity() int { return len(b.entries) }

// add stores e (already redacted), numbering it, and evicts the oldest entry when full.
func (b *Buffer) add(e Entry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e.Seq = b.seq
	if b.full {
		b.dropped++
	}
	b.entries[b.next] = e
	b.next++
	if b.next == len(b.entries) {
		b.next = 0
		b.full = true
	}
}

// Add redacts e and stores it; Seq is assigned by the buffer. It is what the Core calls, exported
// for lines that do not come through zap.
func (b *Buffer) Add(e Entry) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Message = truncate(Redact(e.Message), maxMessageBytes)
	if len(e.Fields) > 0 {
		fields := make(map[string]any, len(e.Fields))
		for k, v := range e.Fields {
			fields[k] = redactValue(k, v)
		}
		e.Fields = fields
	} else {
		e.Fields = nil
	}
	b.add(e)
}

// LastSeq returns the Seq of the newest entry (0 when empty).
func (b *Buffer) LastSeq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Dropped returns how many entries were evicted to make room.
func (b *Buffer) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// Query filters Entries. Zero fields do not filter.
type Query struct {
	// MinLevel keeps entries at this level or above (the zero value is info; use
	// zapcore.DebugLevel for everything).
	MinLevel zapcore.Level
	// Text keeps entries whose message, logger or fields contain it, case-insensitively.
	Text string
	// After keeps entries with a Seq greater than it (follow mode).
	After uint64
	// Limit keeps only the newest Limit matches (0: all).
	Limit int
}

// Entries returns copies of the matching entries, oldest first.
func (b *Buffer) Entries(q Query) []Entry {
	b.mu.Lock()
	all := make([]Entry, 0, len(b.entries))
	if b.full {
		all = append(all, b.entries[b.next:]...)
	}
	all = append(all, b.entries[:b.next]...)
	b.mu.Unlock()

	needle := strings.ToLower(strings.TrimSpace(q.Text))
	out := make([]Entry, 0, len(all))
	for _, e := range all {
		if e.Seq <= q.After || levelValue(e.Level) < q.MinLevel {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(e.Text()), needle) {
			continue
		}
		out = append(out, e)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

// WriteText writes entries as text lines (see Entry.Text).
func WriteText(w io.Writer, entries []Entry) error {
	for _, e := range entries {
		if _, err := io.WriteString(w, e.Text()+"\n"); err != nil {
			return fmt.Errorf("writing log lines: %w", err)
		}
	}
	return nil
}

// WriteJSONLines writes entries as JSON, one object per line.
func WriteJSONLines(w io.Writer, entries []Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("writing log lines: %w", err)
		}
	}
	return nil
}

// Levels lists the level names a viewer can filter on, lowest first.
func Levels() []string {
	levels := []zapcore.Level{zapcore.DebugLevel, zapcore.InfoLevel, zapcore.WarnLevel, zapcore.ErrorLevel}
	out := make([]string, len(levels))
	for i, l := range levels {
		out[i] = l.String()
	}
	return out
}
