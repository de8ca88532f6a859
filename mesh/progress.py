"""How far a consumer is behind: what its partitions hold against what it has applied.

The consumer (mesh/consumer.py) tells it each record it fetched and applied, and every few
seconds `measure` asks Kafka for the partitions' high watermarks and committed offsets; mesh/metrics.py
reads it when Prometheus scrapes. Lag counts records fetched but not yet applied too, so a
consumer stuck retrying one record shows its lag growing although it fetches nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog
from confluent_kafka import Consumer, KafkaException, TopicPartition

from mesh.kafka import DLQ_PARTITIONS

Partition = tuple[str, int]
KAFKA_QUERY_TIMEOUT_S = 2.0
log = structlog.get_logger(__name__)


@dataclass
class ConsumerProgress:
    """One consumer's view of its assigned partitions."""

    started_at: float = field(default_factory=time.time)
    high: dict[Partition, int] = field(default_factory=dict)  # one past the last record a partition holds
    next_offset: dict[Partition, int] = field(default_factory=dict)  # the first record not applied yet
    last_event_time: float | None = None  # when the newest event applied so far happened
    dead_letters: int | None = None  # records in the dead-letter topic (None: not measured yet)

    def fetched(self, partition: Partition, offset: int) -> None:
        """A record arrived: the partition holds at least this much."""
        self.high[partition] = max(self.high.get(partition, 0), offset + 1)

    def done(self, partition: Partition, offset: int, event_time: float | None) -> None:
        """A record was applied, skipped or dead-lettered: the consumer is past it."""
        self.next_offset[partition] = offset + 1
        self.fetched(partition, offset)
        if event_time is not None:
            self.last_event_time = max(self.last_event_time or 0.0, event_time)

    def refreshed(self, high: Mapping[Partition, int], committed: Mapping[Partition, int]) -> None:
        """Kafka's word on the assigned partitions; partitions no longer assigned are forgotten."""
        for gone in set(self.high) - set(high):
            self.high.pop(gone, None)
            self.next_offset.pop(gone, None)
        for partition, offset in high.items():
            self.high[partition] = max(offset, self.next_offset.get(partition, 0))
            if partition not in self.next_offset and committed.get(partition, -1) >= 0:
                self.next_offset[partition] = committed[partition]

    def lag(self) -> dict[Partition, int]:
        """Records not applied yet, per partition whose position is known."""
        return {p: max(0, high - self.next_offset[p]) for p, high in self.high.items() if p in self.next_offset}

    def seconds_behind(self, now: float) -> float:
        """0 when every record is applied; else how old the last applied event is (or how long
        the consumer has run, before it applied any)."""
        if not any(self.lag().values()):
            return 0.0
        return max(0.0, now - (self.last_event_time or self.started_at))


@dataclass(frozen=True)
class KafkaWord:
    """What Kafka said of a consumer's partitions at one moment."""

    high: dict[Partition, int]
    committed: dict[Partition, int]
    dead_letters: int

    def apply(self, progress: ConsumerProgress) -> None:
        """Bring `progress` up to date (on the consumer's event loop, which also writes it)."""
        progress.refreshed(self.high, self.committed)
        progress.dead_letters = self.dead_letters


def measure(assigned: list[TopicPartition], asker: Consumer, dlq: str) -> KafkaWord | None:
    """Ask Kafka, through `asker`, for the high watermarks and committed offsets of the
    `assigned` partitions and the size of the dead-letter topic; None when Kafka did not
    answer (the lag stays as last known). Blocking: run it in a worker thread.

    `asker` is a second handle of the same group that never subscribes: `committed()` on the
    handle that is consuming holds the GIL while it waits (28-45 ms measured beside a
    `consume()` in another thread, confluent-kafka 2.16), which stalled the whole process.
    Nothing else polls it, so it is served here: its logs and errors reach the log instead of
    piling up in its queue for the life of the process.
    """
    try:
        asker.poll(0)
        committed = asker.committed(assigned, timeout=KAFKA_QUERY_TIMEOUT_S) if assigned else []
        high = {(tp.topic, tp.partition): asker.get_watermark_offsets(tp, timeout=KAFKA_QUERY_TIMEOUT_S)[1]
                for tp in assigned}
        dead = [asker.get_watermark_offsets(TopicPartition(dlq, n), timeout=KAFKA_QUERY_TIMEOUT_S)
                for n in range(DLQ_PARTITIONS)]
    except KafkaException as exc:
        log.debug("consumer lag not measured", error=str(exc))
        return None
    return KafkaWord(high, {(tp.topic, tp.partition): tp.offset for tp in committed},
                     sum(max(0, top - bottom) for bottom, top in dead))
