// Package domainerr holds the errors a domain returns and the one table that turns them
// into gRPC statuses, the same table as mesh/errors.py: NotFound is NOT_FOUND,
// InvalidArgument is INVALID_ARGUMENT with a google.rpc.BadRequest naming each field
// (the gateway answers 400 with the fields), and so on. Domain code knows nothing of gRPC:
// it returns an *Error (wrapped with %w if it likes); the server's interceptor calls Status.
// Any other error is a bug, which the interceptor reports as INTERNAL without its details.
package domainerr

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kind is the kind of an expected failure the caller can act on.
type Kind int

// The kinds, in mesh/errors.py's order.
const (
	NotFound           Kind = iota + 1 // the addressed resource does not exist
	AlreadyExists                      // the resource to create exists already
	PermissionDenied                   // the caller is known but may not do this
	Unauthenticated                    // the caller could not be identified
	Conflict                           // optimistic concurrency lost; retry
	InvalidArgument                    // the request is malformed; names every field
	FailedPrecondition                 // not allowed in the current state
	ResourceExhausted                  // a quota or rate limit is used up
	Unavailable                        // a dependency is down for now; retry later
)

// codeOf is the one place that decides which status code each kind gets.
var codeOf = map[Kind]codes.Code{
	NotFound:           codes.NotFound,
	AlreadyExists:      codes.AlreadyExists,
	PermissionDenied:   codes.PermissionDenied,
	Unauthenticated:    codes.Unauthenticated,
	Conflict:           codes.Aborted,
	InvalidArgument:    codes.InvalidArgument,
	FailedPrecondition: codes.FailedPrecondition,
	ResourceExhausted:  codes.ResourceExhausted,
	Unavailable:        codes.Unavailable,
}

// FieldViolation is one bad field: its path (`title`, `tags[2]`, `author.name`) and what
// is wrong with it.
type FieldViolation struct {
	Field       string
	Description string
}

func (v FieldViolation) String() string {
	if v.Field == "" {
		return v.Description
	}
	return v.Field + ": " + v.Description
}

// Error is an expected failure; its message is safe to show the caller.
type Error struct {
	Kind       Kind
	Message    string
	Violations []FieldViolation // set for InvalidArgument
}

func (e *Error) Error() string { return e.Message }

// New is an error of kind with a formatted message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid is an InvalidArgument naming at least one field.
func Invalid(field, description string, more ...FieldViolation) *Error {
	violations := append([]FieldViolation{{Field: field, Description: description}}, more...)
	texts := make([]string, len(violations))
	for i, v := range violations {
		texts[i] = v.String()
	}
	return &Error{Kind: InvalidArgument, Message: strings.Join(texts, "; "), Violations: violations}
}

// Code is the gRPC code of a kind; FAILED_PRECONDITION for an unknown one, the generic
// "you cannot do this now", as in mesh/errors.py.
func Code(kind Kind) codes.Code {
	if code, ok := codeOf[kind]; ok {
		return code
	}
	return codes.FailedPrecondition
}

// Status is the rich status for err when it is (or wraps) an *Error, with a BadRequest
// detail for InvalidArgument; ok is false for any other error.
func Status(err error) (st *status.Status, ok bool) {
	domain, ok := errors.AsType[*Error](err)
	if !ok {
		return nil, false
	}
	st = status.New(Code(domain.Kind), domain.Message)
	if domain.Kind != InvalidArgument || len(domain.Violations) == 0 {
		return st, true
	}
	badRequest := &errdetails.BadRequest{}
	for _, v := range domain.Violations {
		badRequest.FieldViolations = append(badRequest.FieldViolations,
			&errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
	}
	if detailed, err := st.WithDetails(badRequest); err == nil {
		st = detailed
	}
	return st, true
}

// Internal is the status for a bug: a generic message (the details go to the log only)
// with the trace id, so an operator can find that log line.
func Internal(traceID string) *status.Status {
	if traceID == "" {
		return status.New(codes.Internal, "internal error")
	}
	return status.New(codes.Internal, fmt.Sprintf("internal error (trace_id %s)", traceID))
}
