package interceptors

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"vidmesh/gomesh/tracing"
)

// serverFailures are the codes that mean the server failed (OpenTelemetry's rule for server
// spans, MESH.md §11); the others are the caller's and leave the span's status unset.
var serverFailures = map[codes.Code]bool{codes.Unknown: true, codes.DeadlineExceeded: true,
	codes.Unimplemented: true, codes.Internal: true, codes.Unavailable: true, codes.DataLoss: true}

// Tracing runs the call in a SERVER span named <package>.<Service>/<Method>, a child of the
// caller's traceparent (or the root of a new trace).
func Tracing(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, span := serverSpan(ctx, info.FullMethod)
	defer span.End()
	resp, err := handler(ctx, req)
	finish(span, err)
	return resp, err
}

// TracingStream is Tracing for streaming calls.
func TracingStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, span := serverSpan(ss.Context(), info.FullMethod)
	defer span.End()
	err := handler(srv, contextStream{ss, ctx})
	finish(span, err)
	return err
}

func serverSpan(ctx context.Context, method string) (context.Context, trace.Span) {
	md, _ := metadata.FromIncomingContext(ctx)
	ctx = tracing.Remote(ctx, first(md, "traceparent"), first(md, "tracestate"))
	name := strings.TrimPrefix(method, "/")
	service, rpcMethod, _ := strings.Cut(name, "/")
	return tracing.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("rpc.system", "grpc"), attribute.String("rpc.service", service),
		attribute.String("rpc.method", rpcMethod)))
}

func finish(span trace.Span, err error) {
	code := status.Code(err)
	span.SetAttributes(attribute.Int("rpc.grpc.status_code", int(code)))
	if serverFailures[code] {
		span.SetStatus(otelcodes.Error, codeName(code))
	}
}

func first(md metadata.MD, key string) string {
	if values := md.Get(key); len(values) > 0 {
		return values[0]
	}
	return ""
}
