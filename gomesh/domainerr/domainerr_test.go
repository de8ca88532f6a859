package domainerr

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

func TestEachKindHasMeshErrorsCode(t *testing.T) {
	want := map[Kind]codes.Code{NotFound: codes.NotFound, AlreadyExists: codes.AlreadyExists,
		PermissionDenied: codes.PermissionDenied, Unauthenticated: codes.Unauthenticated, Conflict: codes.Aborted,
		InvalidArgument: codes.InvalidArgument, FailedPrecondition: codes.FailedPrecondition,
		ResourceExhausted: codes.ResourceExhausted, Unavailable: codes.Unavailable, Kind(99): codes.FailedPrecondition}
	for kind, code := range want {
		if got := Code(kind); got != code {
			t.Errorf("Code(%d) = %v, want %v", kind, got, code)
		}
	}
}

func TestInvalidArgumentCarriesABadRequestNamingEachField(t *testing.T) {
	err := fmt.Errorf("handler: %w", Invalid("video_id", "must be a UUID", FieldViolation{"page_size", "at most 50"}))
	st, ok := Status(err)
	if !ok || st.Code() != codes.InvalidArgument || st.Message() != "video_id: must be a UUID; page_size: at most 50" {
		t.Fatalf("Status = %v, %v", st, ok)
	}
	details := st.Details()
	badRequest, isBadRequest := details[0].(*errdetails.BadRequest)
	if len(details) != 1 || !isBadRequest || len(badRequest.GetFieldViolations()) != 2 ||
		badRequest.GetFieldViolations()[1].GetField() != "page_size" {
		t.Errorf("details = %v, want a BadRequest naming video_id and page_size", details)
	}
}

func TestOtherErrorsAreNotDomainErrors(t *testing.T) {
	if _, ok := Status(errors.New("boom")); ok {
		t.Error("a plain error was taken for a domain error")
	}
	if got := Internal("abc").Message(); got != "internal error (trace_id abc)" {
		t.Errorf("Internal message = %q", got)
	}
}
