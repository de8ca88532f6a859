"""The email service running in-process (runtime.running) against the real stack, isolated per
use: its own database, topics (VIDMESH_TOPIC_PREFIX) and consumer group; not in Consul."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc.aio
import pytest
from vidmesh.email.v1 import email_service_pb2_grpc

from mesh import runtime
from mesh.runtime import Running
from mesh.settings import Settings
from services.email import bootstrap as email_bootstrap
from tests.integration.notification.support import delete_topics, scratch_database, service_env


@dataclass
class EmailService:
    """A running email service, where its topics are, and a client."""

    running: Running[email_bootstrap.Parts]
    bootstrap: str
    emails: email_service_pb2_grpc.EmailServiceAsyncStub

    @property
    def app(self) -> email_bootstrap.Parts:
        return self.running.parts

    def topic(self, name: str) -> str:
        """This service's copy of an event topic of the topology."""
        return self.running.runtime.topic(name)


@asynccontextmanager
async def email_service(settings: Settings, smtp_addr: str) -> AsyncIterator[EmailService]:
    """The service on its own database, topics and group, mailing to `smtp_addr`; no Consul."""
    tag = uuid.uuid4().hex[:8]
    prefix, kafka, name = f"it-{tag}.", f"{settings.host}:{settings.kafka_port}", f"email-it-{tag}"
    try:
        with scratch_database(settings, "it_email") as dsn:
            env = service_env(settings, name, dsn, prefix, VIDMESH_SMTP_ADDR=smtp_addr,
                              VIDMESH_SMTP_TIMEOUT_SECONDS="2", VIDMESH_CONSUL_REGISTER="false")
            async with runtime.running(email_bootstrap.ENTRY, email_bootstrap.bootstrap, env) as running, \
                    grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                yield EmailService(running, kafka, email_service_pb2_grpc.EmailServiceStub(channel))
    finally:
        topics = [prefix + topic for topic in email_bootstrap.ENTRY.consumes]
        await asyncio.to_thread(delete_topics, kafka, [*topics, f"{name}.dlq"])


@pytest.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[EmailService]:
    """The email service mailing to the stack's SMTP sink."""
    async with email_service(settings, f"{settings.host}:{settings.smtp_port}") as running:
        yield running
