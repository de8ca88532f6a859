"""MESH.md §10 Events, for a service that consumes: its group is its service name and reads
its prefixed topics; a poison record goes to `<group>.dlq` with the dlq.* headers, and the
consumer goes on (the good event behind it, on the same partition, takes effect)."""

from __future__ import annotations

import asyncio
import time

import grpc.aio
from google.protobuf.message import Message

from tests.conformance.kit.api import Api, Outcome, call
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.instance import OwnInstance
from tests.conformance.kit.kafka import Kafka, envelope, headers_of
from tests.conformance.kit.samples import fill

SECTION = "§10 Events"
WAIT_S = 30.0
TIMEOUT_S = 10.0
POISON = b"conformance kit: this is not a vidmesh.events.v1.EventEnvelope"
DLQ_HEADERS = ("dlq.error", "dlq.topic", "dlq.partition", "dlq.offset")


async def check_consumes_apart(own: OwnInstance, kafka: Kafka, wait_s: float = WAIT_S) -> None:
    """Its consumer group is its VIDMESH_SERVICE_NAME and reads only its prefixed topics
    (which the kit created, kit/isolation.py).

    The kit runs this as soon as its own instance of a consumer is ready (kit/owns.py): an
    instance that ignored the prefix or the name would be reading the stack's topics, so it
    is stopped at once."""
    wanted = {own.isolation.topic_prefix + name for name in own.entry.consumes}
    assigned = await kafka.until(lambda: kafka.group_topics(own.name), wait_s)
    expect(assigned == wanted, own.target, SECTION,
           f"consumer group {own.name!r} (its VIDMESH_SERVICE_NAME) is assigned {sorted(assigned or [])} after "
           f"{wait_s:.0f}s, not the topics it consumes with VIDMESH_TOPIC_PREFIX in front: {sorted(wanted)}")


async def check_poison_then_good(own: OwnInstance, api: Api, kafka: Kafka, wait_s: float = WAIT_S) -> None:
    """The consumer dead-letters a poison record and applies the event after it (each step
    within `wait_s`); its instance consumes apart from the stack (check_consumes_apart)."""
    target, event = own.target, own.entry.samples.event
    if event is None:
        raise Nonconformance(f"{target}: it consumes {own.entry.consumes} but the topology gives no samples.event")
    topic, prefix = own.isolation.topic_prefix + event.topic, own.isolation.topic_prefix
    filled = iter(fill(event.payload, event.key, event.shows.request,
                       *(text for need in event.needs for text in (need.payload, need.key))))
    payload_json, key, shows_json = next(filled), next(filled), next(filled)
    shows = api.request(event.shows.method, shows_json)
    async with grpc.aio.insecure_channel(target.address) as channel:
        before = await call(channel, api.method(event.shows.method), shows, timeout=TIMEOUT_S)
        for need in event.needs:
            need_payload, need_key = next(filled), next(filled)
            needed = envelope(need, need_payload, need_key)
            await asyncio.to_thread(kafka.produce, prefix + need.topic, [
                (need_key.encode(), needed.SerializeToString(), headers_of(needed))])
        good = envelope(event, payload_json, key)
        poison, _ = await asyncio.to_thread(kafka.produce, topic, [
            (key.encode(), POISON, [("ce_id", "kit-poison")]),
            (key.encode(), good.SerializeToString(), headers_of(good))])
        await _check_dead_letter(own, kafka, topic, int(poison.partition() or 0), int(poison.offset() or 0), wait_s)
        after = await _changed(channel, api, event.shows.method, shows, before, wait_s)
    expect(after is not None, target, SECTION,
           f"the good {event.type} after the poison record never took effect: {event.shows.method} "
           f"{shows_json} still answers {before} after {wait_s:.0f}s")


async def _check_dead_letter(own: OwnInstance, kafka: Kafka, topic: str, partition: int, offset: int,
                             wait_s: float) -> None:
    dlq = f"{own.name}.dlq"

    def dead_letter() -> dict[str, str] | None:
        if not kafka.topic_exists(dlq):
            return None
        for record in kafka.read_all(dlq):
            raw = record.headers() or []
            headers = {name: _text(value) for name, value in (raw.items() if isinstance(raw, dict) else raw)}
            if headers.get("dlq.topic") == topic and headers.get("dlq.offset") == str(offset):
                return headers
        return None
    headers = await kafka.until(dead_letter, wait_s)
    expect(headers is not None, own.target, SECTION,
           f"the poison record ({topic} partition {partition} offset {offset}) is not in {dlq} after {wait_s:.0f}s "
           "with dlq.topic and dlq.offset headers naming it")
    assert headers is not None
    missing = [name for name in DLQ_HEADERS if not headers.get(name)]
    expect(not missing, own.target, SECTION, f"the dead letter in {dlq} lacks {missing} (headers: {headers})")
    expect(headers["dlq.partition"] == str(partition), own.target, SECTION,
           f"the dead letter says partition {headers['dlq.partition']}, the poison record was on {partition}")


def _text(value: str | bytes | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value or ""


async def _changed(channel: grpc.aio.Channel, api: Api, method: str, request: Message,
                   before: Outcome, wait_s: float) -> Outcome | None:
    """The answer once it differs from `before` (None if it still does not after `wait_s`)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        now = await call(channel, api.method(method), request, timeout=TIMEOUT_S)
        if (now.code, now.response_json) != (before.code, before.response_json):
            return now
        await asyncio.sleep(0.25)  # the polling interval of a bounded wait
    return None
