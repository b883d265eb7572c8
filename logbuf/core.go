package logbuf

import (
	"fmt"
	"time"

	"go.uber.org/zap/zapcore"
)

// Core returns a zapcore.Core that writes the entries enab lets through into the buffer. Tee it
// with the logger's own core (see the package documentation).
func (b *Buffer) Core(enab zapcore.LevelEnabler) zapcore.Core {
	if enab == nil {
		enab = zapcore.DebugLevel
	}
	return &core{LevelEnabler: enab, buf: b}
}

// core is the zapcore.Core of a Buffer. context holds the fields of With, already encoded.
type core struct {
	zapcore.LevelEnabler
	buf     *Buffer
	context map[string]any
}

// With returns a core that adds fields to every entry.
func (c *core) With(fields []zapcore.Field) zapcore.Core {
	ctx := encodeFields(c.context, fields)
	return &core{LevelEnabler: c.LevelEnabler, buf: c.buf, context: ctx}
}

// Check adds the core to ce when the entry's level is enabled.
func (c *core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

// Write redacts the entry and stores it.
func (c *core) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	e := Entry{
		Time:    ent.Time,
		Level:   ent.Level.String(),
		Logger:  ent.LoggerName,
		Message: ent.Message,
		Fields:  encodeFields(c.context, fields),
	}
	if ent.Caller.Defined {
		e.Caller = ent.Caller.TrimmedPath()
	}
	c.buf.Add(e)
	return nil
}

// Sync has nothing to flush.
func (c *core) Sync() error { return nil }

// encodeFields encodes fields over a copy of base with zap's map encoder.
func encodeFields(base map[string]any, fields []zapcore.Field) map[string]any {
	enc := zapcore.NewMapObjectEncoder()
	for k, v := range base {
		enc.Fields[k] = v
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	if len(enc.Fields) == 0 {
		return nil
	}
	return enc.Fields
}

// stringOf prints values the map encoder keeps as Go values.
func stringOf(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
