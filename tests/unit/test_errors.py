"""mesh.errors: the one table from domain errors to gRPC codes, and rich statuses."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from mesh import errors


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFound("no video v1"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("email taken"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.PermissionDenied("not the owner"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.Unauthenticated("bad password"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.Conflict("version 3 expected, found 4"), grpc.StatusCode.ABORTED),
        (errors.InvalidArgument("title", "must not be empty"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.FailedPrecondition("video not published"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.ResourceExhausted("too many requests"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unavailable("database down"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_each_domain_error_has_its_code(error: errors.DomainError, code: grpc.StatusCode) -> None:
    status = errors.to_grpc_status(error)
    assert status.code == code
    assert status.details == error.message
    rich = _rich(status)
    assert (rich.code, rich.message) == (code.value[0], error.message)


def test_a_service_subclass_keeps_its_base_code() -> None:
    class VideoNotFound(errors.NotFound):
        pass

    assert errors.status_code(VideoNotFound("no video v1")) == grpc.StatusCode.NOT_FOUND


def test_invalid_argument_carries_a_bad_request_naming_each_field() -> None:
    error = errors.InvalidArgument.of(
        [errors.FieldViolation("title", "must not be empty"), errors.FieldViolation("tags[2]", "too long")]
    )
    rich = _rich(errors.to_grpc_status(error))
    assert rich.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert rich.message == "title: must not be empty; tags[2]: too long"
    bad_request = error_details_pb2.BadRequest()
    assert rich.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("title", "must not be empty"),
        ("tags[2]", "too long"),
    ]


def test_other_errors_carry_no_details() -> None:
    assert list(_rich(errors.to_grpc_status(errors.NotFound("x"))).details) == []


def test_internal_status_says_nothing_but_the_trace_id() -> None:
    status = errors.internal_status("4bf92f3577b34da6a3ce929d0e0e4736")
    assert status.code == grpc.StatusCode.INTERNAL
    assert status.details == "internal error (trace_id 4bf92f3577b34da6a3ce929d0e0e4736)"


def _rich(status: grpc.Status) -> status_pb2.Status:
    [(key, value)] = status.trailing_metadata
    assert key == "grpc-status-details-bin"
    assert isinstance(value, bytes)
    return status_pb2.Status.FromString(value)
