package consumer

import (
	"context"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	"vidmesh/gomesh/tracing"
)

// processing is the CONSUMER span of one record: a child of the span that wrote the event
// (its envelope's traceparent, MESH.md §11), named like Python's ("process VideoPublished"),
// or a trace of its own ("process <topic>") for a record that is not an envelope.
func (c *Consumer) processing(ctx context.Context, record *kgo.Record, env *eventsv1.EventEnvelope) (
	context.Context, trace.Span) {
	attributes := []attribute.KeyValue{
		attribute.String("messaging.system", "kafka"), attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", record.Topic),
		attribute.String("messaging.destination.partition.id", strconv.Itoa(int(record.Partition))),
		attribute.Int64("messaging.kafka.offset", record.Offset),
		attribute.String("messaging.consumer.group.name", c.opts.Group),
	}
	name := "process " + record.Topic
	if env != nil {
		ctx = tracing.Remote(ctx, env.GetTraceparent(), env.GetTracestate())
		name = "process " + env.GetType()[strings.LastIndex(env.GetType(), ".")+1:]
		attributes = append(attributes, attribute.String("messaging.message.id", env.GetId()),
			attribute.String("vidmesh.event.type", env.GetType()))
	}
	return tracing.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attributes...))
}

// outcome names what became of the record on its span.
func outcome(ctx context.Context, what string) {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("vidmesh.outcome", what))
}

// truncate keeps at most n bytes of s, never half a character.
func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
