"""Both BFFs over the real domain services, found through xDS: writes as the x-user-id user,
read-your-writes with min_version, and downstream errors reaching the client as codes."""

from __future__ import annotations

import uuid

import grpc
import grpc.aio
import pytest
from google.rpc import error_details_pb2, status_pb2
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.webbff.v1 import web_bff_service_pb2 as web

from tests.integration.bff.helpers import CALL_TIMEOUT_S as T
from tests.integration.bff.helpers import as_user, eventually, register
from tests.integration.bff.support import Stubs

PROJECTION_TIMEOUT_S = 20.0


async def publish(clients: Stubs, owner: str, title: str) -> tuple[str, int]:
    """A published video of `owner`; its id and version after publishing."""
    created = await clients.web.CreateVideo(web.CreateVideoRequest(
        title=title, description="Flour and eggs", duration_seconds=90, tags=["food"]),
        metadata=as_user(owner), timeout=T)
    published = await clients.web.PublishVideo(web.PublishVideoRequest(video_id=created.video_id),
                                               metadata=as_user(owner), timeout=T)
    assert published.version > created.version
    return created.video_id, published.version


async def test_published_video_is_read_back_with_min_version(bff: Stubs) -> None:
    alice, bob = await register(bff, "Alice"), await register(bff, "Bob")
    followed = await bff.web.FollowChannel(web.FollowChannelRequest(user_id=alice), metadata=as_user(bob), timeout=T)
    assert followed.follower_count == 1
    title = f"Pasta {uuid.uuid4().hex[:6]}"
    video_id, version = await publish(bff, alice, title)

    page = await bff.web.GetVideoPage(web.GetVideoPageRequest(video_id=video_id, min_version=version),
                                      metadata=as_user(bob), timeout=T)
    assert (page.video.card.title, page.video.card.published, page.stale) == (title, True, False)
    assert page.video.version >= version
    assert (page.uploader.user_id, page.uploader.display_name, page.uploader.follower_count) == (alice, "Alice", 1)
    assert (page.viewer.signed_in, page.viewer.following, page.viewer.owner) == (True, True, False)
    assert list(page.degraded) == []

    compact = await bff.mobile.GetVideo(mobile.GetVideoRequest(video_id=video_id, min_version=version), timeout=T)
    assert (compact.video.title, compact.video.duration_seconds, compact.liked) == (title, 90, False)
    feed = await bff.mobile.GetFeed(mobile.GetFeedRequest(page_size=100), timeout=T)
    assert video_id in [video.video_id for video in feed.videos]

    async def on_bobs_home() -> bool:
        home = await bff.web.GetHome(web.GetHomeRequest(page_size=50), metadata=as_user(bob), timeout=T)
        assert home.signed_in and list(home.degraded) == []
        return video_id in [card.video_id for card in home.following]

    await eventually(on_bobs_home, PROJECTION_TIMEOUT_S)  # video-query learns the follow from users' events


async def test_likes_and_comments_are_read_back_by_their_author(bff: Stubs) -> None:
    alice, bob = await register(bff, "Alice"), await register(bff, "Bob")
    video_id, _ = await publish(bff, alice, "Soup")
    liked = await bff.web.LikeVideo(web.LikeVideoRequest(video_id=video_id), metadata=as_user(bob), timeout=T)
    page = await bff.web.GetVideoPage(web.GetVideoPageRequest(video_id=video_id, min_version=liked.version),
                                      metadata=as_user(bob), timeout=T)
    assert (page.viewer.liked, page.video.card.like_count, page.stale) == (True, 1, False)

    added = await bff.web.AddComment(web.AddCommentRequest(video_id=video_id, body="Lovely"),
                                     metadata=as_user(bob), timeout=T)
    page = await bff.web.GetVideoPage(web.GetVideoPageRequest(video_id=video_id, min_version=added.version), timeout=T)
    assert [(c.comment_id, c.author_id, c.body) for c in page.comments] == [(added.comment_id, bob, "Lovely")]

    phone_like = await bff.mobile.LikeVideo(mobile.LikeVideoRequest(video_id=video_id), metadata=as_user(alice),
                                            timeout=T)
    compact = await bff.mobile.GetVideo(mobile.GetVideoRequest(video_id=video_id, min_version=phone_like.version),
                                        metadata=as_user(alice), timeout=T)
    assert (compact.liked, compact.like_count) == (True, 2)


