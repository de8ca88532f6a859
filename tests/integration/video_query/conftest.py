"""video-query against the real stack: a scratch database owned by the video_query role,
topics and a consumer group of its own, the service run in-process by the runtime on port 0."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc.aio
import psycopg
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1 import events_pb2 as users_events
from vidmesh.video.v1 import video_query_service_pb2 as pb
from vidmesh.video.v1 import video_query_service_pb2_grpc as pb_grpc

from mesh import config as mesh_config
from mesh import dbbootstrap, events, runtime, topology
from mesh.kafka import dlq_topic, ensure_topics, producer_config
from mesh.runtime import Running
from mesh.server import SERVING
from mesh.settings import Settings
from services.video_query.bootstrap import ENTRY, Parts, bootstrap
from tests.integration.video_query import events as ev

T = TypeVar("T")
SOURCE = "/vidmesh/it-video-query"
READ_TABLES = {"videos": "video_id", "likes": "video_id, user_id", "comments": "comment_id",
               "users": "user_id", "follows": "follower_id, channel_id"}


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> str:
    return f"{settings.host}:{settings.kafka_port}"


@pytest.fixture(scope="session")
def roles(settings: Settings) -> None:
    """Every service role exists (idempotent)."""
    dbbootstrap.run(settings)


@pytest.fixture(scope="module")
def database(settings: Settings, roles: None) -> Iterator[str]:
    """A database laid out like `video` (schema video_read owned by video_query); its DSN as video_query."""
    name = f"it_video_query_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbbootstrap.superuser_dsn(settings), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
        conn.execute(f"REVOKE ALL ON DATABASE {name} FROM PUBLIC")
        conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO video_query")
    try:
        with psycopg.connect(dbbootstrap.superuser_dsn(settings, name), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute("CREATE SCHEMA video_read AUTHORIZATION video_query")
        yield dbbootstrap.dsn("video_query", settings).rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(dbbootstrap.superuser_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@dataclass(frozen=True)
class Feed:
    """What a module's instances read: topics of its own (VIDMESH_TOPIC_PREFIX) and one consumer
    group (VIDMESH_SERVICE_NAME), so they share the projection like the stack's instances do."""

    prefix: str
    group: str

    @property
    def video_topic(self) -> str:
        return self.prefix + topology.VIDEO_EVENTS

    @property
    def users_topic(self) -> str:
        return self.prefix + topology.USERS_EVENTS

    @property
    def topics(self) -> list[str]:
        return [self.prefix + topic for topic in ENTRY.consumes]

    def environ(self, database: str, kafka: str) -> dict[str, str]:
        """The instance's environment: this feed, the scratch database, a quick stop, no Consul."""
        return {"VIDMESH_SERVICE_NAME": self.group, "VIDMESH_TOPIC_PREFIX": self.prefix,
                "VIDMESH_DATABASE_URL": database, "VIDMESH_KAFKA_BOOTSTRAP": kafka, "VIDMESH_GRPC_PORT": "0",
                "VIDMESH_PAGE_TOKEN_KEY": "it-key", "VIDMESH_CONSUL_REGISTER": "false",
                "VIDMESH_DRAIN_SECONDS": "0", "VIDMESH_SHUTDOWN_GRACE_SECONDS": "2"}

    def config(self, database: str, kafka: str) -> mesh_config.ServiceConfig:
        """The mesh configuration an instance of this feed reads (for the rebuild's functions)."""
        return mesh_config.load(self.environ(database, kafka))


@pytest.fixture(scope="module")
def feed(kafka: str) -> Iterator[Feed]:
    """Topics and a consumer group of this module's own; deleted afterwards with the DLQs."""
    tag = uuid.uuid4().hex[:8]
    made = Feed(prefix=f"it.vq.{tag}.", group=f"video-query-it-{tag}")
    ensure_topics(kafka, dict.fromkeys(made.topics, topology.EVENT_PARTITIONS))
    yield made
    groups = [made.group, f"{made.group}-rebuild"]
    admin = AdminClient({"bootstrap.servers": kafka})
    for future in admin.delete_topics([*made.topics, *map(dlq_topic, groups)]).values():
        future.exception(timeout=15)  # a DLQ may not exist: nothing to assert on cleanup
    for future in admin.delete_consumer_groups(groups).values():
        future.exception(timeout=15)


