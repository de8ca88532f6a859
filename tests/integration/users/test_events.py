"""The events of register, follow and unfollow land on users.v1.events exactly once, keyed
by their aggregate, after the outbox has published them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, TopicPartition
from google.protobuf.message import Message
from psycopg import AsyncConnection
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1 import events_pb2
from vidmesh.users.v1 import users_service_pb2 as pb
from vidmesh.users.v1 import users_service_pb2_grpc as pb_grpc

from mesh import events
from mesh.runtime import Running
from mesh.settings import Settings
from mesh.topology import EVENT_PARTITIONS, USERS_EVENTS
from services.users.handlers import Deps
from tests.integration.users.support import DEADLINE_S, new_id, register

Record = tuple[bytes | None, EventEnvelope, Message]  # key, envelope, payload


class TopicTail:
    """Reads users.v1.events from the end it had when created."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-users-{uuid.uuid4().hex}",
                                   "enable.auto.commit": False})
        self._partitions = [TopicPartition(USERS_EVENTS, p) for p in range(EVENT_PARTITIONS)]
        self._next = {tp.partition: self._end(tp) for tp in self._partitions}
        self._consumer.assign([TopicPartition(USERS_EVENTS, p, offset) for p, offset in self._next.items()])

    def _end(self, tp: TopicPartition) -> int:
        return int(self._consumer.get_watermark_offsets(tp, timeout=10)[1])

    def read_to_end(self, timeout: float = 30.0) -> list[Record]:
        """Every record appended since creation, up to the topic's current end."""
        ends = {tp.partition: self._end(tp) for tp in self._partitions}
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        while any(self._next[p] < end for p, end in ends.items()):
            assert time.monotonic() < deadline, "topic not read to its end in time"
            for record in self._consumer.consume(500, 0.2):
                assert record.error() is None, record.error()
                partition, offset = record.partition(), record.offset()
                assert partition is not None and offset is not None
                self._next[partition] = offset + 1
                envelope, payload = events.unpack(record.value())
                records.append((record.key(), envelope, payload))
        return records

    def close(self) -> None:
        self._consumer.close()


@pytest.fixture
def tail(settings: Settings, users: Running[Deps]) -> Iterator[TopicTail]:
    # `users` first: it makes sure the topic exists before the tail reads its ends.
    tail = TopicTail(f"{settings.host}:{settings.kafka_port}")
    yield tail
    tail.close()


async def outbox_event_ids(dsn: str, keys: list[str], expected: int) -> set[str]:
    """The ids of the outbox rows with these keys, once `expected` of them are all published."""
    deadline = time.monotonic() + 30
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        while True:
            cursor = await conn.execute("SELECT event_id, published_at IS NOT NULL FROM outbox WHERE key = ANY(%s)",
                                        (keys,))
            rows = await cursor.fetchall()
            if len(rows) >= expected and all(sent for _, sent in rows):
                return {str(event_id) for event_id, _ in rows}
            assert time.monotonic() < deadline, f"outbox not published in time: {rows}"
            await asyncio.sleep(0.1)  # polling interval of a bounded wait


async def test_register_follow_and_unfollow_events_land_exactly_once(
        stub: pb_grpc.UserServiceAsyncStub, tail: TopicTail, users_dsn: str) -> None:
    ann, bob = await register(stub, "Ann"), await register(stub, "Bob")
    first = pb.FollowRequest(request_id=new_id(), follower_id=bob.user_id, channel_id=ann.user_id)
    for request in (first, first, pb.FollowRequest(request_id=new_id(), follower_id=bob.user_id,
                                                   channel_id=ann.user_id)):
        await stub.Follow(request, timeout=DEADLINE_S)  # one follow, a replay, a second follow
    await stub.Unfollow(pb.UnfollowRequest(request_id=new_id(), follower_id=bob.user_id, channel_id=ann.user_id),
                        timeout=DEADLINE_S)

    event_ids = await outbox_event_ids(users_dsn, [ann.user_id, bob.user_id], expected=4)
    ours = [r for r in await asyncio.to_thread(tail.read_to_end) if r[1].aggregate_id in (ann.user_id, bob.user_id)]

    assert sorted(envelope.id for _, envelope, _ in ours) == sorted(event_ids)  # each once, no strays
    by_type = {envelope.type.rsplit(".", 1)[1]: (key, envelope, payload) for key, envelope, payload in ours
               if envelope.aggregate_id == ann.user_id}
    assert sorted(by_type) == ["UserFollowed", "UserRegistered", "UserUnfollowed"]
    assert by_type["UserFollowed"][2] == events_pb2.UserFollowed(
        follower_id=bob.user_id, channel_id=ann.user_id, follower_display_name="Bob", follower_count=1)
    assert by_type["UserUnfollowed"][2] == events_pb2.UserUnfollowed(
        follower_id=bob.user_id, channel_id=ann.user_id, follower_count=0)
    assert by_type["UserRegistered"][2] == events_pb2.UserRegistered(
        user_id=ann.user_id, email=ann.email, display_name="Ann")
    for key, envelope, _ in ours:
        assert key == envelope.aggregate_id.encode()  # follow events keyed by the channel
        assert envelope.source == "/vidmesh/users"
        assert envelope.traceparent  # continues the request's trace
