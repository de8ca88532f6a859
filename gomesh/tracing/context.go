package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

var w3c = propagation.TraceContext{}

// Remote is ctx with the span a W3C traceparent (and tracestate) names as its parent; an
// empty or malformed one leaves ctx as it is (the next span starts a trace).
func Remote(ctx context.Context, traceparent, tracestate string) context.Context {
	carrier := propagation.MapCarrier{"traceparent": traceparent}
	if tracestate != "" {
		carrier["tracestate"] = tracestate
	}
	return w3c.Extract(ctx, carrier)
}

// Traceparent is the current span's W3C traceparent, to send on; "" outside any span.
func Traceparent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	w3c.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// CurrentIDs are the trace and span ids of ctx's span in hex; "" outside any span.
func CurrentIDs(ctx context.Context) (traceID, spanID string) {
	span := trace.SpanContextFromContext(ctx)
	if !span.IsValid() {
		return "", ""
	}
	return span.TraceID().String(), span.SpanID().String()
}

// CurrentTraceID is the trace id of ctx's span; "" outside any span.
func CurrentTraceID(ctx context.Context) string {
	traceID, _ := CurrentIDs(ctx)
	return traceID
}