@dataclass
class Instance:
    """One in-process video-query, built by its own bootstrap: its parts and a client stub."""

    parts: Parts
    running: Running[Parts]
    stub: pb_grpc.VideoQueryServiceAsyncStub


@asynccontextmanager
async def running(database: str, kafka: str, feed: Feed, **environ: str) -> AsyncIterator[Instance]:
    """Start an instance of `feed` on a free port (`environ` adds or replaces settings) and stop
    it afterwards; it is SERVING when the block starts."""
    async with runtime.running(ENTRY, bootstrap, {**feed.environ(database, kafka), **environ}) as started, \
            grpc.aio.insecure_channel(f"127.0.0.1:{started.port}") as channel:
        await eventually(lambda: health_of(channel), lambda status: status == SERVING, timeout=30)
        yield Instance(started.parts, started, pb_grpc.VideoQueryServiceStub(channel))


async def health_of(channel: grpc.aio.Channel, service: str = "") -> int:
    """The instance's grpc.health.v1 status (of the whole server, or of one entry)."""
    stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
    return int((await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)).status)


class Publisher:
    """Publishes real envelopes the way the command and users services do: keyed by aggregate id."""

    def __init__(self, kafka: str) -> None:
        self._producer = Producer(producer_config(kafka))

    def envelope(self, event: Message, aggregate_id: str, version: int = 0) -> EventEnvelope:
        return events.envelope(event, SOURCE, f"x/{aggregate_id}", aggregate_id, version)

    def send(self, topic: str, *events_: Message, aggregate_id: str) -> list[EventEnvelope]:
        """Publish events of one aggregate in order (video events carry their version) and wait for Kafka."""
        sent = [self.envelope(e, aggregate_id, getattr(e, "version", 0)) for e in events_]
        for env in sent:
            self._producer.produce(topic, key=aggregate_id, value=env.SerializeToString())
        assert self._producer.flush(15) == 0, "Kafka did not take the events in 15 s"
        return sent

    def video(self, topic: str, *events_: Any) -> int:
        """Publish events of one video in order; the version the last one gives it."""
        self.send(topic, *events_, aggregate_id=events_[0].video_id)
        return int(events_[-1].version)

    def register(self, topic: str, user_id: str, name: str) -> None:
        event = users_events.UserRegistered(user_id=user_id, email=f"{user_id[:8]}@example.com", display_name=name)
        self.send(topic, event, aggregate_id=user_id)


@pytest.fixture(scope="module")
def publisher(kafka: str) -> Publisher:
    return Publisher(kafka)


def bad_fields(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields an INVALID_ARGUMENT's google.rpc.BadRequest names."""
    raw = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
    assert isinstance(raw, bytes), "no rich status"
    request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(raw).details[0].Unpack(request)
    return [violation.field for violation in request.field_violations]


async def eventually(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 20.0,
                     interval: float = 0.1) -> T:
    """Bounded polling: probe until check(result) holds; fail with the last result at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await probe()
            if check(result):
                return result
            last: Any = result
        except grpc.aio.AioRpcError as error:
            last = error
        assert time.monotonic() < deadline, f"not reached in {timeout} s; last: {last}"
        await asyncio.sleep(interval)


async def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every read table, every column, in primary key order."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        tables = {}
        for table, key in READ_TABLES.items():
            cursor = await conn.execute(f"SELECT * FROM {table} ORDER BY {key}")
            tables[table] = await cursor.fetchall()
        return tables


@pytest.fixture(scope="module")
async def instance(database: str, kafka: str, feed: Feed, publisher: Publisher) -> AsyncIterator[Instance]:
    async with running(database, kafka, feed) as started:
        # Ready once the projector owns the partitions: a first video shows up.
        video_id, owner = new_id(), new_id()
        publisher.send(feed.video_topic, ev.created(video_id, owner), aggregate_id=video_id)
        await eventually(lambda: started.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, viewer_id=owner),
                                                       timeout=5), lambda answer: True, timeout=30)
        yield started
