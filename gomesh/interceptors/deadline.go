package interceptors

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Deadline refuses calls that are already late and bounds unary calls by maxRPC.
func Deadline(maxRPC time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
			return nil, status.Error(codes.DeadlineExceeded, "deadline exceeded before the call started")
		}
		capped, cancel := context.WithTimeoutCause(ctx, maxRPC, errServerCap)
		defer cancel()
		resp, err := handler(capped, req)
		if err != nil && errors.Is(context.Cause(capped), errServerCap) {
			return nil, status.Errorf(codes.DeadlineExceeded, "no answer within %.3g s", maxRPC.Seconds())
		}
		return resp, err
	}
}

// DeadlineStream refuses late streams; server streams may legitimately run long (watches),
// so they keep the client's deadline and get no cap.
func DeadlineStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if deadline, ok := ss.Context().Deadline(); ok && !time.Now().Before(deadline) {
		return status.Error(codes.DeadlineExceeded, "deadline exceeded before the call started")
	}
	return handler(srv, ss)
}

var errServerCap = errors.New("the server's cap on call time ran out")
