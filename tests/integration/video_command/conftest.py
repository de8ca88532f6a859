"""video-command running in this test process against the shared stack's Postgres, Kafka
and Consul, built by its own bootstrap on a free port; a stub to call it; a reader of
video.v1.events from where the topic ended before the test."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import grpc.aio
import pytest
from confluent_kafka import Consumer, TopicPartition
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.video.v1 import events_pb2  # noqa: F401  (payload types for mesh.events.unpack)
from vidmesh.video.v1 import video_command_service_pb2_grpc as pb_grpc

from mesh import dbbootstrap, events, runtime
from mesh.db import open_pool
from mesh.runtime import Running
from mesh.settings import Settings
from mesh.topology import EVENT_PARTITIONS
from services.video_command.adapters.events import TOPIC
from services.video_command.bootstrap import ENTRY, VideoCommand, bootstrap

DEADLINE_S = 10.0

if TYPE_CHECKING:  # the async stub class exists in the type stubs only
    from vidmesh.video.v1.video_command_service_pb2_grpc import VideoCommandServiceAsyncStub as Stub


@pytest.fixture(scope="session")
def video_dsn(settings: Settings) -> str:
    dbbootstrap.run(settings)
    return dbbootstrap.service_dsn("video_command", settings)


@pytest.fixture(scope="session")
async def service(settings: Settings, video_dsn: str) -> AsyncIterator[Running[VideoCommand]]:
    """Registered under a name of its own, so the stack's routing never sends it a call."""
    async with runtime.running(ENTRY, bootstrap, {
        "VIDMESH_SERVICE_NAME": f"video-command-it-{uuid.uuid4().hex[:8]}",
        "VIDMESH_DATABASE_URL": video_dsn,
        "VIDMESH_GRPC_PORT": "0",
        "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
        "VIDMESH_KAFKA_BOOTSTRAP": f"{settings.host}:{settings.kafka_port}",
        "VIDMESH_DRAIN_SECONDS": "0.1",
    }) as running:
        await _wait_serving(running.port)
        yield running


@pytest.fixture
async def pool(video_dsn: str, service: Any) -> AsyncIterator[AsyncConnectionPool[AsyncConnection[Any]]]:
    """A pool of our own on video_write, once the service has migrated it."""
    pool = await open_pool(video_dsn, name="it-video-command", max_size=2)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def stub(service: Running[VideoCommand]) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield pb_grpc.VideoCommandServiceStub(channel)


async def _wait_serving(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        while True:
            reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
            assert time.monotonic() < deadline, "video-command never became SERVING"
            await asyncio.sleep(0.1)  # polling interval of a bounded wait


class TopicTail:
    """Reads video.v1.events from the end it had when created."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-video-command-{uuid.uuid4().hex}",
                                   "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        self._partitions = [TopicPartition(TOPIC, p) for p in range(EVENT_PARTITIONS)]
        self._next = {tp.partition: self._high(tp) for tp in self._partitions}
        self._consumer.assign([TopicPartition(TOPIC, p, offset) for p, offset in self._next.items()])

    def _high(self, tp: TopicPartition) -> int:
        return int(self._consumer.get_watermark_offsets(tp, timeout=10)[1])

    def read_to_end(self, timeout: float = 30.0) -> list[EventEnvelope]:
        """Every record appended since creation, up to the topic's current end."""
        ends = {tp.partition: self._high(tp) for tp in self._partitions}
        received: list[EventEnvelope] = []
        deadline = time.monotonic() + timeout
        while any(self._next[p] < end for p, end in ends.items()):
            assert time.monotonic() < deadline, "topic not read to its end in time"
            for record in self._consumer.consume(500, 0.2):
                assert record.error() is None, record.error()
                self._next[int(record.partition() or 0)] = int(record.offset() or 0) + 1
                env, _ = events.unpack(record.value())
                assert record.key() == env.aggregate_id.encode()
                received.append(env)
        return received

    def close(self) -> None:
        self._consumer.close()


@pytest.fixture
def topic_tail(settings: Settings, service: Running[VideoCommand]) -> Iterator[TopicTail]:
    tail = TopicTail(f"{settings.host}:{settings.kafka_port}")
    yield tail
    tail.close()


async def published_events(tail: TopicTail, dsn: str, video_ids: set[str]) -> list[EventEnvelope]:
    """The events of these videos on the topic, once the outbox has published all of them."""
    deadline = time.monotonic() + 30
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        while True:
            cursor = await conn.execute("SELECT count(*) FROM outbox WHERE key = ANY(%s) AND published_at IS NULL",
                                        (list(video_ids),))
            row = await cursor.fetchone()
            if row and row[0] == 0:
                break
            assert time.monotonic() < deadline, "outbox not drained"
            await asyncio.sleep(0.1)  # polling interval of a bounded wait
    envelopes = await asyncio.to_thread(tail.read_to_end)
    return [env for env in envelopes if env.aggregate_id in video_ids]
