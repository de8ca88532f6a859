// Package logging writes JSON lines on stdout with the service name and trace id on every
// line, in the shape mesh/log.py gives Python processes (event, level, logger, timestamp,
// service, trace_id), so one query reads the logs of every language.
//
// Log with the context variants (slog.InfoContext(ctx, ...)): the trace id comes from ctx.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"vidmesh/gomesh/tracing"
)

// Setup makes a JSON logger for service the default one and returns it.
func Setup(service, level string) *slog.Logger {
	logger := New(os.Stdout, service, level)
	slog.SetDefault(logger)
	return logger
}

// New is a logger writing JSON lines to w; level is debug, info, warning or error.
func New(w io.Writer, service, level string) *slog.Logger {
	json := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: parseLevel(level), ReplaceAttr: pythonKeys})
	return slog.New(traceHandler{json}).With("service", service)
}

func parseLevel(level string) slog.Level {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug
	case "warning", "warn":
		return slog.LevelWarn
	case "error", "critical":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// pythonKeys renames slog's time/msg/level to structlog's timestamp/event/level names.
func pythonKeys(groups []string, attr slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return attr
	}
	switch attr.Key {
	case slog.TimeKey:
		attr.Key = "timestamp"
		attr.Value = slog.StringValue(attr.Value.Time().UTC().Format("2006-01-02T15:04:05.000000Z"))
	case slog.MessageKey:
		attr.Key = "event"
	case slog.LevelKey:
		level := strings.ToLower(attr.Value.String())
		if level == "warn" {
			level = "warning"
		}
		attr.Value = slog.StringValue(level)
	}
	return attr
}

// traceHandler adds trace_id and span_id from the span of each record's context, so Jaeger
// finds a line's span by them (trace_id null outside a call or event, span_id absent).
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, record slog.Record) error {
	if traceID, spanID := tracing.CurrentIDs(ctx); traceID != "" {
		record.AddAttrs(slog.String("trace_id", traceID), slog.String("span_id", spanID))
	} else {
		record.AddAttrs(slog.Any("trace_id", nil))
	}
	return h.Handler.Handle(ctx, record)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
