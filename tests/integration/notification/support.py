"""Helpers for the notification and email integration tests (the email tests use them too).

Each test module gets its own databases, topics (a unique prefix), consumer groups and
Consul names, so it never collides with the running stack's own instances or another run.
"""

from __future__ import annotations

import asyncio
import mailbox
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TypeVar

import grpc.aio
import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import events
from mesh.dbbootstrap import superuser_dsn
from mesh.kafka import producer_config
from mesh.settings import Settings


def new_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def scratch_database(settings: Settings, prefix: str) -> Iterator[str]:
    """A fresh database for one test module; its DSN (dropped afterwards)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(superuser_dsn(settings), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield superuser_dsn(settings, name)
    finally:
        with psycopg.connect(superuser_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def service_env(settings: Settings, name: str, dsn: str, topic_prefix: str, **extra: str) -> dict[str, str]:
    """What the service would read from its environment, on port 0 with a quick shutdown,
    under its own Consul name and consumer group (`name`) and topic prefix."""
    return {
        "VIDMESH_SERVICE_NAME": name, "VIDMESH_TOPIC_PREFIX": topic_prefix,
        "VIDMESH_GRPC_HOST": "127.0.0.1", "VIDMESH_GRPC_PORT": "0",
        "VIDMESH_DATABASE_URL": dsn, "VIDMESH_KAFKA_BOOTSTRAP": f"{settings.host}:{settings.kafka_port}",
        "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
        "VIDMESH_DRAIN_SECONDS": "0.1", "VIDMESH_SHUTDOWN_GRACE_SECONDS": "2", **extra,
    }


def envelope(event: Message, aggregate_id: str, source: str = "/vidmesh/it") -> EventEnvelope:
    """A real envelope around an event, as the producing service would write it."""
    return events.envelope(event, source, f"it/{aggregate_id}", aggregate_id)


def produce(bootstrap: str, topic: str, envelopes: Sequence[EventEnvelope]) -> None:
    """Publish envelopes keyed by aggregate id and wait until Kafka has them."""
    producer = Producer(producer_config(bootstrap, **{"message.timeout.ms": 30000}))
    for env in envelopes:
        producer.produce(topic, key=env.aggregate_id, value=env.SerializeToString())
    assert producer.flush(30) == 0


def read_topic(bootstrap: str, topic: str, timeout: float = 30) -> list[EventEnvelope]:
    """Every envelope on the topic now (up to each partition's end), in partition order."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-reader-{uuid.uuid4().hex}",
                       "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        reader.assign([TopicPartition(topic, p, 0) for p in partitions])
        found: list[EventEnvelope] = []
        positions = dict.fromkeys(partitions, 0)
        deadline = time.monotonic() + timeout
        while any(positions[p] < ends[p] for p in partitions):
            assert time.monotonic() < deadline, f"read {positions} of {ends} on {topic}"
            for record in reader.consume(100, 0.5):
                if record.error() is None:
                    positions[record.partition()] = int(record.offset() or 0) + 1
                    found.append(events.parse(record.value()))
        return found
    finally:
        reader.close()


def end_offsets(bootstrap: str, topics: Sequence[str]) -> int:
    """How many records the topics hold (they are this module's own, so start at offset 0)."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-reader-{uuid.uuid4().hex}"})
    try:
        total = 0
        for topic in topics:
            for p in reader.list_topics(topic, timeout=10).topics[topic].partitions:
                total += reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        return total
    finally:
        reader.close()


def rewind(bootstrap: str, group: str, topics: Sequence[str]) -> None:
    """Move an idle group's committed offsets back to the start of every partition."""
    rewinder = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        offsets = [TopicPartition(topic, p, 0) for topic in topics
                   for p in rewinder.list_topics(topic, timeout=10).topics[topic].partitions]
        rewinder.commit(offsets=offsets, asynchronous=False)
    finally:
        rewinder.close()


def delete_topics(bootstrap: str, topics: Sequence[str]) -> None:
    """Remove a module's topics (missing ones are fine)."""
    # Held until the answers are in: a client destroyed first purges them unserved, and its
    # futures then never settle (CI waited the full 15 s on one).
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics(list(topics)).values():
        future.exception(timeout=15)


def mails_with_message_id(maildir: Path, message_id: str) -> list[mailbox.MaildirMessage]:
    """The messages in the sink's Maildir with this Message-ID (headers only are parsed to find them)."""
    box = mailbox.Maildir(maildir, create=False)
    found = []
    for key in box.iterkeys():
        try:
            with box.get_file(key) as file:
                headers = BytesHeaderParser().parsebytes(file.read())
        except FileNotFoundError:  # another test's sink cleanup; not ours
            continue
        if headers["Message-ID"] == message_id:
            found.append(box.get_message(key))
    return found


T = TypeVar("T")


async def wait_until(check: Callable[[], Awaitable[T]], what: str, timeout: float = 30) -> T:
    """Poll `check` (bounded) until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.1)  # the polling interval of a bounded wait


def bad_request_fields(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields named by the google.rpc.BadRequest of an INVALID_ARGUMENT."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    fields: list[str] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            fields.extend(v.field for v in bad_request.field_violations)
    return fields
