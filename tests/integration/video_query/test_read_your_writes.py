"""Read-your-writes (min_version), page tokens and request errors of VideoQueryService."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import grpc
import pytest
from vidmesh.video.v1 import video_query_service_pb2 as pb

from tests.integration.video_query import events as ev
from tests.integration.video_query.conftest import Feed, Instance, Publisher, bad_fields, eventually, new_id


async def test_a_tampered_page_token_is_invalid_argument_naming_page_token(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    owner = new_id()
    for _ in range(2):
        video_id = new_id()
        publisher.video(feed.video_topic, ev.created(video_id, owner),
                        ev.published(video_id, owner))
        await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
    page = await instance.stub.ListChannelVideos(pb.ListChannelVideosRequest(channel_id=owner, page_size=1),
                                                 timeout=5)
    token = page.next_page_token
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    calls: list[Awaitable[object]] = [
        instance.stub.ListChannelVideos(pb.ListChannelVideosRequest(channel_id=owner, page_token=tampered)),
        instance.stub.ListChannelVideos(pb.ListChannelVideosRequest(channel_id=new_id(), page_token=token)),
        instance.stub.Trending(pb.TrendingRequest(page_token=token)),
        instance.stub.ListVideos(pb.ListVideosRequest(page_token="' OR 1=1 --")),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_fields(caught.value) == ["page_token"]


async def test_min_version_waits_for_the_projection_then_answers(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner = new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner))
    await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
    asking = asyncio.ensure_future(
        instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=3), timeout=5))
    await eventually(lambda: asyncio.sleep(0, instance.parts.waiter.waiting(video_id)), lambda n: n == 1, timeout=5,
                     interval=0.01)
    publisher.video(feed.video_topic, ev.updated(video_id, owner, 3, "my own write"))
    got = await asking
    assert (got.video.version, got.video.title, got.stale) == (3, "my own write", False)


async def test_min_version_of_a_deleted_video_is_not_found_at_once(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    # The projection has seen the deletion: nothing to wait for, and not "still on its way".
    video_id, owner = new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner))
    await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
    publisher.video(feed.video_topic, ev.deleted(video_id, owner, 3))
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=3), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == f"video {video_id} not found"
    assert time.monotonic() - started < 1.0  # well inside the 2 s wait: the deletion's version was seen


async def test_min_version_out_of_reach_answers_stale_before_the_deadline(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner = new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner))
    await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
    started = time.monotonic()
    got = await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=99), timeout=1.0)
    assert got.stale and got.video.version == 2 and time.monotonic() - started < 1.0
    comments = await instance.stub.ListComments(pb.ListCommentsRequest(video_id=video_id, min_version=99),
                                                timeout=1.0)
    assert comments.stale


async def test_an_unseen_video_is_not_found_with_min_version_after_the_wait_and_without(instance: Instance) -> None:
    # A made-up id with min_version (what a fuzzer sends) must not look like a server away (503).
    for request, says in ((pb.GetVideoRequest(video_id=new_id(), min_version=1), "after waiting for version 1"),
                          (pb.GetVideoRequest(video_id=new_id()), "not found")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await instance.stub.GetVideo(request, timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND and says in (caught.value.details() or "")


async def test_comments_come_oldest_first_with_author_names_page_by_page(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner, author = new_id(), new_id(), new_id()
    publisher.register(feed.users_topic, author, "Ada")
    comments = [ev.commented(video_id, owner, 3 + n, new_id(), author, f"comment {n}", n + 1, at=n) for n in range(3)]
    publisher.video(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner),
                    *comments)
    first = await instance.stub.ListComments(
        pb.ListCommentsRequest(video_id=video_id, min_version=5, page_size=2), timeout=5)
    second = await instance.stub.ListComments(
        pb.ListCommentsRequest(video_id=video_id, page_size=2, page_token=first.next_page_token), timeout=5)
    assert [c.body for c in [*first.comments, *second.comments]] == ["comment 0", "comment 1", "comment 2"]
    assert not first.stale and second.next_page_token == ""
    named = await eventually(lambda: instance.stub.ListComments(pb.ListCommentsRequest(video_id=video_id), timeout=5),
                             lambda got: got.comments[0].author_display_name == "Ada")
    assert named.comments[0].author_id == author


async def test_a_video_without_comments_lists_none_and_an_unknown_one_is_not_found(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    # One read answers both (the video shown or not, and its page): each way is checked here.
    video_id, owner = new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner))
    empty = await instance.stub.ListComments(pb.ListCommentsRequest(video_id=video_id, min_version=2), timeout=5)
    assert list(empty.comments) == [] and empty.next_page_token == "" and not empty.stale
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await instance.stub.ListComments(pb.ListCommentsRequest(video_id=new_id()), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_malformed_request_is_invalid_argument(instance: Instance) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await instance.stub.GetVideo(pb.GetVideoRequest(video_id="not-a-uuid"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(caught.value) == ["video_id"]
