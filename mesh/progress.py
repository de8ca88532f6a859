"""How far a consumer is behind: what its partitions hold against what it has applied.

The consumer (mesh/consumer.py) tells it each record it fetched and applied, and every few
seconds the partitions' high watermarks and committed offsets from Kafka; mesh/metrics.py
reads it when Prometheus scrapes. Lag counts records fetched but not yet applied too, so a
consumer stuck retrying one record shows its lag growing although it fetches nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

Partition = tuple[str, int]


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
