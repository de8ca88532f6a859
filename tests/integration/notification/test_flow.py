"""Events in, notifications and emails out: both services against real Postgres, Kafka, SMTP, Consul.

The users and video services are stood in for by real envelopes published to the topics.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

import consul
import grpc
import grpc.aio
import pytest
from vidmesh.email.v1 import email_service_pb2 as email_pb
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.notification.v1 import notification_pb2
from vidmesh.notification.v1 import notification_service_pb2 as pb
from vidmesh.notification.v1.events_pb2 import NotificationCreated
from vidmesh.users.v1.events_pb2 import UserFollowed, UserRegistered
from vidmesh.video.v1.events_pb2 import CommentAdded, VideoPublished

from mesh import events, health_probe
from mesh.consumer import IdempotentConsumer
from mesh.topology import NOTIFICATION_EVENTS, USERS_EVENTS, VIDEO_EVENTS
from services.email.domain import message_id
from tests.integration.notification.conftest import Pair
from tests.integration.notification.support import (
    bad_request_fields,
    end_offsets,
    envelope,
    mails_with_message_id,
    new_id,
    produce,
    read_topic,
    wait_until,
)

KINDS = notification_pb2.NotificationKind


@dataclass
class Channel:
    """A (A) and B, registered; B follows A."""

    a: str
    b: str
    b_address: str
    registered: dict[str, EventEnvelope]


async def notifications(pair: Pair, user: str, kind: int | None = None) -> list[notification_pb2.Notification]:
    assert pair.inbox is not None
    response = await pair.inbox.ListNotifications(pb.ListNotificationsRequest(user_id=user, page_size=100), timeout=5)
    return [n for n in response.notifications if kind is None or n.kind == kind]


async def follower_and_channel(pair: Pair) -> Channel:
    """Register A and B, B follows A, and wait until the notification service applied the follow."""
    a, b = new_id(), new_id()
    registered = {user: envelope(UserRegistered(user_id=user, email=f"{user}@example.test", display_name=name), user)
                  for user, name in ((a, "Ada"), (b, "Bob"))}
    followed = envelope(UserFollowed(follower_id=b, channel_id=a, follower_display_name="Bob", follower_count=1), a)
    await asyncio.to_thread(produce, pair.bootstrap, pair.topic(USERS_EVENTS), [*registered.values(), followed])
    # Follows and videos travel on different topics: publish only once the follow is applied.
    await wait_until(lambda: notifications(pair, a, KINDS.NOTIFICATION_KIND_NEW_FOLLOWER), "A's new follower")
    return Channel(a, b, f"{b}@example.test", registered)


async def publish_video(pair: Pair, owner: str) -> tuple[str, str]:
    video, title = new_id(), f"Cats {new_id()[:8]}"
    published = envelope(VideoPublished(video_id=video, owner_id=owner, version=2, title=title), video)
    await asyncio.to_thread(produce, pair.bootstrap, pair.topic(VIDEO_EVENTS), [published])
    return video, title


async def created_events(pair: Pair, recipient: str, video: str) -> list[tuple[EventEnvelope, NotificationCreated]]:
    found = []
    for env in await asyncio.to_thread(read_topic, pair.bootstrap, pair.topic(NOTIFICATION_EVENTS)):
        payload = events.payload(env)
        if isinstance(payload, NotificationCreated) and (payload.recipient_id, payload.video_id) == (recipient, video):
            found.append((env, payload))
    return found


async def caught_up(pair: Pair) -> list[IdempotentConsumer]:
    """Wait until each consumer has handled every record of its topics (this module's own, all
    read since the consumer started), and the outbox between them is empty; the consumers."""
    assert pair.notification is not None and pair.email is not None
    notification, email = pair.notification.parts, pair.email.parts
    await handled_all(notification.consumer, pair, [pair.topic(USERS_EVENTS), pair.topic(VIDEO_EVENTS)])

    async def outbox_empty() -> bool:
        async with notification.pool.connection() as conn:
            cursor = await conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            return (await cursor.fetchone()) == (0,)
    await wait_until(outbox_empty, "the notification outbox to be published")
    await handled_all(email.consumer, pair, [pair.topic(USERS_EVENTS), pair.topic(NOTIFICATION_EVENTS)])
    return [notification.consumer, email.consumer]


async def handled_all(consumer: IdempotentConsumer, pair: Pair, topics: list[str]) -> None:
    records = await asyncio.to_thread(end_offsets, pair.bootstrap, topics)

    async def handled() -> bool:
        return sum(consumer.counts.values()) >= records
    await wait_until(handled, f"{consumer.group} to handle all {records} records")


async def test_both_services_are_serving_and_registered_in_consul(pair: Pair) -> None:
    client = consul.Consul(host=pair.settings.host, port=pair.settings.consul_http_port)
    assert pair.notification is not None and pair.email is not None
    for name, port in zip(pair.names, (pair.notification.port, pair.email.port), strict=True):
        async def serving(address: str = f"127.0.0.1:{port}") -> bool:
            return await asyncio.to_thread(health_probe.probe, address) == health_probe.SERVING
        await wait_until(serving, f"{name} SERVING")

        async def passing(service: str = name) -> list[dict[str, Any]]:
            return list((await asyncio.to_thread(client.health.service, service, passing=True))[1])
        [instance] = await wait_until(passing, f"{name} passing in Consul")
        assert instance["Service"]["Port"] == port
        assert instance["Service"]["Meta"]["proto_package"] in {"vidmesh.notification.v1", "vidmesh.email.v1"}


async def test_follower_gets_one_notification_event_and_email_for_a_published_video(pair: Pair) -> None:
    people = await follower_and_channel(pair)
    video, title = await publish_video(pair, people.a)

    [notification] = await wait_until(
        lambda: notifications(pair, people.b, KINDS.NOTIFICATION_KIND_VIDEO_PUBLISHED), "B's notification")
    assert (notification.video_id, notification.actor_id, notification.read) == (video, people.a, False)
    assert notification.text == f"Ada published a new video: {title}"

    [(created, payload)] = await wait_until(lambda: created_events(pair, people.b, video), "NotificationCreated")
    assert payload.notification_id == notification.notification_id and created.aggregate_id == people.b

    mail_id = message_id(created.id)
    [mail] = await wait_until(lambda: asyncio.to_thread(mails_with_message_id, pair.maildir, mail_id), "the email")
    assert (mail["To"], mail["Subject"]) == (people.b_address, notification.text)
    for user, registered in people.registered.items():
        [welcome] = await wait_until(partial(asyncio.to_thread, mails_with_message_id, pair.maildir,
                                             message_id(registered.id)), "a welcome")
        assert welcome["To"] == f"{user}@example.test"

    assert pair.emails is not None
    sent = await pair.emails.ListSentEmails(email_pb.ListSentEmailsRequest(recipient_id=people.b), timeout=5)
    assert [(e.kind, e.source_event_id) for e in sent.emails] == [
        (email_pb.EMAIL_KIND_NOTIFICATION, created.id), (email_pb.EMAIL_KIND_WELCOME, people.registered[people.b].id)]


async def test_consumers_rewound_to_the_beginning_create_no_second_notification_or_email(pair: Pair) -> None:
    people = await follower_and_channel(pair)
    video, _ = await publish_video(pair, people.a)
    [(created, _)] = await wait_until(lambda: created_events(pair, people.b, video), "NotificationCreated")
    mail_id = message_id(created.id)
    await wait_until(lambda: asyncio.to_thread(mails_with_message_id, pair.maildir, mail_id), "the email")

    await caught_up(pair)  # every record applied once, so a replay can only find duplicates
    await pair.restart_from_the_beginning()
    for consumer in await caught_up(pair):
        assert consumer.counts["applied"] == 0, consumer.counts

    assert len(await notifications(pair, people.b, KINDS.NOTIFICATION_KIND_VIDEO_PUBLISHED)) == 1
    assert len(await created_events(pair, people.b, video)) == 1
    assert len(await asyncio.to_thread(mails_with_message_id, pair.maildir, mail_id)) == 1
    assert pair.email is not None
    async with pair.email.parts.pool.connection() as conn:
        queued = await (await conn.execute("SELECT count(*) FROM emails WHERE status = 'queued'")).fetchone()
    assert queued == (0,)  # nothing left that could still go out a second time


async def test_comment_by_the_follower_notifies_the_owner_but_the_owners_own_comment_does_not(pair: Pair) -> None:
    people = await follower_and_channel(pair)
    video = new_id()
    comments = [envelope(CommentAdded(video_id=video, owner_id=people.a, version=3 + i, comment_id=new_id(),
                                      author_id=author, body="nice", comment_count=i + 1, title="Cats"), video)
                for i, author in enumerate((people.a, people.b))]  # one key: applied in this order
    await asyncio.to_thread(produce, pair.bootstrap, pair.topic(VIDEO_EVENTS), comments)

    [comment] = await wait_until(
        lambda: notifications(pair, people.a, KINDS.NOTIFICATION_KIND_COMMENT_ADDED), "A's comment notification")
    assert (comment.actor_id, comment.video_id, comment.text) == (people.b, video, "Bob commented on your video: Cats")
    assert await notifications(pair, people.b, KINDS.NOTIFICATION_KIND_COMMENT_ADDED) == []


async def test_unread_count_and_mark_read_act_on_the_callers_own_notifications(pair: Pair) -> None:
    people = await follower_and_channel(pair)
    video, _ = await publish_video(pair, people.a)
    [published] = await wait_until(
        lambda: notifications(pair, people.b, KINDS.NOTIFICATION_KIND_VIDEO_PUBLISHED), "B's notification")
    [followed] = await notifications(pair, people.a)
    assert pair.inbox is not None
    inbox = pair.inbox

    async def unread(user: str) -> int:
        return (await inbox.UnreadCount(pb.UnreadCountRequest(user_id=user), timeout=5)).unread_count

    assert (await unread(people.a), await unread(people.b)) == (1, 1)
    foreign = await inbox.MarkRead(pb.MarkReadRequest(
        request_id=new_id(), user_id=people.b, notification_ids=[followed.notification_id]), timeout=5)
    assert (foreign.marked_count, foreign.unread_count, await unread(people.a)) == (0, 1, 1)

    mark = pb.MarkReadRequest(request_id=new_id(), user_id=people.b, notification_ids=[published.notification_id])
    first = await inbox.MarkRead(mark, timeout=5)
    retried = await inbox.MarkRead(mark, timeout=5)  # the same request_id: applied once, same answer
    assert (first.marked_count, first.unread_count) == (retried.marked_count, retried.unread_count) == (1, 0)
    [read] = await notifications(pair, people.b, KINDS.NOTIFICATION_KIND_VIDEO_PUBLISHED)
    assert read.read and read.video_id == video

    everything = await inbox.MarkRead(pb.MarkReadRequest(request_id=new_id(), user_id=people.a, all=True), timeout=5)
    assert (everything.marked_count, everything.unread_count) == (1, 0)


async def test_a_mark_read_request_id_replayed_with_another_body_is_invalid_argument(pair: Pair) -> None:
    people = await follower_and_channel(pair)
    [followed] = await notifications(pair, people.a)
    assert pair.inbox is not None
    request_id = new_id()
    first = await pair.inbox.MarkRead(pb.MarkReadRequest(request_id=request_id, user_id=people.b, all=True), timeout=5)
    assert first.marked_count == 0  # B has nothing yet: the request_id is B's from now on

    for reused in (pb.MarkReadRequest(request_id=request_id, user_id=people.b,
                                      notification_ids=[followed.notification_id]),  # other notifications
                   pb.MarkReadRequest(request_id=request_id, user_id=people.a, all=True)):  # another user
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await pair.inbox.MarkRead(reused, timeout=5)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request_fields(raised.value) == ["request_id"]
    [still] = await notifications(pair, people.a)
    assert not still.read
