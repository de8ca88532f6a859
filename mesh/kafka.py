"""Kafka settings shared by every vidmesh producer and consumer, and explicit topic creation.

The broker does not auto-create topics: each process ensures the topics it writes to (and
its dead-letter topic) exist with an explicit partition count before using them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import structlog
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from mesh import topology

log = structlog.get_logger(__name__)

# The event topics and their partition count are the topology's (mesh/topology.py).
EVENT_TOPICS = dict.fromkeys(topology.EVENT_TOPICS, topology.EVENT_PARTITIONS)
DLQ_PARTITIONS = 1
ADMIN_TIMEOUT_S = 15.0
# After an outage the client reconnects within ~1 s rather than librdkafka's default 10 s.
_RECONNECT = {"reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 1000}
# librdkafka's own messages (e.g. "connection refused" while Kafka is down) go through
# Python logging, i.e. the process's log format and level, instead of raw lines on stderr.
_CLIENT_LOG = logging.getLogger("librdkafka")
REPEAT_EVERY_S = 30.0
METADATA_REFRESH_MS = 10_000  # how soon a consumer finds a subscribed topic created after it subscribed
# How often a consumer commits the offsets it stored: once per batch cost a request per
# group per event under a steady load (and the broker a write to __consumer_offsets each).
COMMIT_INTERVAL_MS = 1000
# How a consumer fetches. A prompt one, whose effects a reader waits for (the projector
# behind read-your-writes), is answered as soon as one record lands, and an idle fetch is
# held PROMPT_FETCH_WAIT_MS. Every other consumer lets the broker gather records for up to
# GATHER_FETCH_WAIT_MS (or GATHER_FETCH_BYTES): a fetch per record, for each group, cost
# Kafka and every such consumer CPU under a steady load, for a lag nobody waits on: about
# 0.3 ms of the stack's 10 ms per event at 180 events a second (the bench's pipeline load).
PROMPT_FETCH_WAIT_MS = 50
GATHER_FETCH_WAIT_MS = 100
GATHER_FETCH_BYTES = 64 * 1024


class _Repeated(logging.Filter):
    """While Kafka is away librdkafka says the same thing at every reconnect (several times a
    second): each distinct message is let through once per REPEAT_EVERY_S, with a count of
    the ones held back."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = record.getMessage(), time.monotonic()
        if len(self._seen) > 1000:  # messages that name offsets or ids never repeat exactly
            self._seen.clear()
        last, held = self._seen.get(key, (-REPEAT_EVERY_S, 0))
        if now - last < REPEAT_EVERY_S:
            self._seen[key] = (last, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held:
            record.msg, record.args = f"{key} (and {held} more like it in {REPEAT_EVERY_S:.0f} s)", ()
        return True


_CLIENT_LOG.addFilter(_Repeated())


def dlq_topic(group: str) -> str:
    """The dead-letter topic of a consumer group: `{group}.dlq`."""
    return f"{group}.dlq"


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """An idempotent producer: acks from all replicas, no duplicates or reordering on retry.

    `message.timeout.ms=0` means librdkafka retries a message until Kafka takes it (transient
    errors are retried with `retry.backoff.ms` growing to `retry.backoff.max.ms`): a message
    that timed out locally while a later one of the same partition got through would break
    per-key order, so callers wait for delivery reports instead, in bounded slices.
    """
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,  # the latency floor of a publish; batching still happens under load
        "message.timeout.ms": 0,
        "retry.backoff.ms": 100,
        "retry.backoff.max.ms": 2000,
        "logger": _CLIENT_LOG,
        **_RECONNECT,
    }
    config.update(overrides)
    return config


def consumer_config(bootstrap: str, group: str, *, prompt: bool = False, **overrides: Any) -> dict[str, Any]:
    """A consumer whose offsets are committed only once its effects are committed in Postgres:
    it stores each offset after the transaction (`store_offsets`, no automatic store), and
    the client commits what is stored every COMMIT_INTERVAL_MS, on a rebalance and on close.
    A crash redelivers at most that interval's records, which the inbox absorbs.

    A dead consumer's partitions move to a live one within session.timeout.ms (6 s, the
    broker's minimum); a heartbeat every 2 s keeps a live one in the group.

    A subscribed topic that is not there yet while another of the subscription is (another
    service creates it, or the broker has not yet told this one of a topic just created) is
    looked for again only at the next metadata refresh: librdkafka's default of 5 minutes held
    a fresh stack's notifications back that long (librdkafka#3615 suggests lowering it). Every
    10 s costs one small request here.

    `prompt` is for a consumer a reader waits on (see PROMPT_FETCH_WAIT_MS).
    """
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": True,
        "auto.commit.interval.ms": COMMIT_INTERVAL_MS,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 2000,
        # A prompt fetch is answered by the first record to arrive, so its wait is no latency
        # floor (500 gave the same idle commit -> visible); a gathering one waits it out.
        "fetch.wait.max.ms": PROMPT_FETCH_WAIT_MS if prompt else GATHER_FETCH_WAIT_MS,
        "fetch.min.bytes": 1 if prompt else GATHER_FETCH_BYTES,
        "topic.metadata.refresh.interval.ms": METADATA_REFRESH_MS,
        "logger": _CLIENT_LOG,
        **_RECONNECT,
    }
    config.update(overrides)
    return config


def ensure_topics(bootstrap: str, topics: Mapping[str, int], *, replication_factor: int = 1,
                  timeout: float = ADMIN_TIMEOUT_S) -> list[str]:
    """Create the topics that do not exist yet (name -> partitions); return the names created.

    Safe to call from every instance at every start: an existing topic is left as it is (a
    different partition count is logged, never changed, since that would move keys).
    """
    if not topics:
        return []
    admin = AdminClient({"bootstrap.servers": bootstrap, **_RECONNECT})
    requests = [NewTopic(name, num_partitions=n, replication_factor=replication_factor, config=_topic_config(name))
                for name, n in topics.items()]
    created = []
    for name, future in admin.create_topics(requests, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    _warn_partition_mismatch(admin, {n: p for n, p in topics.items() if n not in created}, timeout)
    if created:
        log.info("kafka topics created", topics=created)
    return created


def _topic_config(name: str) -> dict[str, str]:
    # Event topics are the history the read side is rebuilt from (`make rebuild-read-model`):
    # they keep every event. Dead-letter topics keep Kafka's default week.
    # A prefixed topic (a test's) is an event topic too.
    return {"retention.ms": "-1"} if name.endswith(topology.EVENT_TOPICS) else {}


def _warn_partition_mismatch(admin: AdminClient, topics: Mapping[str, int], timeout: float) -> None:
    if not topics:
        return
    metadata = admin.list_topics(timeout=timeout)
    for name, wanted in topics.items():
        found = metadata.topics.get(name)
        if found is not None and len(found.partitions) != wanted:
            log.warning("kafka topic has a different partition count", topic=name,
                        partitions=len(found.partitions), wanted=wanted)
