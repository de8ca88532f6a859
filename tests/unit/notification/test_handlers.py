"""Event and request handlers over in-memory fakes: fan-out, idempotency, inbox ownership."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from vidmesh.users.v1.events_pb2 import UserFollowed, UserRegistered, UserUnfollowed
from vidmesh.video.v1.events_pb2 import CommentAdded, VideoPublished

from mesh.errors import InvalidArgument
from services.notification import handlers
from services.notification.domain import Kind, MarkRead
from services.notification.handlers import Marked
from services.notification.ports import Cause, UnitOfWorkFactory
from tests.unit.notification.fakes import EPOCH, FakePublisher, FakeStore, FakeUnitOfWork


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


def uows(store: FakeStore) -> UnitOfWorkFactory:
    return lambda: FakeUnitOfWork(store)


async def follow(store: FakeStore, publisher: FakePublisher, follower: str, channel: str) -> None:
    event = UserFollowed(follower_id=follower, channel_id=channel, follower_display_name="Fan", follower_count=1)
    await handlers.on_user_followed(store, publisher, Cause(new_id()), event)


async def publish(store: FakeStore, publisher: FakePublisher, owner: str, cause: Cause | None = None) -> Cause:
    cause = cause or Cause(new_id(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    await handlers.on_video_published(store, publisher, cause, VideoPublished(
        video_id=new_id(), owner_id=owner, version=2, title="Cats"))
    return cause


async def test_published_video_notifies_followers_and_announces_each(store: FakeStore,
                                                                     publisher: FakePublisher) -> None:
    owner, fans = new_id(), [new_id(), new_id()]
    await handlers.on_user_registered(store, publisher, Cause(new_id()), UserRegistered(
        user_id=owner, email="ada@example.test", display_name="Ada"))
    for fan in fans:
        await follow(store, publisher, fan, owner)
    publisher.published.clear()  # the new-follower notifications
    cause = await publish(store, publisher, owner)
    assert sorted(n.recipient_id for n, _ in publisher.published) == sorted(fans)
    assert {c for _, c in publisher.published} == {cause}  # the trace continues into the events
    assert publisher.published[0][0].text == "Ada published a new video: Cats"


async def test_redelivered_event_creates_and_announces_nothing_new(store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    cause = await publish(store, publisher, owner)
    before = (len(store.rows), len(publisher.published))
    await publish(store, publisher, owner, cause)  # same event id, as after a redelivery that skipped the inbox
    assert (len(store.rows), len(publisher.published)) == before


async def test_unfollowed_user_is_not_told_about_new_videos(store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    await handlers.on_user_unfollowed(store, publisher, Cause(new_id()),
                                      UserUnfollowed(follower_id=fan, channel_id=owner, follower_count=0))
    publisher.published.clear()
    await publish(store, publisher, owner)
    assert publisher.published == []


async def test_new_follower_notifies_the_channel_owner(store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    [(notification, _)] = publisher.published
    assert (notification.recipient_id, notification.kind, notification.text) == (
        owner, Kind.NEW_FOLLOWER, "Fan started following your channel")


async def test_comment_by_the_owner_notifies_nobody(store: FakeStore, publisher: FakePublisher) -> None:
    owner = new_id()
    await handlers.on_comment_added(store, publisher, Cause(new_id()), CommentAdded(
        video_id=new_id(), owner_id=owner, version=3, comment_id=new_id(), author_id=owner, body="me", title="Cats"))
    assert store.rows == {} and publisher.published == []


async def test_list_pages_newest_first_and_token_is_bound_to_the_query(store: FakeStore,
                                                                       publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    for _ in range(5):
        await publish(store, publisher, owner)
    first = await handlers.list_notifications(uows(store), handlers.ListQuery(fan, page_size=3))
    second = await handlers.list_notifications(uows(store), handlers.ListQuery(fan, 3, first.next_page_token))
    times = [n.create_time for n in first.notifications + second.notifications]
    assert len(times) == 5 and times == sorted(times, reverse=True) and second.next_page_token == ""
    with pytest.raises(InvalidArgument):
        await handlers.list_notifications(uows(store), handlers.ListQuery(owner, 3, first.next_page_token))
    with pytest.raises(InvalidArgument):
        await handlers.list_notifications(uows(store), handlers.ListQuery(fan, 3, first.next_page_token, True))
    with pytest.raises(InvalidArgument):
        await handlers.list_notifications(uows(store), handlers.ListQuery(fan, 3, "not-a-token"))


async def test_mark_read_touches_only_the_callers_notifications(store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)  # owner gets a notification
    [owners] = [n.notification_id for n in store.rows.values()]
    assert await handlers.mark_read(uows(store), MarkRead(new_id(), fan, (owners,))) == Marked(0, 0)
    assert await handlers.unread_count(uows(store), owner) == 1


async def publish_and_find(store: FakeStore, publisher: FakePublisher, owner: str, fan: str) -> list[str]:
    """Publish a video of the owner's; the ids of the fan's notifications it made."""
    before = set(store.rows)
    await publish(store, publisher, owner)
    return [n for n, row in store.rows.items() if n not in before and row.recipient_id == fan]


async def test_retried_mark_read_gets_the_first_answer_and_marks_nothing_new(
        store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    await publish(store, publisher, owner)
    await publish(store, publisher, owner)
    command = MarkRead(new_id(), fan, all=True)
    assert await handlers.mark_read(uows(store), command) == Marked(2, 0)
    await publish(store, publisher, owner)
    assert await handlers.mark_read(uows(store), command) == Marked(2, 0)  # the first answer, replayed
    assert await handlers.unread_count(uows(store), fan) == 1  # applied once: the new one stays unread
    assert await handlers.mark_read(uows(store), MarkRead(new_id(), fan, all=True)) == Marked(1, 0)


async def test_a_request_id_replayed_for_other_notifications_is_invalid_and_marks_nothing(
        store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    [first] = await publish_and_find(store, publisher, owner, fan)
    request_id = new_id()
    assert await handlers.mark_read(uows(store), MarkRead(request_id, fan, (first,))) == Marked(1, 0)
    [second] = await publish_and_find(store, publisher, owner, fan)
    with pytest.raises(InvalidArgument) as raised:
        await handlers.mark_read(uows(store), MarkRead(request_id, fan, (second,)))
    assert [v.field for v in raised.value.violations] == ["request_id"]
    assert await handlers.unread_count(uows(store), fan) == 1


async def test_another_users_reuse_of_a_request_id_is_refused(store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    await follow(store, publisher, fan, owner)
    request_id = new_id()
    await handlers.mark_read(uows(store), MarkRead(request_id, fan, all=True))
    with pytest.raises(InvalidArgument) as raised:
        await handlers.mark_read(uows(store), MarkRead(request_id, owner, all=True))
    assert [v.field for v in raised.value.violations] == ["request_id"]
    assert await handlers.unread_count(uows(store), owner) == 1  # the owner's new-follower notification


async def test_a_follow_that_arrives_after_the_publication_it_preceded_still_tells_the_follower(
        store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    followed, published = Cause(new_id(), time=EPOCH), Cause(new_id(), time=EPOCH + timedelta(seconds=1))
    video = VideoPublished(video_id=new_id(), owner_id=owner, version=2, title="Cats")
    await handlers.on_video_published(store, publisher, published, video)  # Kafka delivered it first
    await handlers.on_user_followed(store, publisher, followed, UserFollowed(
        follower_id=fan, channel_id=owner, follower_display_name="Fan", follower_count=1))
    told = [n for n in store.rows.values() if n.recipient_id == fan]
    assert [(n.kind, n.video_id) for n in told] == [(Kind.VIDEO_PUBLISHED, video.video_id)]
    in_order = FakeStore()  # the same events in the order they happened name the same notification
    await handlers.on_user_followed(in_order, FakePublisher(), followed, UserFollowed(
        follower_id=fan, channel_id=owner, follower_display_name="Fan", follower_count=1))
    await handlers.on_video_published(in_order, FakePublisher(), published, video)
    assert [n.notification_id for n in in_order.rows.values() if n.recipient_id == fan] == [told[0].notification_id]


async def test_a_follow_after_the_publication_is_told_nothing_in_either_order(
        store: FakeStore, publisher: FakePublisher) -> None:
    owner, fan = new_id(), new_id()
    published, followed = Cause(new_id(), time=EPOCH), Cause(new_id(), time=EPOCH + timedelta(seconds=1))
    video = VideoPublished(video_id=new_id(), owner_id=owner, version=2, title="Cats")
    follow_event = UserFollowed(follower_id=fan, channel_id=owner, follower_display_name="Fan", follower_count=1)
    await handlers.on_user_followed(store, publisher, followed, follow_event)  # arrived first, happened later
    await handlers.on_video_published(store, publisher, published, video)
    other = FakeStore()
    await handlers.on_video_published(other, FakePublisher(), published, video)
    await handlers.on_user_followed(other, FakePublisher(), followed, follow_event)
    for inbox in (store, other):
        assert [n for n in inbox.rows.values() if n.recipient_id == fan] == []
