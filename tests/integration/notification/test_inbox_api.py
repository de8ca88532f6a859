"""NotificationService over gRPC: paging, filters and every INVALID_ARGUMENT the contract names."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest
from vidmesh.notification.v1 import notification_pb2
from vidmesh.notification.v1 import notification_service_pb2 as pb
from vidmesh.users.v1.events_pb2 import UserFollowed
from vidmesh.video.v1.events_pb2 import VideoPublished

from mesh.topology import USERS_EVENTS, VIDEO_EVENTS
from tests.integration.notification.conftest import Pair
from tests.integration.notification.support import bad_request_fields, envelope, new_id, produce, wait_until

VIDEOS = 5


@pytest.fixture(scope="module")
async def fan(pair: Pair) -> str:
    """A user with VIDEOS notifications (one per published video of the channel they follow)."""
    channel, user = new_id(), new_id()
    followed = envelope(UserFollowed(follower_id=user, channel_id=channel, follower_count=1), channel)
    await asyncio.to_thread(produce, pair.bootstrap, pair.topic(USERS_EVENTS), [followed])
    assert pair.inbox is not None
    inbox = pair.inbox

    async def new_follower_seen() -> int:
        return len((await inbox.ListNotifications(pb.ListNotificationsRequest(user_id=channel), timeout=5))
                   .notifications)
    await wait_until(new_follower_seen, "the follow")
    videos = [new_id() for _ in range(VIDEOS)]
    published = [envelope(VideoPublished(video_id=v, owner_id=channel, version=2, title=f"v{i}"), v)
                 for i, v in enumerate(videos)]
    await asyncio.to_thread(produce, pair.bootstrap, pair.topic(VIDEO_EVENTS), published)

    async def all_there() -> bool:
        return (await inbox.UnreadCount(pb.UnreadCountRequest(user_id=user), timeout=5)).unread_count == VIDEOS
    await wait_until(all_there, "every notification")
    return user


async def test_pages_cover_the_inbox_newest_first_without_overlap(pair: Pair, fan: str) -> None:
    assert pair.inbox is not None
    seen: list[notification_pb2.Notification] = []
    token, pages = "", 0
    while True:
        page = await pair.inbox.ListNotifications(
            pb.ListNotificationsRequest(user_id=fan, page_size=2, page_token=token), timeout=5)
        seen.extend(page.notifications)
        pages, token = pages + 1, page.next_page_token
        if not token:
            break
    assert pages == 3 and len({n.notification_id for n in seen}) == VIDEOS
    times = [(n.create_time.ToDatetime(), n.notification_id) for n in seen]
    assert times == sorted(times, reverse=True)
    assert all(n.recipient_id == fan for n in seen)


async def test_unread_only_leaves_out_what_was_read(pair: Pair, fan: str) -> None:
    assert pair.inbox is not None
    everything = await pair.inbox.ListNotifications(pb.ListNotificationsRequest(user_id=fan), timeout=5)
    newest = everything.notifications[0].notification_id
    await pair.inbox.MarkRead(pb.MarkReadRequest(request_id=new_id(), user_id=fan, notification_ids=[newest]),
                              timeout=5)
    unread = await pair.inbox.ListNotifications(pb.ListNotificationsRequest(user_id=fan, unread_only=True), timeout=5)
    assert newest not in {n.notification_id for n in unread.notifications}
    assert len(unread.notifications) == len(everything.notifications) - 1


@pytest.mark.parametrize(("method", "request_", "field"), [
    ("ListNotifications", pb.ListNotificationsRequest(user_id="not-a-uuid"), "user_id"),
    ("ListNotifications", pb.ListNotificationsRequest(user_id=new_id(), page_size=101), "page_size"),
    ("ListNotifications", pb.ListNotificationsRequest(user_id=new_id(), page_token="garbage"), "page_token"),
    ("UnreadCount", pb.UnreadCountRequest(user_id=""), "user_id"),
    ("MarkRead", pb.MarkReadRequest(request_id=new_id(), user_id=new_id()), ""),
    ("MarkRead", pb.MarkReadRequest(request_id=new_id(), user_id=new_id(), notification_ids=[new_id()], all=True), ""),
    ("MarkRead", pb.MarkReadRequest(request_id="x", user_id=new_id(), all=True), "request_id"),
    ("MarkRead", pb.MarkReadRequest(request_id=new_id(), user_id=new_id(), notification_ids=["nope"]),
     "notification_ids[0]"),
], ids=["user_id", "page_size", "page_token", "unread_user", "neither", "both", "request_id", "ids"])
async def test_bad_request_is_invalid_argument_naming_the_field(pair: Pair, method: str, request_: object,
                                                                field: str) -> None:
    assert pair.inbox is not None
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await getattr(pair.inbox, method)(request_, timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in bad_request_fields(raised.value)


async def test_page_token_of_another_user_is_invalid_argument(pair: Pair, fan: str) -> None:
    assert pair.inbox is not None
    first = await pair.inbox.ListNotifications(pb.ListNotificationsRequest(user_id=fan, page_size=1), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await pair.inbox.ListNotifications(
            pb.ListNotificationsRequest(user_id=new_id(), page_size=1, page_token=first.next_page_token), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(raised.value) == ["page_token"]
