"""Small helpers for calling video-command in tests."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
import pytest
from google.rpc import error_details_pb2, status_pb2
from vidmesh.video.v1 import video_command_service_pb2 as pb

DEADLINE_S = 10.0

if TYPE_CHECKING:  # the async stub class exists in the type stubs only
    from vidmesh.video.v1.video_command_service_pb2_grpc import VideoCommandServiceAsyncStub as Stub


def new_id() -> str:
    return str(uuid.uuid4())


async def create(stub: Stub, owner: str, **fields: Any) -> pb.CreateVideoResponse:
    request = pb.CreateVideoRequest(request_id=new_id(), actor_id=owner, title="Cats", duration_seconds=60, **fields)
    return await stub.CreateVideo(request, timeout=DEADLINE_S)


async def create_published(stub: Stub, owner: str) -> tuple[str, int]:
    """A published video's id and version."""
    created = await create(stub, owner)
    published = await stub.PublishVideo(pb.PublishVideoRequest(
        request_id=new_id(), actor_id=owner, video_id=created.video_id), timeout=DEADLINE_S)
    return created.video_id, published.version


async def fails_with(code: grpc.StatusCode, call: Any) -> grpc.aio.AioRpcError:
    """Await the call and check it fails with `code`; the error, for more checks."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == code, raised.value.details()
    return raised.value


def bad_fields(error: grpc.aio.AioRpcError) -> list[str]:
    """The field names of the BadRequest detail of an INVALID_ARGUMENT."""
    status = status_pb2.Status.FromString(dict(error.trailing_metadata() or ())["grpc-status-details-bin"])
    fields: list[str] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            fields.extend(v.field for v in bad_request.field_violations)
    return fields
