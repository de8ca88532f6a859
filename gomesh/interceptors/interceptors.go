// Package interceptors is the server chain every vidmesh Go service runs, outermost first,
// as mesh/interceptors.py does for Python:
//
//  1. tracing: a SERVER span per call, a child of the caller's W3C traceparent (or the root of
//     a trace); what the handler logs happens inside it (gomesh/tracing);
//  2. metrics: counts each call under its final code (gomesh/metrics);
//  3. access log: one line per call with method, code, duration_ms and peer;
//  4. errors: domain errors become their status (gomesh/domainerr, the one table); a call
//     cut short by its deadline or the client is DEADLINE_EXCEEDED or CANCELLED; anything
//     else, panics included, is a bug: INTERNAL with a generic message, details in the log;
//  5. deadline: refuses a call whose deadline has passed and caps every unary call, so a
//     handler without a client deadline cannot hang;
//  6. validation: the string rule of MESH.md §6 (gomesh/textfields), then the request's
//     protovalidate rules. The server's codec hands a request that does not decode on to it
//     (undecodable.go) rather than answering INTERNAL itself.
//
// Health and reflection calls pass untouched: Consul probes every second.
package interceptors

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
)

var unwrappedPrefixes = []string{"/grpc.health.v1.Health/", "/grpc.reflection."}

// Counter counts calls (gomesh/metrics.Metrics).
type Counter interface {
	UnaryServerInterceptor() grpc.UnaryServerInterceptor
	StreamServerInterceptor() grpc.StreamServerInterceptor
}

// Chain is the server options installing the whole chain; maxRPC caps unary calls.
func Chain(maxRPC time.Duration, validator Validator, counter Counter) []grpc.ServerOption {
	unary := []grpc.UnaryServerInterceptor{Tracing, counter.UnaryServerInterceptor(), AccessLog, Errors,
		Deadline(maxRPC), Validation(validator)}
	stream := []grpc.StreamServerInterceptor{TracingStream, counter.StreamServerInterceptor(), AccessLogStream,
		ErrorsStream, DeadlineStream, ValidationStream(validator)}
	return []grpc.ServerOption{
		LenientCodec(),
		grpc.ChainUnaryInterceptor(forgetUndecodable),
		grpc.ChainUnaryInterceptor(skipping(unary)...),
		grpc.ChainStreamInterceptor(refuseUndecodableStream),
		grpc.ChainStreamInterceptor(skippingStream(stream)...),
	}
}

func unwrapped(method string) bool {
	for _, prefix := range unwrappedPrefixes {
		if strings.HasPrefix(method, prefix) {
			return true
		}
	}
	return false
}

func skipping(chain []grpc.UnaryServerInterceptor) []grpc.UnaryServerInterceptor {
	out := make([]grpc.UnaryServerInterceptor, len(chain))
	for i, next := range chain {
		out[i] = func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if unwrapped(info.FullMethod) {
				return handler(ctx, req)
			}
			return next(ctx, req, info, handler)
		}
	}
	return out
}

func skippingStream(chain []grpc.StreamServerInterceptor) []grpc.StreamServerInterceptor {
	out := make([]grpc.StreamServerInterceptor, len(chain))
	for i, next := range chain {
		out[i] = func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if unwrapped(info.FullMethod) {
				return handler(srv, ss)
			}
			return next(srv, ss, info, handler)
		}
	}
	return out
}

// contextStream is a server stream whose Context is replaced (trace, deadline).
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s contextStream) Context() context.Context { return s.ctx }
