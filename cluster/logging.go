package cluster

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger adapts slog for hashicorp/raft: its records go to l, Info and up.
func newHCLogger(l *slog.Logger, name string) hclog.Logger {
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: name, Output: io.Discard, Level: hclog.Info})
	il.RegisterSink(slogSink{l.With("component", name)})
	return il
}

type slogSink struct{ l *slog.Logger }

func (s slogSink) Accept(_ string, level hclog.Level, msg string, args ...any) {
	lv := slog.LevelInfo
	switch {
	case level <= hclog.Debug:
		lv = slog.LevelDebug
	case level == hclog.Warn:
		lv = slog.LevelWarn
	case level >= hclog.Error:
		lv = slog.LevelError
	}
	s.l.Log(context.Background(), lv, msg, args...)
}

// newStdLogger adapts slog for memberlist, which logs "[LEVEL] memberlist: msg".
func newStdLogger(l *slog.Logger) *log.Logger {
	return log.New(stdWriter{l.With("component", "memberlist")}, "", 0)
}

type stdWriter struct{ l *slog.Logger }

func (w stdWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	lv := slog.LevelInfo
	for prefix, level := range map[string]slog.Level{"[DEBUG]": slog.LevelDebug, "[WARN]": slog.LevelWarn, "[ERR]": slog.LevelError, "[ERROR]": slog.LevelError} {
		if len(line) >= len(prefix) && line[:len(prefix)] == prefix {
			lv = level
			line = string(bytes.TrimSpace([]byte(line[len(prefix):])))
			break
		}
	}
	w.l.Log(context.Background(), lv, line)
	return len(p), nil
}

// newHTTPErrorLogger is the HTTPS server's error log. What it reports is
// mostly about clients (a failed TLS handshake, a port scan), so it logs at
// debug level: a stranger's garbage must not flood the node's log.
func newHTTPErrorLogger(l *slog.Logger) *log.Logger {
	return log.New(stdWriter{l.With("component", "https")}, "[DEBUG] ", 0)
}
