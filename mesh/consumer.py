"""Idempotent Kafka consumer: each event's effect is applied once, however often it arrives.

    consumer = IdempotentConsumer(pool, bootstrap, group="notification",
                                  topics=["video.v1.events"], handlers={VideoPublished: on_published})
    task = asyncio.create_task(consumer.run())
    ...
    await consumer.stop(); await task

    async def on_published(conn, envelope, event: VideoPublished) -> None:
        await conn.execute("INSERT INTO notifications ...")     # no commit: the consumer commits

For each record: one transaction inserts `(group, event id)` into the inbox and runs the
handler; a conflict on the inbox key means "already applied" and the record is skipped. The
Kafka offset is stored only after that transaction, and the client commits the stored
offsets in the background (every second, on a rebalance and on close: mesh/kafka.py), so a
crash in between means a redelivery, which the inbox absorbs. A lost commit is only such a
redelivery; a synchronous one would wait for its answer without a timeout. A handler that
keeps failing (bounded attempts with exponential backoff), or a record that cannot be
parsed, goes to `{group}.dlq` with the error and where it came from in its headers, and the
consumer moves on. Postgres being unreachable is not the record's fault: that is retried
without limit and never dead-lettered.
Event types without a handler are skipped (a topic carries more types than a consumer needs).
A consumer lets the broker gather records for a moment (up to 100 ms) unless it is `prompt`,
which one whose effects a reader waits for should be (mesh/kafka.py says what it saves).

Each record is processed in a CONSUMER span that is a child of the span that wrote the event
(its envelope's `traceparent`, MESH.md section 11), so a user's action and everything it set
off are one trace; the consumer's lag is kept in `progress` (mesh/progress.py) for /metrics.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import psycopg
import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import events, tracing
from mesh.db import uow
from mesh.kafka import DLQ_PARTITIONS, consumer_config, dlq_topic, ensure_topics, producer_config
from mesh.progress import ConsumerProgress, KafkaWord, measure

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncConnection[Any], EventEnvelope, Any], Awaitable[None]]

INSERT_INBOX = ("INSERT INTO inbox (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")
# Dead-letter headers, next to the record's own headers.
DLQ_ERROR, DLQ_ERROR_TYPE, DLQ_ATTEMPTS = "dlq.error", "dlq.error.type", "dlq.attempts"
DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET, DLQ_GROUP = "dlq.topic", "dlq.partition", "dlq.offset", "dlq.group"
MAX_ERROR_CHARS = 4000
PROGRESS_EVERY_S = 5.0  # how often the partitions' high watermarks are asked for (the lag metrics)


class _Stopping(Exception):
    """stop() was called while a record was waiting to be retried."""


class _Unavailable(Exception):
    """Postgres could not be reached: retry the record, do not blame it."""


class IdempotentConsumer:
    """Consumes topics for one group, applying each event once through the inbox table."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, group: str,
                 topics: Sequence[str], handlers: Mapping[type[Any], Handler], *, max_attempts: int = 5,
                 retry_backoff: float = 0.2, max_backoff: float = 10.0, batch_size: int = 100,
                 poll_timeout: float = 0.5, prompt: bool = False,
                 consumer_overrides: dict[str, Any] | None = None) -> None:
        self._pool, self._bootstrap, self.group, self._topics = pool, bootstrap, group, list(topics)
        self._handlers = {events.type_name(cls): handler for cls, handler in handlers.items()}
        self._max_attempts, self._backoff, self._max_backoff = max_attempts, retry_backoff, max_backoff
        self._batch_size, self._poll_timeout, self.prompt = batch_size, poll_timeout, prompt
        self._config = consumer_config(bootstrap, group, prompt=prompt, **(consumer_overrides or {}))
        self._stopping = asyncio.Event()
        self.counts = {"applied": 0, "duplicate": 0, "skipped": 0, "dead_lettered": 0}
        self.progress = ConsumerProgress()

    @property
    def dlq(self) -> str:
        """This group's dead-letter topic."""
        return dlq_topic(self.group)

    async def run(self) -> None:
        """Consume until stop(); creates the dead-letter topic if needed. Stop it with stop(), not cancel()."""
        if not await self._ensure_dlq():
            return
        consumer = Consumer({**self._config, "on_commit": self._committed})
        producer = Producer(producer_config(self._bootstrap))
        asker = Consumer(self._config)  # for measure(): it never subscribes, so it never joins the group
        consumer.subscribe(self._topics)
        log.info("consumer started", group=self.group, topics=self._topics)
        measured = 0.0
        measuring: asyncio.Task[KafkaWord | None] | None = None
        try:
            while not self._stopping.is_set():
                records = await asyncio.to_thread(_take, consumer, self._batch_size, self._poll_timeout)
                done = await self._handle_all(records, producer)
                self._store(consumer, done)
                if measuring is not None and measuring.done():
                    if word := measuring.result():  # a bug in measure() ends run() here
                        word.apply(self.progress)
                    measuring = None
                if measuring is None and time.monotonic() - measured >= PROGRESS_EVERY_S:
                    measured = time.monotonic()
                    # Beside the loop, not in it: its round trips to Kafka held back every record
                    # that arrived meanwhile (with the GIL stall, the p99 of commit -> visible).
                    # The assignment is read here, while no thread is in the consuming handle:
                    # only the loop's own threads ever use it, one at a time.
                    assigned = consumer.assignment()
                    measuring = asyncio.create_task(asyncio.to_thread(measure, assigned, asker, self.dlq))
        finally:
            if measuring is not None:
                await asyncio.wait([measuring])  # its queries need the asker open
            await asyncio.to_thread(asker.close)
            await asyncio.to_thread(consumer.close)  # leaves the group now, not after the session timeout

    async def _ensure_dlq(self) -> bool:
        """Create the dead-letter topic, waiting for Kafka if it is down; False if stopped meanwhile."""
        failures = 0
        while True:
            try:
                await asyncio.to_thread(ensure_topics, self._bootstrap, {self.dlq: DLQ_PARTITIONS})
                return True
            except (KafkaException, TimeoutError) as exc:
                failures += 1
                log.warning("cannot create the dead-letter topic yet", dlq=self.dlq, error=str(exc))
                try:
                    await self._pause(failures)
                except _Stopping:
                    return False

    async def stop(self) -> None:
        """Ask run() to return after the record in hand; unfinished ones are redelivered later."""
        self._stopping.set()

    async def _handle_all(self, records: list[Message], producer: Producer) -> dict[tuple[str, int], int]:
        done: dict[tuple[str, int], int] = {}
        for record in records:
            if not record.error():
                self.progress.fetched((str(record.topic()), int(record.partition() or 0)), int(record.offset() or 0))
        for record in records:
            if record.error():
                log.warning("kafka consumer error", error=str(record.error()))
                continue
            partition, offset = (str(record.topic()), int(record.partition() or 0)), int(record.offset() or 0)
            try:
                event_time = await self._handle(record, producer)
            except _Stopping:
                break
            done[partition] = offset + 1
            self.progress.done(partition, offset, event_time)
        return done

    async def _handle(self, record: Message, producer: Producer) -> float | None:
        """Apply one record (or skip or dead-letter it); returns when its event happened."""
        try:
            envelope = events.parse(record.value())
        except events.EventError as exc:
            with self._span(record, None):
                await self._dead_letter(record, exc, 0, producer)
            return None
        handler = self._handlers.get(envelope.type)
        if handler is None:
            self.counts["skipped"] += 1
            return envelope.time.ToNanoseconds() / 1e9
        with (self._span(record, envelope),
              structlog.contextvars.bound_contextvars(event_id=envelope.id, event_type=envelope.type)):
            try:
                payload = events.payload(envelope)
            except events.EventError as exc:
                await self._dead_letter(record, exc, 0, producer)
            else:
                await self._apply_with_retries(record, envelope, payload, handler, producer)
        return envelope.time.ToNanoseconds() / 1e9

    def _span(self, record: Message, envelope: EventEnvelope | None) -> AbstractContextManager[Span]:
        return tracing.processing(envelope, topic=str(record.topic()), partition=int(record.partition() or 0),
                                  offset=int(record.offset() or 0), group=self.group)

    async def _apply_with_retries(self, record: Message, envelope: EventEnvelope, payload: Any,
                                  handler: Handler, producer: Producer) -> None:
        attempts = outages = 0
        while True:
            try:
                applied = await self._apply(record, envelope, payload, handler)
                self.counts["applied" if applied else "duplicate"] += 1
                trace.get_current_span().set_attribute("vidmesh.outcome", "applied" if applied else "duplicate")
                return
            except _Unavailable as exc:
                outages += 1
                log.warning("postgres unavailable; retrying the event", error=str(exc.__cause__))
                await self._pause(outages)
            except Exception as exc:
                attempts += 1
                trace.get_current_span().record_exception(exc, attributes={"vidmesh.attempt": attempts})
                log.warning("event handler failed", attempt=attempts, error=repr(exc))
                if attempts >= self._max_attempts:
                    await self._dead_letter(record, exc, attempts, producer)
                    return
                await self._pause(attempts)

    async def _apply(self, record: Message, envelope: EventEnvelope, payload: Any, handler: Handler) -> bool:
        """One transaction: inbox row + handler's effect. False if this group had applied it already."""
        try:
            async with uow(self._pool) as tx:
                try:
                    cursor = await tx.conn.execute(INSERT_INBOX, (
                        self.group, envelope.id, envelope.type, record.topic(), record.partition(), record.offset()))
                    if cursor.rowcount == 0:
                        return False
                    await handler(tx.conn, envelope, payload)
                    await tx.commit()
                    return True
                except psycopg.OperationalError as exc:
                    if tx.conn.broken:
                        raise _Unavailable(str(exc)) from exc
                    raise
        except PoolTimeout as exc:
            raise _Unavailable(str(exc)) from exc

    async def _dead_letter(self, record: Message, exc: BaseException, attempts: int, producer: Producer) -> None:
        headers = [*(record.headers() or []),
                   (DLQ_ERROR, str(exc)[:MAX_ERROR_CHARS]), (DLQ_ERROR_TYPE, type(exc).__name__),
                   (DLQ_ATTEMPTS, str(attempts)), (DLQ_TOPIC, record.topic()),
                   (DLQ_PARTITION, str(record.partition())), (DLQ_OFFSET, str(record.offset())),
                   (DLQ_GROUP, self.group)]
        failures = 0
        while True:
            result: list[KafkaError | None] = []
            producer.produce(self.dlq, key=record.key(), value=record.value(), headers=headers,
                             on_delivery=partial(_append, result))
            while await asyncio.to_thread(producer.flush, 1.0) > 0:
                if self._stopping.is_set():
                    producer.purge(in_queue=True, in_flight=True, blocking=False)
                    raise _Stopping
            if result and result[0] is None:
                break
            failures += 1
            log.warning("dead-letter publish failed", error=str(result[0] if result else "no report"))
            await self._pause(failures)
        self.counts["dead_lettered"] += 1
        trace.get_current_span().set_attribute("vidmesh.outcome", "dead_lettered")
        trace.get_current_span().set_status(Status(StatusCode.ERROR, f"dead-lettered to {self.dlq}: {str(exc)[:200]}"))
        log.error("event dead-lettered", dlq=self.dlq, topic=record.topic(), partition=record.partition(),
                  offset=record.offset(), attempts=attempts, error=str(exc)[:200])

    def _store(self, consumer: Consumer, done: dict[tuple[str, int], int]) -> None:
        """Mark what is applied as ready to commit; the client commits it within a second,
        and Kafka's answer reaches _committed() from a later consume().

        Neither a commit per batch (a request per group per event under a steady load) nor a
        synchronous one: librdkafka waits for a synchronous commit's answer with no timeout,
        and has been reported to wait forever (confluent-kafka-python#1801), which would stop
        this consumer for good while its health still said SERVING."""
        if not done:
            return
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in done.items()]
        try:
            consumer.store_offsets(offsets=offsets)
        except KafkaException as exc:  # e.g. the partition was revoked meanwhile: a redelivery
            log.warning("offset store failed", group=self.group, error=str(exc))

    def _committed(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        """Kafka's answer to a commit (called inside consume()): only a failure is news, and
        even that costs only a redelivery, which the inbox absorbs (e.g. partitions moved away)."""
        failed = {f"{tp.topic}[{tp.partition}]": str(tp.error) for tp in partitions if tp.error is not None}
        if error is not None or failed:
            log.warning("offset commit failed", group=self.group,
                        error=str(error) if error else "; ".join(sorted(set(failed.values()))),
                        partitions=sorted(failed))

    async def _pause(self, failures: int) -> None:
        """Exponential backoff with jitter that ends early on stop() (raising _Stopping)."""
        delay = min(self._max_backoff, self._backoff * 2 ** min(failures - 1, 16)) * random.uniform(0.75, 1.0)
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            return
        raise _Stopping


def _take(consumer: Consumer, batch_size: int, timeout: float) -> list[Message]:
    """The records that are here, up to `batch_size`, waiting up to `timeout` for the first.

    `consume(batch_size, timeout)` alone returns early only when the batch is full, so on a
    quiet topic every event waited out the whole timeout before it was applied: that wait
    was the projection's lag. Here the first record returns at once, and the rest of the
    batch is what had arrived with it; the timeout only bounds how soon stop() is seen.
    """
    first: list[Message] = consumer.consume(1, timeout)
    if not first or batch_size <= 1:
        return first
    return first + consumer.consume(batch_size - 1, 0)


def _append(reports: list[KafkaError | None], error: KafkaError | None, _record: Message) -> None:
    reports.append(error)
