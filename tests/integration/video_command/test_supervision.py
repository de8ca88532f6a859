"""A bug in the outbox relay does not stop the events: the runtime logs the crash, reports the
worker down, restarts it, and every command's event is still published once; the instance
stays SERVING throughout, since commands need only the database.

The instance is one of this test's own: a scratch database laid out like video_write and a
topic prefix, so its relay publishes nothing of the stack's and the stack's relay nothing of
its rows."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc.aio
import pytest
import structlog
from confluent_kafka import Consumer, TopicPartition
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh import events, runtime
from mesh.runtime import Running
from mesh.settings import Settings
from mesh.supervisor import health_name
from mesh.topology import EVENT_PARTITIONS, VIDEO_EVENTS
from services.video_command import commands as c
from services.video_command.bootstrap import ENTRY, VideoCommand, bootstrap
from tests.integration.scratch import scratch_database

WRITES = 20


@pytest.fixture
async def instance(settings: Settings) -> AsyncIterator[Running[VideoCommand]]:
    tag = uuid.uuid4().hex[:8]
    with scratch_database(settings, "video_command") as dsn:
        async with runtime.running(ENTRY, bootstrap, {
            "VIDMESH_SERVICE_NAME": f"video-command-it-{tag}", "VIDMESH_DATABASE_URL": dsn,
            "VIDMESH_TOPIC_PREFIX": f"it.supervision.{tag}.", "VIDMESH_GRPC_PORT": "0",
            "VIDMESH_CONSUL_REGISTER": "false", "VIDMESH_KAFKA_BOOTSTRAP": f"{settings.host}:{settings.kafka_port}",
            "VIDMESH_DRAIN_SECONDS": "0", "VIDMESH_SHUTDOWN_GRACE_SECONDS": "2",
        }) as running:
            yield running


def crash_once(work: Callable[..., Awaitable[int]]) -> Callable[..., Awaitable[int]]:
    """The relay's batch step, raising a bug the relay does not expect, the first time only."""
    calls = 0

    async def faulty(*args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ZeroDivisionError("injected: a bug in the relay")
        return await work(*args)

    return faulty


async def _health(port: int, service: str) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        return int((await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)).status)


def _published(bootstrap_servers: str, topic: str, want: int, timeout: float = 60.0) -> list[str]:
    """The aggregate ids of every event on `topic`, once `want` of them are there."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": f"it-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(EVENT_PARTITIONS)])
    found: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < want and time.monotonic() < deadline:
            for record in consumer.consume(100, 0.5):
                if record.error() is None:
                    found.append(events.parse(record.value()).aggregate_id)
        # A little longer, to see a duplicate if there is one.
        found += [events.parse(r.value()).aggregate_id for r in consumer.consume(100, 1.0) if r.error() is None]
    finally:
        consumer.close()
    return found


async def test_a_crashed_relay_is_restarted_and_no_event_is_lost(instance: Running[VideoCommand],
                                                                  settings: Settings) -> None:
    relay = instance.parts.relay
    relay._publish_batch = crash_once(relay._publish_batch)  # type: ignore[method-assign,assignment]
    with structlog.testing.capture_logs() as logs:
        created = [await instance.parts.handlers.create(c.CreateVideo(str(uuid.uuid4()), str(uuid.uuid4()),
                                                                      f"kept {n}", "", 30, (), ""))
                   for n in range(WRITES)]
        assert await _health(instance.port, "") == health_pb2.HealthCheckResponse.SERVING
        topic = instance.runtime.topic(VIDEO_EVENTS)
        published = await asyncio.to_thread(_published, f"{settings.host}:{settings.kafka_port}", topic, WRITES)
    assert sorted(published) == sorted(video.video_id for video in created)  # each once: none lost, none twice
    assert instance.runtime.supervisor.crashes["outbox-relay"] == 1
    crash = next(entry for entry in logs if entry["event"] == "worker crashed; restarting it")
    assert crash["worker"] == "outbox-relay" and isinstance(crash["exc_info"], ZeroDivisionError)
    assert await _health(instance.port, health_name("outbox-relay")) == health_pb2.HealthCheckResponse.SERVING
