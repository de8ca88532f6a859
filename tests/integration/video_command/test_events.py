"""Each change's event reaches video.v1.events once, in order, with the new version."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vidmesh.video.v1 import events_pb2 as ev
from vidmesh.video.v1 import video_command_service_pb2 as pb

from mesh import events
from tests.integration.video_command.conftest import TopicTail, published_events
from tests.integration.video_command.support import DEADLINE_S, new_id

if TYPE_CHECKING:  # the async stub class exists in the type stubs only
    from vidmesh.video.v1.video_command_service_pb2_grpc import VideoCommandServiceAsyncStub as Stub


async def test_replayed_request_id_returns_the_first_result_and_writes_one_event(
        stub: Stub, topic_tail: TopicTail, video_dsn: str) -> None:
    request = pb.CreateVideoRequest(request_id=new_id(), actor_id=new_id(), title="Once", duration_seconds=5)
    first = await stub.CreateVideo(request, timeout=DEADLINE_S)
    again = await stub.CreateVideo(request, timeout=DEADLINE_S)
    assert again == first
    like_id, fan = new_id(), new_id()
    await stub.PublishVideo(pb.PublishVideoRequest(request_id=new_id(), actor_id=request.actor_id,
                                                   video_id=first.video_id), timeout=DEADLINE_S)
    like = pb.LikeVideoRequest(request_id=like_id, actor_id=fan, video_id=first.video_id)
    liked = [await stub.LikeVideo(like, timeout=DEADLINE_S) for _ in range(3)]
    assert liked == [liked[0]] * 3 and liked[0].like_count == 1
    found = await published_events(topic_tail, video_dsn, {first.video_id})
    assert [env.type for env in found] == [events.type_name(ev.VideoCreated), events.type_name(ev.VideoPublished),
                                           events.type_name(ev.VideoLiked)]


async def test_every_change_is_published_once_with_its_new_version(
        stub: Stub, topic_tail: TopicTail, video_dsn: str) -> None:
    owner, fan = new_id(), new_id()
    steps = await _life_of_a_video(stub, owner, fan)
    video_id = steps["video_id"]
    found = await published_events(topic_tail, video_dsn, {video_id})
    payloads = [events.payload(env) for env in found]
    assert [type(p).__name__ for p in payloads] == [
        "VideoCreated", "VideoUpdated", "VideoPublished", "VideoLiked", "VideoViewed", "CommentAdded",
        "VideoUnliked", "VideoDeleted"]
    assert [env.aggregate_version for env in found] == list(range(1, 9))
    assert [p.version for p in payloads] == list(range(1, 9))  # type: ignore[attr-defined]
    assert len({env.id for env in found}) == len(found)
    created, updated, _, liked, viewed, commented, unliked, _ = payloads
    assert isinstance(created, ev.VideoCreated) and created.owner_id == owner and list(created.tags) == ["cats"]
    assert isinstance(updated, ev.VideoUpdated) and (updated.title, updated.description) == ("Dogs", "about dogs")
    assert isinstance(liked, ev.VideoLiked) and (liked.user_id, liked.like_count, liked.title) == (fan, 1, "Dogs")
    assert isinstance(viewed, ev.VideoViewed) and (viewed.viewer_id, viewed.view_count) == ("", 1)
    assert isinstance(commented, ev.CommentAdded) and commented.comment_id == steps["comment_id"]
    assert (commented.body, commented.comment_count, commented.author_id) == ("nice", 1, fan)
    assert isinstance(unliked, ev.VideoUnliked) and unliked.like_count == 0


async def _life_of_a_video(stub: Stub, owner: str, fan: str) -> dict[str, Any]:
    """Every command once, with no-op repeats in between that must publish nothing."""
    created = await stub.CreateVideo(pb.CreateVideoRequest(
        request_id=new_id(), actor_id=owner, title="Cats", duration_seconds=60, tags=["cats"]), timeout=DEADLINE_S)
    mine: dict[str, Any] = {"actor_id": owner, "video_id": created.video_id}
    theirs: dict[str, Any] = {"actor_id": fan, "video_id": created.video_id}
    steps: list[Callable[[], Any]] = [  # started one at a time, in this order
        lambda: stub.UpdateVideo(pb.UpdateVideoRequest(request_id=new_id(), expected_version=1, title="Dogs",
                                                       description="about dogs", **mine), timeout=DEADLINE_S),
        lambda: stub.PublishVideo(pb.PublishVideoRequest(request_id=new_id(), expected_version=2, **mine),
                                  timeout=DEADLINE_S),
        lambda: stub.PublishVideo(pb.PublishVideoRequest(request_id=new_id(), **mine), timeout=DEADLINE_S),
        lambda: stub.LikeVideo(pb.LikeVideoRequest(request_id=new_id(), **theirs), timeout=DEADLINE_S),
        lambda: stub.LikeVideo(pb.LikeVideoRequest(request_id=new_id(), **theirs), timeout=DEADLINE_S),
        lambda: stub.RecordView(pb.RecordViewRequest(request_id=new_id(), video_id=created.video_id),
                                timeout=DEADLINE_S),
        lambda: stub.AddComment(pb.AddCommentRequest(request_id=new_id(), body="nice", **theirs), timeout=DEADLINE_S),
        lambda: stub.UnlikeVideo(pb.UnlikeVideoRequest(request_id=new_id(), **theirs), timeout=DEADLINE_S),
        lambda: stub.UnlikeVideo(pb.UnlikeVideoRequest(request_id=new_id(), **theirs), timeout=DEADLINE_S),
        lambda: stub.DeleteVideo(pb.DeleteVideoRequest(request_id=new_id(), **mine), timeout=DEADLINE_S),
        lambda: stub.DeleteVideo(pb.DeleteVideoRequest(request_id=new_id(), **mine), timeout=DEADLINE_S),
    ]
    versions = []
    comment_id = ""
    for step in steps:
        reply = await step()
        versions.append(reply.version)
        comment_id = getattr(reply, "comment_id", "") or comment_id
    assert versions == [2, 3, 3, 4, 4, 5, 6, 7, 7, 8, 8]
    return {"video_id": created.video_id, "comment_id": comment_id}
