"""The email service running in-process against the real stack, isolated per use."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc.aio
import pytest
from vidmesh.email.v1 import email_service_pb2_grpc

from mesh.settings import Settings
from services.email import bootstrap, consumer
from services.email import config as mail_config
from tests.integration.notification.support import delete_topics, scratch_database, service_config


@dataclass
class EmailService:
    """A running email service with its topics and a client."""

    app: bootstrap.App
    topics: consumer.Topics
    bootstrap: str
    emails: email_service_pb2_grpc.EmailServiceAsyncStub


@asynccontextmanager
async def email_service(settings: Settings, smtp_addr: str) -> AsyncIterator[EmailService]:
    """The service on its own database, topics and group, mailing to `smtp_addr`; no Consul."""
    tag = uuid.uuid4().hex[:8]
    topics, kafka = consumer.Topics.prefixed(f"it-{tag}."), f"{settings.host}:{settings.kafka_port}"
    name = f"email-it-{tag}"
    mail = mail_config.load({"VIDMESH_SMTP_ADDR": smtp_addr, "VIDMESH_SMTP_TIMEOUT_SECONDS": "2"})
    try:
        with scratch_database(settings, "it_email") as dsn:
            async with bootstrap.running(service_config(settings, name, dsn), mail, topics=topics, group=name) as app, \
                    grpc.aio.insecure_channel(f"127.0.0.1:{app.server.port}") as channel:
                yield EmailService(app, topics, kafka, email_service_pb2_grpc.EmailServiceStub(channel))
    finally:
        await asyncio.to_thread(delete_topics, kafka, [topics.users, topics.notifications, f"{name}.dlq"])


@pytest.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[EmailService]:
    """The email service mailing to the stack's SMTP sink."""
    async with email_service(settings, f"{settings.host}:{settings.smtp_port}") as running:
        yield running
