"""The idempotent consumer against real Postgres and Kafka: one effect per event, poison to the DLQ."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.video.v1.events_pb2 import VideoPublished

from mesh import consumer as mesh_consumer
from mesh import events, migrations
from mesh.consumer import (
    DLQ_ATTEMPTS,
    DLQ_ERROR,
    DLQ_ERROR_TYPE,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
    IdempotentConsumer,
)
from mesh.db import open_pool
from mesh.dbbootstrap import superuser_dsn
from mesh.kafka import dlq_topic, ensure_topics, producer_config
from mesh.settings import Settings
from tests.spans import attribute, parent_id, span_id, trace_id, wait_span

OWNER = str(uuid.uuid4())


@pytest.fixture
def bootstrap(settings: Settings) -> str:
    return f"{settings.host}:{settings.kafka_port}"


@pytest.fixture
def group() -> str:
    return f"it-consumer-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def topic(bootstrap: str, group: str) -> Iterator[str]:
    name = f"it.consumer.{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {name: 3})
    yield name
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics([name, dlq_topic(group)]).values():
        future.exception(timeout=15)  # the DLQ may not exist; nothing to assert on cleanup


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[AsyncConnectionPool[AsyncConnection[Any]]]:
    """A database of its own with mesh's migrations (inbox) and an effects table to count."""
    name = f"it_consumer_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(superuser_dsn(settings), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = superuser_dsn(settings, name)
    try:
        migrations.apply(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            # No unique key on purpose: a second application of one event shows as a second row.
            conn.execute("CREATE TABLE effects (event_id uuid NOT NULL, title text NOT NULL)")
        pool = await open_pool(dsn, name="it-consumer", max_size=4)
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        with psycopg.connect(superuser_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _envelope(title: str, video_id: str | None = None) -> EventEnvelope:
    video_id = video_id or str(uuid.uuid4())
    event = VideoPublished(video_id=video_id, owner_id=OWNER, version=1, title=title)
    return events.envelope(event, "/vidmesh/it-consumer", f"videos/{video_id}", video_id, 1)


def _produce(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap, **{"message.timeout.ms": 30000}))
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


async def _effects(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> list[tuple[str, str]]:
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT event_id::text, title FROM effects ORDER BY title")).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


async def _run_until(consumer: IdempotentConsumer, done: Callable[[], bool], timeout: float = 60) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert not task.done(), task.exception() if task.done() else None
            assert time.monotonic() < deadline, f"consumer counts {consumer.counts}"
            await asyncio.sleep(0.05)  # polling interval of a bounded wait
    finally:
        await consumer.stop()
        await asyncio.wait_for(task, timeout=30)


async def _record_effect(conn: AsyncConnection[Any], envelope: EventEnvelope, event: VideoPublished) -> None:
    await conn.execute("INSERT INTO effects (event_id, title) VALUES (%s, %s)", (envelope.id, event.title))


def _rewind(bootstrap: str, group: str, topic: str) -> None:
    """Move the (idle) group's committed offsets back to the start of every partition."""
    rewinder = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        rewinder.commit(offsets=[TopicPartition(topic, p, 0) for p in range(3)], asynchronous=False)
    finally:
        rewinder.close()


async def test_redelivered_batch_produces_one_effect_per_event(
        pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topic: str, group: str) -> None:
    sent = [_envelope(f"video-{i:02d}") for i in range(30)]
    _produce(bootstrap, topic, [(env.aggregate_id, env.SerializeToString()) for env in sent])

    def make() -> IdempotentConsumer:
        return IdempotentConsumer(pool, bootstrap, group, [topic], {VideoPublished: _record_effect})

    first = make()
    await _run_until(first, lambda: first.counts["applied"] == len(sent))
    assert len(await _effects(pool)) == len(sent)

    await asyncio.to_thread(_rewind, bootstrap, group, topic)
    second = make()  # same group, offsets at 0: Kafka delivers the whole batch again
    await _run_until(second, lambda: second.counts["duplicate"] == len(sent))
    assert second.counts["applied"] == 0
    assert sorted(await _effects(pool)) == sorted((env.id, f"video-{i:02d}") for i, env in enumerate(sent))


def _committed(bootstrap: str, group: str, topic: str) -> int:
    """How many records of `topic` the group has committed past, over its 3 partitions."""
    asker = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        found = asker.committed([TopicPartition(topic, p) for p in range(3)], timeout=15)
    finally:
        asker.close()
    return sum(max(0, tp.offset) for tp in found)


async def test_what_is_applied_is_committed_within_a_second_and_at_stop(
        pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topic: str, group: str) -> None:
    first, then = [_envelope(f"video-{i:02d}") for i in range(10)], [_envelope(f"late-{i}") for i in range(5)]
    _produce(bootstrap, topic, [(env.aggregate_id, env.SerializeToString()) for env in first])
    consumer = IdempotentConsumer(pool, bootstrap, group, [topic], {VideoPublished: _record_effect})
    running = asyncio.create_task(consumer.run())
    try:
        # While it runs: the stored offsets are committed in the background, soon.
        deadline = time.monotonic() + 30
        while await asyncio.to_thread(_committed, bootstrap, group, topic) < len(first):
            assert not running.done() and time.monotonic() < deadline, f"counts {consumer.counts}"
            await asyncio.sleep(0.1)  # polling interval of a bounded wait
        _produce(bootstrap, topic, [(env.aggregate_id, env.SerializeToString()) for env in then])
        deadline = time.monotonic() + 30
        while consumer.counts["applied"] < len(first) + len(then):
            assert not running.done() and time.monotonic() < deadline, f"counts {consumer.counts}"
            await asyncio.sleep(0.01)  # polling interval of a bounded wait
    finally:
        await consumer.stop()
        await asyncio.wait_for(running, timeout=30)
    # Stopped at once, well inside the commit interval: closing committed what was applied.
    assert await asyncio.to_thread(_committed, bootstrap, group, topic) == len(first) + len(then)


def _read_dlq(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[Any]:
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-{uuid.uuid4().hex}",
                       "auto.offset.reset": "earliest", "enable.auto.commit": False})
    reader.assign([TopicPartition(topic, 0, 0)])
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            found.extend(r for r in reader.consume(10, 0.5) if r.error() is None)
    finally:
        reader.close()
    return found


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_rest_is_processed(
        pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topic: str, group: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mesh_consumer, "PROGRESS_EVERY_S", 0.2)  # Kafka is asked for the dead letters often
    key = str(uuid.uuid4())  # one key: one partition, so the order below is the delivery order
    good = [_envelope(f"good-{i}", key) for i in range(3)]
    boom = _envelope("boom", key)
    records = [(key, good[0].SerializeToString()), (key, b"\x08\x96\x01 garbage, not an envelope"),
               (key, good[1].SerializeToString()), (key, boom.SerializeToString()), (key, good[2].SerializeToString())]
    _produce(bootstrap, topic, records)
    calls: dict[str, int] = {}

    async def handler(conn: AsyncConnection[Any], envelope: EventEnvelope, event: VideoPublished) -> None:
        calls[event.title] = calls.get(event.title, 0) + 1
        await _record_effect(conn, envelope, event)  # rolled back with the failing transaction
        if event.title == "boom":
            raise RuntimeError("boom: the handler cannot apply this event")

    consumer = IdempotentConsumer(pool, bootstrap, group, [topic], {VideoPublished: handler},
                                  max_attempts=3, retry_backoff=0.05)
    # Only Kafka's answer, asked beside the consume loop, sets the dead-letter count (the metric).
    await _run_until(consumer, lambda: consumer.counts["applied"] == 3 and consumer.counts["dead_lettered"] == 2
                     and consumer.progress.dead_letters == 2)

    assert [title for _, title in await _effects(pool)] == ["good-0", "good-1", "good-2"]
    assert calls["boom"] == 3
    dead = await asyncio.to_thread(_read_dlq, bootstrap, dlq_topic(group), 2)
    assert len(dead) == 2
    headers = [dict(record.headers()) for record in dead]
    assert [record.value() for record in dead] == [records[1][1], records[3][1]]
    assert [h[DLQ_ERROR_TYPE] for h in headers] == [b"EventError", b"RuntimeError"]
    assert [h[DLQ_ATTEMPTS] for h in headers] == [b"0", b"3"]
    assert b"boom: the handler cannot apply" in headers[1][DLQ_ERROR]
    assert all(h[DLQ_TOPIC] == topic.encode() for h in headers)
    original = [(int(h[DLQ_PARTITION]), int(h[DLQ_OFFSET])) for h in headers]
    assert original[1][1] == original[0][1] + 2 and original[0][0] == original[1][0]


async def test_each_record_is_processed_in_a_child_span_of_the_event_and_its_lag_is_measured(
        spans: InMemorySpanExporter,  # first: tracing (and psycopg's instrumentation) before the pool connects
        pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topic: str, group: str) -> None:
    cause_trace, cause_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    traced = _envelope("traced")
    traced.traceparent = f"00-{cause_trace}-{cause_span}-01"  # as the producer's outbox wrote it
    sent = [traced, *(_envelope(f"video-{i:02d}") for i in range(5))]
    _produce(bootstrap, topic, [(env.aggregate_id, env.SerializeToString()) for env in sent])
    consumer = IdempotentConsumer(pool, bootstrap, group, [topic], {VideoPublished: _record_effect})
    assert consumer.progress.seconds_behind(time.time()) == 0  # nothing assigned, nothing known
    await _run_until(consumer, lambda: consumer.counts["applied"] == len(sent) and consumer.progress.high != {})
    processing = await wait_span(spans, lambda s: attribute(s, "messaging.message.id") == traced.id)
    assert processing.name == "process VideoPublished" and processing.kind is SpanKind.CONSUMER
    assert (f"{trace_id(processing):032x}", f"{parent_id(processing):016x}") == (cause_trace, cause_span)
    assert attribute(processing, "vidmesh.outcome") == "applied"
    # The handler's statements are children of the processing span.
    insert = await wait_span(spans, lambda s: s.name == "INSERT" and parent_id(s) == span_id(processing))
    assert insert.kind is SpanKind.CLIENT
    assert sum(consumer.progress.lag().values()) == 0 and consumer.progress.seconds_behind(time.time()) == 0
    assert sum(consumer.progress.high.values()) == len(sent)


async def test_an_envelope_whose_payload_cannot_be_read_is_dead_lettered_and_the_consumer_goes_on(
        pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topic: str, group: str) -> None:
    # A valid envelope around bytes that are no VideoPublished: reading it used to raise
    # DecodeError out of run(), so the supervisor restarted the consumer onto the same record.
    key = str(uuid.uuid4())
    good, unreadable = [_envelope(f"good-{i}", key) for i in range(2)], _envelope("unreadable", key)
    unreadable.data.value = b"\x0a\x05ab"  # field 1 says 5 bytes, 2 follow
    _produce(bootstrap, topic, [(key, good[0].SerializeToString()), (key, unreadable.SerializeToString()),
                                (key, good[1].SerializeToString())])
    consumer = IdempotentConsumer(pool, bootstrap, group, [topic], {VideoPublished: _record_effect})
    await _run_until(consumer, lambda: consumer.counts["applied"] == 2 and consumer.counts["dead_lettered"] == 1)

    assert [title for _, title in await _effects(pool)] == ["good-0", "good-1"]
    [dead] = await asyncio.to_thread(_read_dlq, bootstrap, dlq_topic(group), 1)
    assert dead.value() == unreadable.SerializeToString()
    assert dict(dead.headers())[DLQ_ERROR_TYPE] == b"EventError"
