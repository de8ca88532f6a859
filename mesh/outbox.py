"""Transactional outbox: events are written with the state change and published by a relay.

Write side, inside the caller's transaction:

    async with uow(pool) as tx:
        version = await videos.publish(tx.conn, video_id)
        await outbox.add(tx.conn, events.envelope(VideoPublished(...), ...), "video.v1.events")
        await tx.commit()     # state and event together, or neither

Relay side, one task per service process (`await relay.run()`, `await relay.stop()`):
only one relay per database and schema is active, the others wait on an advisory lock.

Guarantees. Rows are published in id order per batch, with an idempotent producer (no
duplicates or reordering from the producer's own retries), and marked sent only after
Kafka acknowledged them. For one key, ids follow commit order as long as writers of an
aggregate serialise on it (they update its row first), so each key's events are published
in order. While Kafka is down rows stay unsent and are published when it returns. The edge:
a relay that dies after Kafka acknowledged a batch but before marking it sent publishes it
again after restart: delivery is at-least-once, and consumers dedupe by event id (inbox).

Trace context. The write is a span ("outbox <topic>") in the writer's trace, and the row's
envelope carries that span's `traceparent`: the one source of truth of where the event came
from. The relay publishes each row in a span that is a child of it, and sends the same
traceparent as a W3C `traceparent` Kafka header, copied from the envelope, for tools that read
headers; every consumer's span is a child of it too (MESH.md section 11).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg
import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from google.protobuf.message import DecodeError
from opentelemetry.trace import Span, Status, StatusCode
from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import tracing
from mesh.backoff import Backoff, pause
from mesh.db import pool_kwargs
from mesh.events import CONTENT_TYPE
from mesh.kafka import producer_config

log = structlog.get_logger(__name__)

CHANNEL = "vidmesh_outbox"
DELIVERY_SLICE_S = 1.0
MAX_BACKOFF_S = 30.0
# Why "published_at IS NULL" and not "id > last id seen": identity values are handed out at
# INSERT but become visible at COMMIT, in any order. A writer holding id 100 can commit
# after id 101 was seen and published; a high-water mark would skip 100 forever.
SELECT_UNSENT = ("SELECT id, event_id, event_type, topic, key, payload FROM outbox "
                 "WHERE published_at IS NULL ORDER BY id LIMIT %s")
MARK_SENT = "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)"
# Advisory locks are per database; keying on the schema too lets video_write and video_read
# (one database) each have their own relay.
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('vidmesh.outbox.relay'), hashtext(current_schema()))"
# The backlog, for /metrics; on the lock's connection, which doubles as the check that the lock lives.
# The backlog is a gauge scraped every few seconds: counting it after every batch (a batch
# per event under a steady load) was a third of the relay's queries.
MEASURE_EVERY_S = 1.0
MEASURE_BACKLOG = "SELECT count(*), extract(epoch FROM min(created_at))::float8 FROM outbox WHERE published_at IS NULL"


@dataclass(frozen=True)
class Backlog:
    """What waits in the outbox: how many rows, and since when the oldest (epoch seconds)."""

    rows: int
    oldest_at: float | None


async def add(conn: AsyncConnection[Any], envelope: EventEnvelope, topic: str, key: str | None = None) -> None:
    """Insert an event in the caller's transaction and wake the relay when that transaction commits.

    `key` (the Kafka record key) defaults to the envelope's aggregate id, which keeps one
    aggregate's events in one partition, in order. NOTIFY is transactional: the relay hears
    nothing if the transaction rolls back. The stored envelope carries the trace context of
    this write's span.
    """
    with tracing.writing(envelope, topic):
        stamped = EventEnvelope()
        stamped.CopyFrom(envelope)
        carried = tracing.headers()  # the write's own span: always there, recorded or not
        stamped.traceparent, stamped.tracestate = carried["traceparent"], carried.get("tracestate", "")
        await conn.execute(
            "INSERT INTO outbox (event_id, event_type, topic, key, payload) VALUES (%s, %s, %s, %s, %s)",
            (envelope.id, envelope.type, topic, key or envelope.aggregate_id, stamped.SerializeToString()))
        await conn.execute(f"NOTIFY {CHANNEL}")


class _Stopping(Exception):
    """stop() was called while waiting for Kafka."""


class OutboxRelay:
    """Publishes committed outbox rows to Kafka; one active per database schema."""

    def __init__(self, dsn: str, bootstrap: str, *, batch_size: int = 500, poll_interval: float = 1.0,
                 standby_interval: float = 2.0, topic_prefix: str = "",
                 producer_overrides: dict[str, Any] | None = None) -> None:
        self._dsn, self._batch_size, self._topic_prefix = dsn, batch_size, topic_prefix
        self._poll_interval, self._standby_interval = poll_interval, standby_interval
        self._producer_config = producer_config(bootstrap, **(producer_overrides or {}))
        self._stopping = asyncio.Event()
        self._backoff = Backoff(initial=0.5, maximum=MAX_BACKOFF_S)
        self.active = False
        self.published = 0
        self.backlog: Backlog | None = None  # measured while active (None on standby)
        self._measured_at = -MEASURE_EVERY_S

    async def run(self) -> None:
        """Relay until stop(); reconnects after Postgres or Kafka errors, with a growing pause.
        Anything else is a bug: it propagates to the supervisor (mesh/supervisor.py)."""
        while not self._stopping.is_set():
            try:
                await self._session()
            except (psycopg.OperationalError, KafkaException) as exc:
                delay = self._backoff.next()
                log.warning("outbox relay interrupted", error=str(exc), retry_in=delay)
                await pause(self._stopping, delay)
            except _Stopping:
                break

    async def stop(self) -> None:
        """Ask run() to return; rows not yet acknowledged stay unsent for the next relay."""
        self._stopping.set()

    async def _session(self) -> None:
        kwargs = pool_kwargs("outbox-relay")
        async with await AsyncConnection.connect(self._dsn, autocommit=True, **kwargs) as lock_conn:
            row = await (await lock_conn.execute(TRY_LOCK)).fetchone()
            if not (row and row[0]):
                log.debug("outbox relay on standby: another instance holds the lock")
                await pause(self._stopping, self._standby_interval)
                return
            await lock_conn.execute(f"LISTEN {CHANNEL}")
            async with await AsyncConnection.connect(self._dsn, autocommit=True, row_factory=namedtuple_row,
                                                     **kwargs) as work:
                producer = Producer(self._producer_config)
                self.active = True
                log.info("outbox relay active")
                try:
                    await self._serve(lock_conn, work, producer)
                finally:
                    self.active, self.backlog = False, None

    async def _serve(self, lock_conn: AsyncConnection[Any], work: AsyncConnection[Any], producer: Producer) -> None:
        while not self._stopping.is_set():
            try:
                while await self._publish_batch(lock_conn, work, producer) == self._batch_size:
                    pass  # a full batch: more may be waiting
                self._backoff.reset()
                if time.monotonic() - self._measured_at >= MEASURE_EVERY_S:
                    await self._measure(lock_conn)
            except KafkaException as exc:  # some rows were refused; they stay unsent
                delay = self._backoff.next()
                log.error("outbox publish failed", error=str(exc), retry_in=delay)
                await pause(self._stopping, delay)
                continue
            # Wake on the writers' NOTIFY, or after poll_interval in case one was missed
            # (e.g. it arrived while this connection was being re-established).
            async for _ in lock_conn.notifies(timeout=self._poll_interval, stop_after=1):
                pass

    async def _publish_batch(self, lock_conn: AsyncConnection[Any], work: AsyncConnection[Any],
                             producer: Producer) -> int:
        rows = await (await work.execute(SELECT_UNSENT, (self._batch_size,))).fetchall()
        if not rows:
            return 0
        errors: dict[int, KafkaError | None] = {}
        spans: dict[int, Span] = {}
        refused = self._produce(producer, rows, errors, spans)
        try:
            await self._await_deliveries(lock_conn, producer)
        except BaseException:
            # Nothing of this batch may go out after we give it up: the next relay (or the
            # next attempt) publishes these rows again, in order.
            producer.purge(in_queue=True, in_flight=True, blocking=False)
            producer.poll(0)
            raise
        finally:
            for span in list(spans.values()):
                _end(span, "not delivered: the batch was given up")
        sent = [row.id for row in rows if row.id in errors and errors[row.id] is None]
        if sent:
            await work.execute(MARK_SENT, (sent,))
            self.published += len(sent)
        if len(sent) < len(rows):
            refused = refused or next((e for e in errors.values() if e is not None), None)
            raise KafkaException(refused or KafkaError(KafkaError._FAIL, "no delivery report"))
        return len(rows)

    def _produce(self, producer: Producer, rows: list[Any], errors: dict[int, KafkaError | None],
                 spans: dict[int, Span]) -> KafkaError | None:
        """Queue rows in id order; stop at the first one refused locally, so no later row overtakes it.
        Each row is published in a span of the trace that wrote it."""
        for row in rows:
            envelope = _envelope(row.payload)
            topic = self._topic_prefix + row.topic
            spans[row.id] = tracing.publishing(envelope, topic)
            headers = [("ce_id", str(row.event_id)), ("ce_type", row.event_type), ("content-type", CONTENT_TYPE),
                       *_trace_headers(envelope)]
            try:
                producer.produce(topic, key=row.key, value=row.payload, headers=headers,
                                 on_delivery=partial(_record, errors, spans, row.id))
            except KafkaException as exc:  # e.g. a topic Kafka does not know (yet)
                _end(spans.pop(row.id), str(exc))
                return exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            except BufferError:  # the local queue is full: send what is queued first
                _end(spans.pop(row.id), "local producer queue full")
                return KafkaError(KafkaError._QUEUE_FULL, "local producer queue full")
        return None

    async def _measure(self, lock_conn: AsyncConnection[Any]) -> None:
        self._measured_at = time.monotonic()
        row = await (await lock_conn.execute(MEASURE_BACKLOG)).fetchone()
        self.backlog = Backlog(rows=int(row[0]), oldest_at=row[1]) if row else None

    async def _await_deliveries(self, lock_conn: AsyncConnection[Any], producer: Producer) -> None:
        """Wait for every delivery report, in slices; raise on stop() or if the lock is lost."""
        began = time.monotonic()
        next_log = began + 5  # short waits are normal; say something when Kafka seems gone
        while await asyncio.to_thread(producer.flush, DELIVERY_SLICE_S) > 0:
            if self._stopping.is_set():
                raise _Stopping
            # The advisory lock lives as long as this session: if it is gone, another relay
            # may already be publishing these rows. (The query measures the backlog meanwhile.)
            await self._measure(lock_conn)
            if time.monotonic() >= next_log:
                next_log += 10
                log.warning("outbox relay waiting for Kafka", pending=len(producer),
                            waited_s=round(time.monotonic() - began))


def _envelope(payload: bytes) -> EventEnvelope:
    """The row's envelope, for its trace context; an unreadable one is published all the same."""
    try:
        return EventEnvelope.FromString(payload)
    except DecodeError:
        return EventEnvelope()


def _trace_headers(envelope: EventEnvelope) -> list[tuple[str, str]]:
    """The envelope's trace context as W3C headers: derived from it, never another source."""
    carried = [("traceparent", envelope.traceparent), ("tracestate", envelope.tracestate)]
    return [(name, value) for name, value in carried if value]


def _end(span: Span, error: str | None = None) -> None:
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, error))
    span.end()


def _record(errors: dict[int, KafkaError | None], spans: dict[int, Span], row_id: int, error: KafkaError | None,
            _message: Message) -> None:
    errors[row_id] = error
    span = spans.pop(row_id, None)
    if span is not None:
        _end(span, str(error) if error is not None else None)
