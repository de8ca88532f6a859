"""Every error path of VideoCommandService over gRPC, with the real database behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
from vidmesh.video.v1 import video_command_service_pb2 as pb

from tests.integration.video_command.support import (
    DEADLINE_S,
    bad_fields,
    create,
    create_published,
    fails_with,
    new_id,
)

if TYPE_CHECKING:  # the async stub class exists in the type stubs only
    from vidmesh.video.v1.video_command_service_pb2_grpc import VideoCommandServiceAsyncStub as Stub


async def test_too_long_title_is_invalid_argument_naming_title(stub: Stub) -> None:
    request = pb.CreateVideoRequest(request_id=new_id(), actor_id=new_id(), title="x" * 201, duration_seconds=60)
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.CreateVideo(request, timeout=DEADLINE_S))
    assert bad_fields(error) == ["title"]


async def test_update_with_nothing_to_change_is_invalid_argument(stub: Stub) -> None:
    owner = new_id()
    created = await create(stub, owner)
    request = pb.UpdateVideoRequest(request_id=new_id(), actor_id=owner, video_id=created.video_id, expected_version=1)
    await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.UpdateVideo(request, timeout=DEADLINE_S))


async def test_comment_too_long_is_invalid_argument_naming_body(stub: Stub) -> None:
    video_id, _ = await create_published(stub, new_id())
    request = pb.AddCommentRequest(request_id=new_id(), actor_id=new_id(), video_id=video_id, body="x" * 2001)
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.AddComment(request, timeout=DEADLINE_S))
    assert bad_fields(error) == ["body"]


async def test_update_publish_delete_by_someone_else_are_permission_denied(stub: Stub) -> None:
    created, stranger = await create(stub, new_id()), new_id()
    video_id = created.video_id
    update = pb.UpdateVideoRequest(request_id=new_id(), actor_id=stranger, video_id=video_id, expected_version=1,
                                   title="Mine")
    publish = pb.PublishVideoRequest(request_id=new_id(), actor_id=stranger, video_id=video_id)
    delete = pb.DeleteVideoRequest(request_id=new_id(), actor_id=stranger, video_id=video_id)
    await fails_with(grpc.StatusCode.PERMISSION_DENIED, stub.UpdateVideo(update, timeout=DEADLINE_S))
    await fails_with(grpc.StatusCode.PERMISSION_DENIED, stub.PublishVideo(publish, timeout=DEADLINE_S))
    await fails_with(grpc.StatusCode.PERMISSION_DENIED, stub.DeleteVideo(delete, timeout=DEADLINE_S))


async def test_every_command_on_an_unknown_video_is_not_found(stub: Stub) -> None:
    actor, video_id = new_id(), new_id()
    common: dict[str, Any] = {"actor_id": actor, "video_id": video_id}
    calls = [
        stub.UpdateVideo(pb.UpdateVideoRequest(request_id=new_id(), expected_version=1, title="t", **common),
                         timeout=DEADLINE_S),
        stub.PublishVideo(pb.PublishVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.DeleteVideo(pb.DeleteVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.LikeVideo(pb.LikeVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.UnlikeVideo(pb.UnlikeVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.RecordView(pb.RecordViewRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.AddComment(pb.AddCommentRequest(request_id=new_id(), body="hi", **common), timeout=DEADLINE_S),
    ]
    for call in calls:
        await fails_with(grpc.StatusCode.NOT_FOUND, call)


async def test_a_deleted_video_is_not_found_for_further_commands(stub: Stub) -> None:
    owner = new_id()
    video_id, version = await create_published(stub, owner)
    deleted = await stub.DeleteVideo(pb.DeleteVideoRequest(request_id=new_id(), actor_id=owner, video_id=video_id),
                                     timeout=DEADLINE_S)
    assert deleted.version == version + 1
    common: dict[str, Any] = {"actor_id": owner, "video_id": video_id}
    for call in [
        stub.UpdateVideo(pb.UpdateVideoRequest(request_id=new_id(), expected_version=deleted.version, title="t",
                                               **common), timeout=DEADLINE_S),
        stub.PublishVideo(pb.PublishVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.LikeVideo(pb.LikeVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.RecordView(pb.RecordViewRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.AddComment(pb.AddCommentRequest(request_id=new_id(), body="hi", **common), timeout=DEADLINE_S),
    ]:
        await fails_with(grpc.StatusCode.NOT_FOUND, call)
    again = await stub.DeleteVideo(pb.DeleteVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S)
    assert again.version == deleted.version  # deleting a deleted video changes nothing


async def test_update_with_a_stale_version_is_aborted(stub: Stub) -> None:
    owner = new_id()
    video_id, version = await create_published(stub, owner)
    stale = pb.UpdateVideoRequest(request_id=new_id(), actor_id=owner, video_id=video_id,
                                  expected_version=version - 1, title="Late")
    await fails_with(grpc.StatusCode.ABORTED, stub.UpdateVideo(stale, timeout=DEADLINE_S))


async def test_publish_and_delete_with_a_stale_version_are_aborted(stub: Stub) -> None:
    owner = new_id()
    created = await create(stub, owner)
    await stub.UpdateVideo(pb.UpdateVideoRequest(request_id=new_id(), actor_id=owner, video_id=created.video_id,
                                                 expected_version=1, title="v2"), timeout=DEADLINE_S)
    common: dict[str, Any] = {"actor_id": owner, "video_id": created.video_id, "expected_version": 1}
    await fails_with(grpc.StatusCode.ABORTED,
                     stub.PublishVideo(pb.PublishVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S))
    await fails_with(grpc.StatusCode.ABORTED,
                     stub.DeleteVideo(pb.DeleteVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S))


async def test_like_view_and_comment_on_a_draft_are_failed_precondition(stub: Stub) -> None:
    created, fan = await create(stub, new_id()), new_id()
    common: dict[str, Any] = {"actor_id": fan, "video_id": created.video_id}
    for call in [
        stub.LikeVideo(pb.LikeVideoRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.RecordView(pb.RecordViewRequest(request_id=new_id(), **common), timeout=DEADLINE_S),
        stub.AddComment(pb.AddCommentRequest(request_id=new_id(), body="hi", **common), timeout=DEADLINE_S),
    ]:
        await fails_with(grpc.StatusCode.FAILED_PRECONDITION, call)


async def test_request_id_reused_for_another_command_is_invalid_argument(stub: Stub) -> None:
    video_id, _ = await create_published(stub, new_id())
    fan, request_id = new_id(), new_id()
    await stub.LikeVideo(pb.LikeVideoRequest(request_id=request_id, actor_id=fan, video_id=video_id),
                         timeout=DEADLINE_S)
    unlike = pb.UnlikeVideoRequest(request_id=request_id, actor_id=fan, video_id=video_id)
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.UnlikeVideo(unlike, timeout=DEADLINE_S))
    assert bad_fields(error) == ["request_id"]
