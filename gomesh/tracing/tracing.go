// Package tracing carries the W3C trace context of the call or event being handled, the
// Go twin of mesh/log.py's traceparent helpers: a server continues the caller's trace id
// with a span id of its own, so the traceparent it sends on names it as the parent.
// (OpenTelemetry, when it reaches Go services, replaces this package and nothing else.)
package tracing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

var traceparentPattern = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

type traceKey struct{}

// TraceID is the trace id of a well-formed traceparent, or "" (all-zero ids and version
// ff are invalid, as in the W3C spec).
func TraceID(traceparent string) string {
	m := traceparentPattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(traceparent)))
	if m == nil || m[1] == "ff" || allZero(m[2]) || allZero(m[3]) {
		return ""
	}
	return m[2]
}

// New is a fresh sampled traceparent continuing traceID, or starting a trace when it is "".
func New(traceID string) string {
	if traceID == "" {
		traceID = randomHex(16)
	}
	return "00-" + traceID + "-" + randomHex(8) + "-01"
}

// Continue returns ctx carrying a traceparent that continues incoming's trace (or a new
// one when incoming is missing or malformed) with a fresh span id.
func Continue(ctx context.Context, incoming string) context.Context {
	return context.WithValue(ctx, traceKey{}, New(TraceID(incoming)))
}

// Traceparent is the traceparent ctx carries, for outgoing calls; "" outside a call.
func Traceparent(ctx context.Context) string {
	value, _ := ctx.Value(traceKey{}).(string)
	return value
}

// CurrentTraceID is the trace id ctx carries; "" outside a call or event.
func CurrentTraceID(ctx context.Context) string {
	return TraceID(Traceparent(ctx))
}

func allZero(s string) bool { return strings.Trim(s, "0") == "" }

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails on Linux (Go 1.24+ panics instead)
	return hex.EncodeToString(buf)
}
