package interceptors

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"vidmesh/gomesh/domainerr"
	"vidmesh/gomesh/tracing"
)

// Errors turns what a handler returns (or panics with) into the status the client sees.
func Errors(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			resp, err = nil, bug(ctx, info.FullMethod, fmt.Errorf("panic: %v\n%s", recovered, debug.Stack()))
		}
	}()
	resp, err = handler(ctx, req)
	return resp, toStatus(ctx, info.FullMethod, err)
}

// ErrorsStream is Errors for streaming calls.
func ErrorsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = bug(ss.Context(), info.FullMethod, fmt.Errorf("panic: %v\n%s", recovered, debug.Stack()))
		}
	}()
	return toStatus(ss.Context(), info.FullMethod, handler(srv, ss))
}

func toStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := domainerr.Status(err); ok {
		return st.Err()
	}
	if _, ok := status.FromError(err); ok {
		return err // the handler (or an inner interceptor) chose its status already
	}
	if ctx.Err() != nil {
		// The client gave up or its deadline passed while the handler waited on something
		// (a query, a lock): not a bug, and the code says which.
		return status.FromContextError(ctx.Err()).Err()
	}
	return bug(ctx, method, err)
}

func bug(ctx context.Context, method string, err error) error {
	trace.SpanFromContext(ctx).RecordError(err) // the details on the call's span too, never to the caller
	slog.ErrorContext(ctx, "unhandled error", "method", method, "error", err.Error())
	return domainerr.Internal(tracing.CurrentTraceID(ctx)).Err()
}
