"""Both services running in-process against the real stack, isolated per test module."""

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

from mesh.registry import ConsulRegistry
from mesh.settings import Settings
from scripts.devstack.stack import Stack
from services.email import bootstrap as email_bootstrap
from services.email import config as mail_config
from services.email import consumer as email_consumer
from services.notification import bootstrap as notification_bootstrap
from services.notification import consumer as notification_consumer
from tests.integration.notification.support import delete_topics, rewind, scratch_database, service_config


@dataclass
class Pair:
    """The notification and email services of one test module, restartable."""

    settings: Settings
    maildir: Path
    notification_dsn: str
    email_dsn: str
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    notification: notification_bootstrap.App | None = None
    email: email_bootstrap.App | None = None
    inbox: notification_service_pb2_grpc.NotificationServiceAsyncStub | None = None
    emails: email_service_pb2_grpc.EmailServiceAsyncStub | None = None
    _stack: AsyncExitStack | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

    @property
    def topics(self) -> notification_consumer.Topics:
        return notification_consumer.Topics.prefixed(f"it-{self.tag}.")

    @property
    def email_topics(self) -> email_consumer.Topics:
        return email_consumer.Topics(self.topics.users, self.topics.notifications)

    @property
    def names(self) -> tuple[str, str]:
        """Consul names (and consumer groups): unique, so nothing routes to these instances."""
        return f"notification-it-{self.tag}", f"email-it-{self.tag}"

    async def start(self) -> None:
        s, (notification_name, email_name) = self.settings, self.names
        registry = ConsulRegistry(s.host, s.consul_http_port)
        mail = mail_config.load({"VIDMESH_SMTP_ADDR": f"{s.host}:{s.smtp_port}"})
        stack = self._stack = AsyncExitStack()
        self.notification = await stack.enter_async_context(notification_bootstrap.running(
            service_config(s, notification_name, self.notification_dsn), topics=self.topics,
            group=notification_name, registry=registry))
        self.email = await stack.enter_async_context(email_bootstrap.running(
            service_config(s, email_name, self.email_dsn), mail, topics=self.email_topics, group=email_name,
            registry=registry))
        inbox_channel = await stack.enter_async_context(
            grpc.aio.insecure_channel(f"127.0.0.1:{self.notification.server.port}"))
        email_channel = await stack.enter_async_context(
            grpc.aio.insecure_channel(f"127.0.0.1:{self.email.server.port}"))
        self.inbox = notification_service_pb2_grpc.NotificationServiceStub(inbox_channel)
        self.emails = email_service_pb2_grpc.EmailServiceStub(email_channel)

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def restart_from_the_beginning(self) -> None:
        """Stop both, move both consumer groups back to offset 0 of every topic, start again."""
        await self.stop()
        notification_group, email_group = self.names
        topics, email_topics = self.topics, self.email_topics
        await asyncio.to_thread(rewind, self.bootstrap, notification_group, [topics.users, topics.video])
        await asyncio.to_thread(rewind, self.bootstrap, email_group, [email_topics.users, email_topics.notifications])
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
            t = running.topics
            await asyncio.to_thread(delete_topics, running.bootstrap, [
                t.users, t.video, t.notifications, *(f"{name}.dlq" for name in running.names)])
