package server_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/tracing"
)

// What the chain costs a call over loopback, with spans recorded (batched to an exporter
// that keeps nothing, as the OTLP one would send them) and with tracing off:
//
//	go test -run '^$' -bench ACall -benchtime 3s ./gomesh/server/
func BenchmarkACall(b *testing.B) {
	for _, recorded := range []bool{false, true} {
		name := map[bool]string{false: "tracing_off", true: "spans_recorded"}[recorded]
		b.Run(name, func(b *testing.B) {
			if recorded {
				b.Cleanup(tracing.Use(sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))))
			}
			inst := start(b, &behaviour{forUser: ok}, nil, time.Second)
			eventually(b, 2*time.Second, "SERVING", func() bool {
				return inst.status(b, "") == healthpb.HealthCheckResponse_SERVING
			})
			ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", traceparent)
			request := &recommendationsv1.ListForUserRequest{UserId: validID}
			for b.Loop() {
				if _, err := inst.client.ListForUser(ctx, request); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
