"""Consuming queues one email per event; the dispatcher sends each once and survives failures."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Self

import psycopg
import pytest
from vidmesh.notification.v1.events_pb2 import NotificationCreated
from vidmesh.notification.v1.notification_pb2 import (
    NOTIFICATION_KIND_COMMENT_ADDED,
    NOTIFICATION_KIND_VIDEO_PUBLISHED,
    NotificationKind,
)
from vidmesh.users.v1.events_pb2 import UserRegistered

from mesh.errors import InvalidArgument
from services.email import handlers
from services.email.dispatcher import Dispatcher
from services.email.domain import Kind
from services.email.ports import PermanentFailure, TemporaryFailure
from tests.unit.email.fakes import FakeStore, FakeTransport, FakeUnitOfWork, NoWakeup, PollingWakeup


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


def dispatcher(store: FakeStore, transport: FakeTransport) -> Dispatcher:
    return Dispatcher(lambda: FakeUnitOfWork(store), transport, NoWakeup())


async def send_all(store: FakeStore, transport: FakeTransport) -> None:
    sender = dispatcher(store, transport)
    while await sender.send_next():
        pass


async def register(store: FakeStore, user: str, event_id: str | None = None) -> str:
    event_id = event_id or new_id()
    await handlers.on_user_registered(store, event_id, UserRegistered(
        user_id=user, email=f"{user[:8]}@example.test", display_name="Ada"))
    return event_id


def created(recipient: str,
            kind: NotificationKind.ValueType = NOTIFICATION_KIND_VIDEO_PUBLISHED) -> NotificationCreated:
    return NotificationCreated(notification_id=new_id(), recipient_id=recipient, kind=kind,
                               video_id=new_id(), actor_id=new_id(), text="Ada published a new video: Cats")


async def test_redelivered_registration_sends_one_welcome(store: FakeStore) -> None:
    user, transport = new_id(), FakeTransport()
    event_id = await register(store, user)
    await register(store, user, event_id)
    await send_all(store, transport)
    await send_all(store, transport)
    assert [(e.kind, e.recipient_id) for e in transport.delivered] == [(Kind.WELCOME, user)]


async def test_redelivered_notification_sends_one_email(store: FakeStore) -> None:
    user, transport, event_id = new_id(), FakeTransport(), new_id()
    await register(store, user)
    event = created(user)
    await handlers.on_notification_created(store, event_id, event)
    await handlers.on_notification_created(store, event_id, event)
    await send_all(store, transport)
    assert [e.source_event_id for e in transport.delivered if e.kind is Kind.NOTIFICATION] == [event_id]


async def test_notification_before_registration_is_sent_when_the_address_arrives(store: FakeStore) -> None:
    user, transport = new_id(), FakeTransport()
    await handlers.on_notification_created(store, new_id(), created(user))
    await send_all(store, transport)
    assert transport.delivered == []
    await register(store, user)
    await send_all(store, transport)
    assert sorted(e.kind.value for e in transport.delivered) == ["notification", "welcome"]
    assert {e.to_address for e in transport.delivered} == {f"{user[:8]}@example.test"}


async def test_comment_notifications_are_not_emailed(store: FakeStore) -> None:
    user = new_id()
    await handlers.on_notification_created(store, new_id(), created(user, NOTIFICATION_KIND_COMMENT_ADDED))
    assert store.emails == {}


async def test_temporary_failure_keeps_the_email_for_a_retry(store: FakeStore) -> None:
    transport = FakeTransport(failures=[TemporaryFailure("421 busy")])
    await register(store, new_id())
    with pytest.raises(TemporaryFailure):
        await dispatcher(store, transport).send_next()
    await send_all(store, transport)
    assert len(transport.delivered) == 1


async def test_the_sending_loop_outlasts_a_mail_server_outage_and_stops_when_asked(store: FakeStore) -> None:
    transport = FakeTransport(failures=[TemporaryFailure("connection refused"), TemporaryFailure("421 busy")])
    await register(store, new_id())
    sender = Dispatcher(lambda: FakeUnitOfWork(store), transport, PollingWakeup(), poll_interval=0.01)
    loop = asyncio.create_task(sender.run())
    deadline = time.monotonic() + 5
    while sender.sent == 0:
        assert time.monotonic() < deadline and not loop.done(), "the mail never went out after the outage"
        await asyncio.sleep(0.01)  # the polling interval of a bounded wait
    await sender.stop()
    await asyncio.wait_for(loop, timeout=2)
    assert len(transport.delivered) == 1 and list(store.status.values()) == ["sent"]


async def test_permanent_failure_is_recorded_and_not_retried(store: FakeStore) -> None:
    transport = FakeTransport(failures=[PermanentFailure("550 no such user")])
    await register(store, new_id())
    await send_all(store, transport)
    assert transport.delivered == [] and list(store.status.values()) == ["failed"]


async def test_sent_emails_page_newest_first_per_recipient(store: FakeStore) -> None:
    users, transport = [new_id(), new_id()], FakeTransport()
    for user in users * 3:
        await handlers.on_notification_created(store, new_id(), created(user))
    for user in users:
        await register(store, user)
    await send_all(store, transport)
    uows = lambda: FakeUnitOfWork(store)  # noqa: E731
    first = await handlers.list_sent_emails(uows, handlers.ListQuery(2, recipient_id=users[0]))
    rest = await handlers.list_sent_emails(uows, handlers.ListQuery(2, first.next_page_token, users[0]))
    emails = first.emails + rest.emails
    assert len(emails) == 4 and {e.recipient_id for e in emails} == {users[0]} and rest.next_page_token == ""
    assert [e.send_time for e in emails] == sorted((e.send_time for e in emails), reverse=True)
    with pytest.raises(InvalidArgument):
        await handlers.list_sent_emails(uows, handlers.ListQuery(2, first.next_page_token, users[1]))



class LostCommitUnitOfWork(FakeUnitOfWork):
    """Postgres lost at the next `outage[0]` commits: what the transaction did is rolled back."""

    def __init__(self, store: FakeStore, outage: list[int]) -> None:
        super().__init__(store)
        self._fake, self._outage = store, outage

    async def __aenter__(self) -> Self:
        self._before = dict(self._fake.status), dict(self._fake.sent)
        return self

    async def commit(self) -> None:
        if self._outage[0]:
            self._outage[0] -= 1
            self._fake.status, self._fake.sent = self._before
            raise psycopg.OperationalError("server closed the connection unexpectedly")


async def test_postgres_lost_after_the_server_accepted_a_mail_does_not_send_it_twice(store: FakeStore) -> None:
    transport, outage = FakeTransport(), [1]
    await register(store, new_id())
    sender = Dispatcher(lambda: LostCommitUnitOfWork(store, outage), transport, NoWakeup())
    with pytest.raises(psycopg.OperationalError):
        await sender.send_next()  # the server has the mail; marking it sent was rolled back
    assert list(store.status.values()) == ["queued"]
    while await sender.send_next():
        pass
    assert len(transport.delivered) == 1 and list(store.status.values()) == ["sent"]
