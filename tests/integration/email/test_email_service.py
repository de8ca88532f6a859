"""The email service against real Postgres, Kafka and the stack's SMTP sink (a Maildir)."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from vidmesh.email.v1 import email_service_pb2 as pb
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.notification.v1.events_pb2 import NotificationCreated
from vidmesh.notification.v1.notification_pb2 import (
    NOTIFICATION_KIND_COMMENT_ADDED,
    NOTIFICATION_KIND_VIDEO_PUBLISHED,
    NotificationKind,
)
from vidmesh.users.v1.events_pb2 import UserRegistered

from mesh.topology import NOTIFICATION_EVENTS, USERS_EVENTS
from scripts.devstack.stack import Stack
from services.email.domain import message_id
from tests.integration.email.conftest import EmailService
from tests.integration.notification.support import envelope, mails_with_message_id, new_id, produce, wait_until
from tests.spans import attribute, parent_id, span_id, trace_id, wait_span


def registered(user: str) -> EventEnvelope:
    return envelope(UserRegistered(user_id=user, email=f"{user}@example.test", display_name="Ada"), user)


def created(user: str, kind: NotificationKind.ValueType = NOTIFICATION_KIND_VIDEO_PUBLISHED) -> EventEnvelope:
    event = NotificationCreated(notification_id=new_id(), recipient_id=user, kind=kind, video_id=new_id(),
                                actor_id=new_id(), text=f"Ada published a new video: {new_id()[:8]}")
    return envelope(event, user, "/vidmesh/notification")


async def mails(stack: Stack, env: EventEnvelope) -> int:
    return len(await asyncio.to_thread(mails_with_message_id, stack.layout.maildir, message_id(env.id)))


async def sent_to(service: EmailService, user: str) -> list[pb.SentEmail]:
    response = await service.emails.ListSentEmails(pb.ListSentEmailsRequest(recipient_id=user), timeout=5)
    return list(response.emails)


async def test_notification_before_the_registration_is_mailed_once_the_address_arrives(
        service: EmailService, stack: Stack) -> None:
    user = new_id()
    notification = created(user)
    await asyncio.to_thread(produce, service.bootstrap, service.topic(NOTIFICATION_EVENTS), [notification])

    async def waiting() -> bool:
        async with service.app.pool.connection() as conn:
            cursor = await conn.execute("SELECT count(*) FROM emails WHERE recipient_id = %s AND to_address IS NULL",
                                        (user,))
            return (await cursor.fetchone()) == (1,)
    await wait_until(waiting, "the email to wait for an address")
    assert await sent_to(service, user) == []

    welcome = registered(user)
    await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), [welcome])
    await wait_until(lambda: mails(stack, notification), "the notification email")
    await wait_until(lambda: mails(stack, welcome), "the welcome")  # queued after it, so sent after it
    assert (await mails(stack, notification), await mails(stack, welcome)) == (1, 1)
    assert {e.to_address for e in await sent_to(service, user)} == {f"{user}@example.test"}


async def test_only_new_video_notifications_are_mailed(service: EmailService, stack: Stack) -> None:
    user = new_id()
    comment, video = created(user, NOTIFICATION_KIND_COMMENT_ADDED), created(user)
    # One key (the recipient): the comment is consumed before the video notification.
    await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), [registered(user)])
    await asyncio.to_thread(produce, service.bootstrap, service.topic(NOTIFICATION_EVENTS), [comment, video])
    await wait_until(lambda: mails(stack, video), "the new-video email")
    assert await mails(stack, comment) == 0
    assert sorted(e.kind for e in await sent_to(service, user)) == [pb.EMAIL_KIND_WELCOME, pb.EMAIL_KIND_NOTIFICATION]


async def test_redelivered_events_send_one_email_each(service: EmailService, stack: Stack) -> None:
    user = new_id()
    welcome, notification = registered(user), created(user)
    for _ in range(2):  # the same records twice, as a producer retry or a replay would deliver them
        await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), [welcome])
        await asyncio.to_thread(produce, service.bootstrap, service.topic(NOTIFICATION_EVENTS), [notification])
    await wait_until(lambda: mails(stack, notification), "the notification email")

    async def both_duplicates_seen() -> bool:
        return service.app.consumer.counts["duplicate"] >= 2
    await wait_until(both_duplicates_seen, "the redeliveries")
    async with service.app.pool.connection() as conn:
        cursor = await conn.execute("SELECT count(*) FROM emails WHERE recipient_id = %s AND status <> 'sent'",
                                    (user,))
        assert (await cursor.fetchone()) == (0,)  # nothing left to send a second time
    assert (await mails(stack, welcome), await mails(stack, notification)) == (1, 1)


async def test_sent_emails_page_newest_first_for_one_recipient(service: EmailService, stack: Stack) -> None:
    user, other = new_id(), new_id()
    notifications = [created(user) for _ in range(4)]
    users = [registered(user), registered(other)]
    await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), users)
    await asyncio.to_thread(produce, service.bootstrap, service.topic(NOTIFICATION_EVENTS), notifications)

    async def all_sent() -> bool:
        return len(await sent_to(service, user)) == 5
    await wait_until(all_sent, "five emails to the user")
    seen: list[pb.SentEmail] = []
    token = ""
    while True:
        page = await service.emails.ListSentEmails(
            pb.ListSentEmailsRequest(recipient_id=user, page_size=2, page_token=token), timeout=5)
        seen.extend(page.emails)
        if not (token := page.next_page_token):
            break
    assert len({e.email_id for e in seen}) == 5 and {e.recipient_id for e in seen} == {user}
    times = [(e.send_time.ToDatetime(), e.email_id) for e in seen]
    assert times == sorted(times, reverse=True)
    assert {e.source_event_id for e in seen if e.kind == pb.EMAIL_KIND_NOTIFICATION} == {n.id for n in notifications}

    first = await service.emails.ListSentEmails(pb.ListSentEmailsRequest(recipient_id=user, page_size=1), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:  # a token is only good for the query it came from
        await service.emails.ListSentEmails(
            pb.ListSentEmailsRequest(recipient_id=other, page_size=1, page_token=first.next_page_token), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("request_", [pb.ListSentEmailsRequest(recipient_id="not-a-uuid"),
                                      pb.ListSentEmailsRequest(page_size=101),
                                      pb.ListSentEmailsRequest(page_token="garbage")],
                         ids=["recipient_id", "page_size", "page_token"])
async def test_bad_list_request_is_invalid_argument(service: EmailService, request_: pb.ListSentEmailsRequest) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await service.emails.ListSentEmails(request_, timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_events_email_is_sent_in_a_span_of_the_events_trace(service: EmailService, stack: Stack,
                                                                     spans: InMemorySpanExporter) -> None:
    user, cause = new_id(), "4bf92f3577b34da6a3ce929d0e0e4736"
    welcome = registered(user)
    welcome.traceparent = f"00-{cause}-00f067aa0ba902b7-01"  # what the users service's outbox wrote
    await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), [welcome])
    await wait_until(lambda: mails(stack, welcome), "the welcome")
    processing = await wait_span(spans, lambda s: s.name == "process UserRegistered"
                                 and attribute(s, "messaging.message.id") == welcome.id)
    send = await wait_span(spans, lambda s: s.name == "smtp send" and trace_id(s) == int(cause, 16))
    assert parent_id(processing) == 0x00f067aa0ba902b7 and trace_id(processing) == int(cause, 16)
    assert parent_id(send) == span_id(processing)  # queued there, sent later, still one story