async def test_comments_beyond_the_page_are_read_page_by_page(bff: Stubs) -> None:
    alice = await register(bff, "Alice")
    video_id, _ = await publish(bff, alice, "Bread")
    version = 0
    for number in range(23):  # more than the page's 20
        added = await bff.web.AddComment(web.AddCommentRequest(video_id=video_id, body=f"Comment {number}"),
                                         metadata=as_user(alice), timeout=T)
        version = added.version
    page = await bff.web.GetVideoPage(web.GetVideoPageRequest(video_id=video_id, min_version=version), timeout=T)
    assert len(page.comments) == 20 and page.comments_next_page_token
    rest = await bff.web.ListComments(web.ListCommentsRequest(
        video_id=video_id, page_size=2, page_token=page.comments_next_page_token), timeout=T)
    last = await bff.web.ListComments(web.ListCommentsRequest(
        video_id=video_id, page_token=rest.next_page_token), timeout=T)
    bodies = [c.body for c in [*page.comments, *rest.comments, *last.comments]]
    assert bodies == [f"Comment {number}" for number in range(23)]
    assert last.next_page_token == ""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bff.web.ListComments(web.ListCommentsRequest(video_id=video_id, page_token="not-a-token"), timeout=T)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_channel_owner_sees_drafts_others_do_not(bff: Stubs) -> None:
    alice, bob = await register(bff, "Alice"), await register(bff, "Bob")
    draft = await bff.web.CreateVideo(web.CreateVideoRequest(title="Draft", duration_seconds=5),
                                      metadata=as_user(alice), timeout=T)
    # Wait for the projection through the owner's own read, then look at the channel.
    await bff.web.GetVideoPage(web.GetVideoPageRequest(video_id=draft.video_id, min_version=draft.version),
                               metadata=as_user(alice), timeout=T)
    as_owner = await bff.web.GetChannel(web.GetChannelRequest(user_id=alice), metadata=as_user(alice), timeout=T)
    as_other = await bff.web.GetChannel(web.GetChannelRequest(user_id=alice), metadata=as_user(bob), timeout=T)
    assert [card.video_id for card in as_owner.videos] == [draft.video_id]
    assert list(as_other.videos) == [] and as_other.channel.display_name == "Alice"


async def expect(code: grpc.StatusCode, call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    assert raised.value.code() == code, raised.value.details()
    return raised.value


async def test_downstream_errors_reach_the_client_as_their_codes(bff: Stubs) -> None:
    alice, bob = await register(bff, "Alice"), await register(bff, "Bob")
    draft = await bff.web.CreateVideo(web.CreateVideoRequest(title="Mine", duration_seconds=5),
                                      metadata=as_user(alice), timeout=T)
    await expect(grpc.StatusCode.UNAUTHENTICATED, bff.web.CreateVideo(
        web.CreateVideoRequest(title="Nobody's", duration_seconds=5), timeout=T))
    await expect(grpc.StatusCode.NOT_FOUND, bff.web.GetVideoPage(
        web.GetVideoPageRequest(video_id=str(uuid.uuid4())), timeout=T))
    await expect(grpc.StatusCode.PERMISSION_DENIED, bff.web.PublishVideo(
        web.PublishVideoRequest(video_id=draft.video_id), metadata=as_user(bob), timeout=T))
    await expect(grpc.StatusCode.ABORTED, bff.web.PublishVideo(
        web.PublishVideoRequest(video_id=draft.video_id, expected_version=draft.version + 5),
        metadata=as_user(alice), timeout=T))
    refused = await expect(grpc.StatusCode.INVALID_ARGUMENT, bff.web.FollowChannel(
        web.FollowChannelRequest(user_id=alice), metadata=as_user(alice), timeout=T))
    status = status_pb2.Status.FromString(dict(refused.trailing_metadata() or ())["grpc-status-details-bin"])
    bad_request = error_details_pb2.BadRequest()
    assert status.details and status.details[0].Unpack(bad_request) and bad_request.field_violations


async def test_a_request_id_replayed_through_the_bff_gets_the_first_answer_or_names_request_id(bff: Stubs) -> None:
    alice, request_id = await register(bff, "Alice"), str(uuid.uuid4())
    first = await bff.web.CreateVideo(web.CreateVideoRequest(request_id=request_id, title="Once", duration_seconds=5),
                                      metadata=as_user(alice), timeout=T)
    again = await bff.web.CreateVideo(web.CreateVideoRequest(request_id=request_id, title="Once", duration_seconds=5),
                                      metadata=as_user(alice), timeout=T)
    assert (again.video_id, again.version) == (first.video_id, first.version)
    reused = await expect(grpc.StatusCode.INVALID_ARGUMENT, bff.web.CreateVideo(
        web.CreateVideoRequest(request_id=request_id, title="Twice", duration_seconds=5),
        metadata=as_user(alice), timeout=T))
    status = status_pb2.Status.FromString(dict(reused.trailing_metadata() or ())["grpc-status-details-bin"])
    bad_request = error_details_pb2.BadRequest()
    assert status.details and status.details[0].Unpack(bad_request)
    assert [violation.field for violation in bad_request.field_violations] == ["request_id"]
