// Package logbuf keeps the plugin's own recent log lines in memory for the live log viewer.
//
// A Buffer is a fixed-size ring of redacted entries. Its Core is a zapcore.Core that the root
// tees into the plugin's logger, so every line the plugin logs is also kept here:
//
//	buf := logbuf.New(logbuf.DefaultCapacity)
//	logger = logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
//		return zapcore.NewTee(c, buf.Core(zapcore.DebugLevel))
//	}))
//
// Nothing secret is ever stored: fields whose names say they hold a secret (token, secret,
// password, key, authorization, cookie, credential…) are replaced by "[REDACTED]", and every string
// value and message is scrubbed of values that look like Plex tokens, bearer credentials and
// "token=…" style assignments before it enters the ring (see Redact).
package logbuf
