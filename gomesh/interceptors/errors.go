package interceptors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
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
	if databaseAway(err) {
		// The database's state, not a bug (MESH.md's table): the client may retry.
		trace.SpanFromContext(ctx).RecordError(err)
		slog.WarnContext(ctx, "database unavailable", "method", method, "error", err.Error())
		return status.Error(codes.Unavailable, "the service's database is unavailable; retry shortly")
	}
	return bug(ctx, method, err)
}

// databaseAway: Postgres out of reach, as mesh's Python runtime reads psycopg's
// OperationalError: no connection (pgconn.ConnectError, a timeout), a connection lost
// (SQLSTATE class 08), a statement cancelled by its timeout (57014), or the server shutting
// down (class 57P).
func databaseAway(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok || pgconn.Timeout(err) {
		return true
	}
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	if !ok {
		return false
	}
	return pgErr.Code == "57014" || strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
}

func bug(ctx context.Context, method string, err error) error {
	trace.SpanFromContext(ctx).RecordError(err) // the details on the call's span too, never to the caller
	slog.ErrorContext(ctx, "unhandled error", "method", method, "error", err.Error())
	return domainerr.Internal(tracing.CurrentTraceID(ctx)).Err()
}
