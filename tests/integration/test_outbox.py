"""The outbox relay against real Postgres and Kafka: every committed event once, in key order."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from psycopg import AsyncConnection
from vidmesh.video.v1.events_pb2 import VideoUpdated

from mesh import events, migrations, outbox, tracing
from mesh.dbbootstrap import superuser_dsn
from mesh.kafka import ensure_topics
from mesh.outbox import OutboxRelay
from mesh.settings import Settings
from scripts.devstack.stack import Stack
from tests.spans import parent_id, span_id, trace_id, wait_span

WRITERS = 32
KEYS = 8
OWNER = str(uuid.uuid4())
SOURCE = "/vidmesh/it-outbox"


@dataclass
class Written:
    """What writers committed: (key, version, event id), in commit order."""

    events: list[tuple[str, int, str]] = field(default_factory=list)


@pytest.fixture
def bootstrap(settings: Settings) -> str:
    return f"{settings.host}:{settings.kafka_port}"


@pytest.fixture
def scratch_dsn(settings: Settings) -> Iterator[str]:
    """A database of its own, with mesh's migrations and an aggregate table the writers update."""
    name = f"it_outbox_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(superuser_dsn(settings), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = superuser_dsn(settings, name)
    try:
        migrations.apply(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE videos (id uuid PRIMARY KEY, version bigint NOT NULL DEFAULT 0)")
        yield dsn
    finally:
        with psycopg.connect(superuser_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def topic(bootstrap: str) -> Iterator[str]:
    name = f"it.outbox.{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {name: 3})
    yield name
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the deletion is confirmed
    admin.delete_topics([name])[name].result(timeout=15)


@pytest.fixture
async def keys(scratch_dsn: str) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(KEYS)]
    async with await AsyncConnection.connect(scratch_dsn, autocommit=True) as conn:
        await conn.execute("INSERT INTO videos (id) SELECT unnest(%s::uuid[])", (ids,))
    return ids


@pytest.fixture
async def relay(scratch_dsn: str, bootstrap: str) -> AsyncIterator[OutboxRelay]:
    relay = OutboxRelay(scratch_dsn, bootstrap, poll_interval=0.5)
    task = asyncio.create_task(relay.run())
    yield relay
    await relay.stop()
    await asyncio.wait_for(task, timeout=30)


async def _write_one(conn: AsyncConnection[tuple[object, ...]], topic: str, key: str, rng: random.Random) -> tuple[
        str, int, str]:
    """One command: bump the aggregate (locking it), add its event, sometimes hold the tx open a little."""
    async with conn.transaction():
        cursor = await conn.execute("UPDATE videos SET version = version + 1 WHERE id = %s RETURNING version", (key,))
        row = await cursor.fetchone()
        assert row is not None
        version = int(str(row[0]))
        event = VideoUpdated(video_id=key, owner_id=OWNER, version=version, title=f"v{version}")
        env = events.envelope(event, SOURCE, f"videos/{key}", key, version)
        await outbox.add(conn, env, topic)
        if rng.random() < 0.3:
            # Deliberate: this transaction holds its outbox id uncommitted while writers of
            # other keys commit later ids, so ids become visible out of order.
            await asyncio.sleep(rng.uniform(0.001, 0.02))
    return key, version, env.id


async def _writer(dsn: str, topic: str, keys: list[str], written: Written, seed: int, *, count: int | None = None,
                  until: asyncio.Event | None = None, pace: float = 0.0) -> None:
    rng = random.Random(seed)
    async with await AsyncConnection.connect(dsn) as conn:
        done = 0
        while (count is None or done < count) and not (until and until.is_set()):
            written.events.append(await _write_one(conn, topic, rng.choice(keys), rng))
            done += 1
            if pace:
                await asyncio.sleep(rng.uniform(0, 2 * pace))  # writers' think time, not a wait for readiness


async def _unsent(dsn: str) -> int:
    async with await AsyncConnection.connect(dsn) as conn:
        row = await (await conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")).fetchone()
    return int(str(row[0])) if row else -1


async def _wait_published_upto(dsn: str, last_id: int, timeout: float) -> float:
    """Wait (bounded) until every row up to last_id is published; return how long it took."""
    began = time.monotonic()
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        query = "SELECT count(*) FROM outbox WHERE id <= %s AND published_at IS NULL"
        while (row := await (await conn.execute(query, (last_id,))).fetchone()) and row[0]:
            assert time.monotonic() - began < timeout, f"{row[0]} rows up to id {last_id} still unsent"
            await asyncio.sleep(0.05)  # polling interval of a bounded wait
    return time.monotonic() - began


async def _last_id(dsn: str) -> int:
    async with await AsyncConnection.connect(dsn) as conn:
        row = await (await conn.execute("SELECT coalesce(max(id), 0) FROM outbox")).fetchone()
    return int(str(row[0])) if row else 0


async def _wait_drained(dsn: str, timeout: float) -> float:
    began = time.monotonic()
    while await _unsent(dsn) > 0:
        assert time.monotonic() - began < timeout, f"outbox not drained after {timeout}s"
        await asyncio.sleep(0.1)  # polling interval of a bounded wait
    return time.monotonic() - began


def _read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[tuple[str, int, str]]:
    """Everything in the topic as (key, version, event id) in partition order; checks nothing is extra."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    received: list[tuple[str, int, str]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(received) < expected and time.monotonic() < deadline:
            for record in consumer.consume(500, 0.5):
                assert record.error() is None, record.error()
                env, payload = events.unpack(record.value())
                assert isinstance(payload, VideoUpdated)
                assert record.key() == env.aggregate_id.encode()
                received.append((env.aggregate_id, env.aggregate_version, env.id))
        total = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(3))
    finally:
        consumer.close()
    assert total == len(received), f"topic holds {total} records, read {len(received)}"
    return received


def _check_stream(written: Written, received: list[tuple[str, int, str]]) -> None:
    ids = Counter(event_id for _, _, event_id in received)
    duplicates = [event_id for event_id, n in ids.items() if n > 1]
    assert not duplicates, f"{len(duplicates)} events published more than once"
    missing = {e for _, _, e in written.events} - set(ids)
    assert not missing, f"{len(missing)} committed events never published"
    assert len(received) == len(written.events)
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, version, _ in received:  # a key lives in one partition, so this is its publish order
        per_key[key].append(version)
    for key, versions in per_key.items():
        assert versions == list(range(1, len(versions) + 1)), f"key {key} out of order: {versions[:20]}"


async def test_row_committed_after_a_later_id_was_published_is_still_published(
        scratch_dsn: str, topic: str, keys: list[str], relay: OutboxRelay, bootstrap: str) -> None:
    written, rng = Written(), random.Random(1)
    async with await AsyncConnection.connect(scratch_dsn) as slow, await AsyncConnection.connect(scratch_dsn) as fast:
        async with slow.transaction():
            await slow.execute("UPDATE videos SET version = 1 WHERE id = %s", (keys[0],))
            env = events.envelope(VideoUpdated(video_id=keys[0], owner_id=OWNER, version=1), SOURCE, "v", keys[0], 1)
            await outbox.add(slow, env, topic)  # takes the lower id and keeps it uncommitted
            written.events.append(await _write_one(fast, topic, keys[1], rng))  # a later id, committed
            deadline = time.monotonic() + 30
            while relay.published < 1:  # the relay has seen and published the later id
                assert time.monotonic() < deadline, "relay published nothing"
                await asyncio.sleep(0.05)  # polling interval of a bounded wait
        written.events.append((keys[0], 1, env.id))
    await _wait_drained(scratch_dsn, timeout=30)
    _check_stream(written, _read_topic(bootstrap, topic, expected=2))


async def test_concurrent_writers_each_event_published_once_in_key_order(
        scratch_dsn: str, topic: str, keys: list[str], relay: OutboxRelay, bootstrap: str) -> None:
    written, per_writer = Written(), 40
    began = time.monotonic()
    await asyncio.gather(*(_writer(scratch_dsn, topic, keys, written, seed, count=per_writer)
                           for seed in range(WRITERS)))
    wrote = time.monotonic() - began
    await _wait_drained(scratch_dsn, timeout=60)
    took = time.monotonic() - began
    print(f"\n{len(written.events)} events from {WRITERS} writers: written in {wrote:.1f}s, "
          f"all published after {took:.1f}s ({relay.published / took:.0f} events/s published)")
    _check_stream(written, _read_topic(bootstrap, topic, expected=len(written.events)))


async def test_events_written_while_kafka_is_down_are_published_when_it_returns(
        scratch_dsn: str, topic: str, keys: list[str], relay: OutboxRelay, bootstrap: str) -> None:
    written, stop_writing, stack = Written(), asyncio.Event(), Stack()
    writers = asyncio.gather(*(_writer(scratch_dsn, topic, keys, written, seed, until=stop_writing, pace=0.1)
                               for seed in range(WRITERS)))
    try:
        deadline = time.monotonic() + 30
        while relay.published < 50:  # the relay is publishing before Kafka goes away
            assert time.monotonic() < deadline, "relay did not publish"
            await asyncio.sleep(0.1)  # polling interval of a bounded wait
        await asyncio.to_thread(stack.pc.stop_process, "kafka")
        try:
            await asyncio.sleep(20)  # the outage under test; writers keep committing meanwhile
            during_outage = await _unsent(scratch_dsn)
        finally:
            await asyncio.to_thread(stack.pc.start_process, "kafka")
            assert await asyncio.to_thread(stack.wait_ready, "kafka", 120), "kafka did not come back"
        backlog = await _unsent(scratch_dsn)
        backlog_drained = await _wait_published_upto(scratch_dsn, await _last_id(scratch_dsn), timeout=120)
    finally:
        stop_writing.set()
        await writers
    await _wait_drained(scratch_dsn, timeout=120)
    print(f"\n{len(written.events)} events; {during_outage} waited in the outbox during the 20s outage; the "
          f"{backlog} unsent when Kafka was ready again were all published {backlog_drained:.1f}s later")
    assert during_outage > 100, "writers should have kept committing while Kafka was down"
    _check_stream(written, _read_topic(bootstrap, topic, expected=len(written.events)))


async def test_the_relay_publishes_in_the_writers_trace_and_copies_its_context_to_a_header(
        scratch_dsn: str, topic: str, keys: list[str], relay: OutboxRelay, bootstrap: str,
        spans: InMemorySpanExporter) -> None:
    async with await AsyncConnection.connect(scratch_dsn) as conn:
        with tracing.tracer().start_as_current_span("PublishVideo", kind=SpanKind.SERVER) as request:
            key, _, event_id = await _write_one(conn, topic, keys[0], random.Random(7))
    await _wait_drained(scratch_dsn, timeout=30)
    write = await wait_span(spans, lambda s: s.name == f"outbox {topic}")
    send = await wait_span(spans, lambda s: s.name == f"send {topic}")
    assert parent_id(write) == request.get_span_context().span_id
    assert parent_id(send) == span_id(write) and send.kind is SpanKind.PRODUCER
    assert send.status.is_ok and send.end_time is not None  # ended on Kafka's acknowledgement
    record = _read_records(bootstrap, topic, 1)[0]
    envelope = events.parse(record.value())
    assert (envelope.id, record.key()) == (event_id, key.encode())
    # The envelope is the source of truth; the W3C header is a copy of it, naming the write.
    assert dict(record.headers() or [])["traceparent"].decode() == envelope.traceparent
    assert envelope.traceparent.split("-")[1:3] == [f"{trace_id(write):032x}", f"{span_id(write):016x}"]


def _read_records(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            found += [r for r in consumer.consume(10, 0.5) if r.error() is None]
    finally:
        consumer.close()
    assert len(found) == expected, f"{len(found)} records in {topic}, wanted {expected}"
    return found
