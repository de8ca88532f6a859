"""Both services running in-process against the real stack, isolated per test module: their
own databases, topics (VIDMESH_TOPIC_PREFIX), consumer groups and Consul names (one
VIDMESH_SERVICE_NAME each), each started by its own bootstrap through runtime.running."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import grpc.aio
import pytest
from vidmesh.email.v1 import email_service_pb2_grpc
from vidmesh.notification.v1 import notification_service_pb2_grpc

from mesh import runtime
from mesh.runtime import Running
from mesh.settings import Settings
from mesh.topology import EVENT_TOPICS
from scripts.devstack.stack import Stack
from services.email import bootstrap as email_bootstrap
from services.notification import bootstrap as notification_bootstrap
from tests.integration.notification.support import delete_topics, rewind, scratch_database, service_env


@dataclass
class Pair:
    """The notification and email services of one test module, restartable."""

    settings: Settings
    maildir: Path
    notification_dsn: str
    email_dsn: str
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    notification: Running[notification_bootstrap.Parts] | None = None
    email: Running[email_bootstrap.Parts] | None = None
    inbox: notification_service_pb2_grpc.NotificationServiceAsyncStub | None = None
    emails: email_service_pb2_grpc.EmailServiceAsyncStub | None = None
    _stack: AsyncExitStack | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

    @property
    def prefix(self) -> str:
        """Both services' VIDMESH_TOPIC_PREFIX."""
        return f"it-{self.tag}."

    def topic(self, name: str) -> str:
        """This module's copy of an event topic of the topology."""
        return self.prefix + name

    @property
    def names(self) -> tuple[str, str]:
        """Consul names (and consumer groups): unique, so nothing routes to these instances."""
        return f"notification-it-{self.tag}", f"email-it-{self.tag}"

    async def start(self) -> None:
        s, (notification_name, email_name) = self.settings, self.names
        stack = self._stack = AsyncExitStack()
        self.notification = await stack.enter_async_context(runtime.running(
            notification_bootstrap.ENTRY, notification_bootstrap.bootstrap,
            service_env(s, notification_name, self.notification_dsn, self.prefix)))
        self.email = await stack.enter_async_context(runtime.running(
            email_bootstrap.ENTRY, email_bootstrap.bootstrap,
            service_env(s, email_name, self.email_dsn, self.prefix, VIDMESH_SMTP_ADDR=f"{s.host}:{s.smtp_port}")))
        channels = [await stack.enter_async_context(grpc.aio.insecure_channel(f"127.0.0.1:{instance.port}"))
                    for instance in (self.notification, self.email)]
        self.inbox = notification_service_pb2_grpc.NotificationServiceStub(channels[0])
        self.emails = email_service_pb2_grpc.EmailServiceStub(channels[1])

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def restart_from_the_beginning(self) -> None:
        """Stop both, move both consumer groups back to offset 0 of every topic, start again."""
        await self.stop()
        for name, entry in zip(self.names, (notification_bootstrap.ENTRY, email_bootstrap.ENTRY), strict=True):
            await asyncio.to_thread(rewind, self.bootstrap, name, [self.topic(t) for t in entry.consumes])
        await self.start()


@pytest.fixture(scope="module")
async def pair(settings: Settings, stack: Stack) -> AsyncIterator[Pair]:
    with scratch_database(settings, "it_notification") as notification_dsn, \
            scratch_database(settings, "it_email") as email_dsn:
        running = Pair(settings, stack.layout.maildir, notification_dsn, email_dsn)
        await running.start()
        try:
            yield running
        finally:
            await running.stop()
            await asyncio.to_thread(delete_topics, running.bootstrap, [
                *(running.topic(t) for t in EVENT_TOPICS), *(f"{name}.dlq" for name in running.names)])
