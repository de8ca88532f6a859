"""The email service against a mail server of the test's own (aiosmtpd) that is down or refuses."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from vidmesh.email.v1 import email_service_pb2 as pb
from vidmesh.users.v1.events_pb2 import UserRegistered

from mesh.settings import Settings
from mesh.topology import USERS_EVENTS
from services.email.domain import message_id
from tests.integration.email.conftest import email_service
from tests.integration.notification.support import envelope, new_id, produce, wait_until


class Recorder:
    """An aiosmtpd handler that keeps what it accepts, or refuses every recipient."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.received: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mail_server(handler: Recorder, port: int) -> Iterator[None]:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


async def test_mail_waits_while_the_server_is_down_and_goes_out_once_when_it_is_back(settings: Settings) -> None:
    port, user = free_port(), new_id()
    welcome = envelope(UserRegistered(user_id=user, email=f"{user}@example.test", display_name="Ada"), user)
    async with email_service(settings, f"127.0.0.1:{port}") as service:
        await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), [welcome])

        async def queued() -> bool:
            return service.app.consumer.counts["applied"] == 1
        await wait_until(queued, "the welcome email to be queued")
        recorder = Recorder()
        with mail_server(recorder, port):
            async def delivered() -> bool:
                return service.app.dispatcher.sent == 1
            await wait_until(delivered, "delivery after the outage", timeout=45)
        assert len(recorder.received) == 1 and message_id(welcome.id).encode() in recorder.received[0]
        sent = await service.emails.ListSentEmails(pb.ListSentEmailsRequest(recipient_id=user), timeout=5)
        assert [e.source_event_id for e in sent.emails] == [welcome.id]


async def test_refused_email_is_recorded_as_failed_and_not_retried(settings: Settings) -> None:
    port, user = free_port(), new_id()
    welcome = envelope(UserRegistered(user_id=user, email=f"{user}@example.test", display_name="Ada"), user)
    recorder = Recorder(refuse=True)
    with mail_server(recorder, port):
        async with email_service(settings, f"127.0.0.1:{port}") as service:
            await asyncio.to_thread(produce, service.bootstrap, service.topic(USERS_EVENTS), [welcome])

            async def refused() -> bool:
                return service.app.dispatcher.failed == 1
            await wait_until(refused, "the refusal")
            async with service.app.pool.connection() as conn:
                cursor = await conn.execute("SELECT status, last_error FROM emails WHERE source_event_id = %s",
                                            (welcome.id,))
                status, error = await cursor.fetchone() or ("missing", "")
            assert status == "failed" and "550" in error
            sent = await service.emails.ListSentEmails(pb.ListSentEmailsRequest(recipient_id=user), timeout=5)
            assert list(sent.emails) == [] and recorder.received == []
