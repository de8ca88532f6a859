"""The one downstream-error mapping: core calls fail the answer with the right code, optional
parts degrade it, a client's wrong input is never hidden."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from bff.common.failures import Degraded, DownstreamError, core, optional, translate
from mesh import errors


async def failing(code: grpc.StatusCode, message: str = "boom", status: status_pb2.Status | None = None) -> Any:
    raise DownstreamError("video-query", code, message, status)


def bad_request(*violations: tuple[str, str]) -> status_pb2.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field=name, description=text) for name, text in violations]))
    return status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="bad", details=[detail])


async def test_core_answer_is_returned() -> None:
    async def answer() -> str:
        return "video"

    assert await core("the video", answer()) == "video"


async def test_core_not_found_is_not_found_with_the_downstream_message() -> None:
    with pytest.raises(errors.NotFound, match="video 42 not found"):
        await core("the video", failing(grpc.StatusCode.NOT_FOUND, "video 42 not found"))


async def test_core_invalid_argument_keeps_every_field_violation() -> None:
    status = bad_request(("page_token", "not issued by this service"), ("query", "too long"))
    with pytest.raises(errors.InvalidArgument) as raised:
        await core("search", failing(grpc.StatusCode.INVALID_ARGUMENT, "bad", status))
    assert [(v.field, v.description) for v in raised.value.violations] == [
        ("page_token", "not issued by this service"), ("query", "too long")]
    # mesh's interceptor sends them on as the BadRequest of the BFF's own status.
    sent = errors.to_rpc_status(raised.value)
    assert sent.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert sent.details[0].Is(error_details_pb2.BadRequest.DESCRIPTOR)  # type: ignore[arg-type]


async def test_core_invalid_argument_without_details_keeps_its_message() -> None:
    with pytest.raises(errors.InvalidArgument, match="neither ids nor all"):
        await core("notifications", failing(grpc.StatusCode.INVALID_ARGUMENT, "neither ids nor all"))


@pytest.mark.parametrize(("code", "expected"), [
    (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.PERMISSION_DENIED),
    (grpc.StatusCode.ABORTED, grpc.StatusCode.ABORTED),
    (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ALREADY_EXISTS),
    (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.FAILED_PRECONDITION),
    (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAUTHENTICATED),
])
async def test_core_client_errors_pass_through_with_their_code(code: grpc.StatusCode,
                                                               expected: grpc.StatusCode) -> None:
    with pytest.raises(errors.DomainError) as raised:
        await core("video writes", failing(code, "not yours"))
    assert errors.status_code(raised.value) == expected
    assert raised.value.message == "not yours"


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                  grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED])
async def test_core_outage_is_unavailable_naming_the_part_and_service(code: grpc.StatusCode) -> None:
    with pytest.raises(errors.Unavailable) as raised:
        await core("trending videos", failing(code, "connection refused to 10.0.0.7"))
    assert raised.value.message == (
        f"trending videos: unavailable right now (video-query answered {code.name}); retry later")


async def test_core_bug_downstream_stays_a_bug() -> None:
    error = DownstreamError("users", grpc.StatusCode.INTERNAL, "internal error")
    assert translate(error, "the channel") is error  # not a DomainError: the interceptor answers INTERNAL


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                  grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INTERNAL])
async def test_optional_failure_is_none_and_named_degraded(code: grpc.StatusCode) -> None:
    degraded = Degraded()
    assert await optional("uploader", failing(code), degraded) is None
    assert degraded.names == ["uploader"]


async def test_optional_wrong_client_input_still_fails_the_answer() -> None:
    degraded = Degraded()
    with pytest.raises(errors.InvalidArgument):
        await optional("videos", failing(grpc.StatusCode.INVALID_ARGUMENT, "bad page_token"), degraded)
    assert degraded.names == []


def test_degraded_names_are_sorted_and_unique() -> None:
    degraded = Degraded()
    for part in ("viewer", "uploader", "viewer"):
        degraded.add(part)
    assert degraded.names == ["uploader", "viewer"]
