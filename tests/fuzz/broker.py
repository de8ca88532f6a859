"""The poison fuzzer's side of Kafka: produce records, wait (bounded) until consumer groups have
committed past them, and read what a dead-letter topic received since a mark.

A consumer publishes a dead letter (acks=all, waiting for the report) before it commits the
offset of the record it came from (mesh/consumer.py, gomesh/consumer), so once a group has
committed past a record, its dead letter, if any, is already in the topic: reading up to the
end offsets of that moment finds it, with no wait of its own."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

KAFKA_S = 10.0  # one request to the broker
POLL_S = 0.1  # the polling interval of the bounded waits below


@dataclass(frozen=True, order=True)
class Where:
    """A record's place: topic, partition, offset."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, record: Message) -> Where:
        return cls(str(record.topic()), int(record.partition() or 0), int(record.offset() or 0))

    @classmethod
    def named_by(cls, headers: dict[str, str]) -> Where | None:
        """The record a dead letter came from, as its dlq.* headers name it (None if they do not)."""
        try:
            return cls(headers["dlq.topic"], int(headers["dlq.partition"]), int(headers["dlq.offset"]))
        except (KeyError, ValueError):
            return None

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


class Broker:
    """One admin client, producer and reader for a whole test, closed by close()."""

    def __init__(self, bootstrap: str, logs: Path) -> None:
        self.logs = logs
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
        self.reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"fuzz-reader-{uuid.uuid4()}",
                                "enable.auto.commit": False})  # assigned partitions only: it never joins

    def close(self) -> None:
        self.reader.close()

    def produce(self, topic: str, values: list[bytes], key: bytes | None = None) -> list[Where]:
        """Send each value (a random key unless `key`); where each landed, in the order of `values`."""
        reports: dict[int, tuple[KafkaError | None, Message]] = {}

        def report(n: int, error: KafkaError | None, record: Message) -> None:
            reports[n] = (error, record)  # reports come in order per partition, not across them
        for n, value in enumerate(values):
            self.producer.produce(topic, value=value, key=key or uuid.uuid4().bytes, on_delivery=partial(report, n))
        left = self.producer.flush(KAFKA_S)
        assert left == 0, f"Kafka did not take {left} of {len(values)} records for {topic} within {KAFKA_S:.0f}s"
        failed = [error for error, _ in reports.values() if error is not None]
        assert not failed, f"producing to {topic}: {failed}"
        return [Where.of(reports[n][1]) for n in range(len(values))]

    def ends(self, topic: str) -> dict[int, int]:
        """The end offset of each partition of `topic` now."""
        found = self.admin.list_topics(topic, timeout=KAFKA_S).topics[topic]
        assert found.error is None, f"{topic}: {found.error} (its consumer creates it when it starts)"
        return {p: self.reader.get_watermark_offsets(TopicPartition(topic, p), timeout=KAFKA_S)[1]
                for p in found.partitions}

    def committed(self, group: str, partitions: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The group's committed offset on each partition (negative where it never committed)."""
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p) for t, p in sorted(partitions)])
        future = self.admin.list_consumer_group_offsets([request], request_timeout=KAFKA_S)[group]
        return {(tp.topic, tp.partition): tp.offset for tp in future.result(timeout=KAFKA_S).topic_partitions}

    def wait_passed(self, groups: list[str], records: list[Where], timeout: float) -> None:
        """Wait until every group has committed past every record: each one went on."""
        last: dict[tuple[str, int], int] = {}  # the last record's offset, by partition
        for record in records:
            last[(record.topic, record.partition)] = max(record.offset, last.get((record.topic, record.partition), -1))
        deadline = time.monotonic() + timeout
        while True:
            behind = {group: self._behind(group, last) for group in groups}
            if not any(behind.values()):
                return
            if time.monotonic() > deadline:
                stuck = "; ".join(f"{group} {lag}" for group, lag in behind.items() if lag)
                raise AssertionError(f"after {timeout:.0f}s not every group got past {', '.join(map(str, records))}: "
                                     f"{stuck} (see the group's logs in {self.logs})")
            time.sleep(POLL_S)

    def _behind(self, group: str, last: dict[tuple[str, int], int]) -> str:
        """Where the group has not committed past `last` (offset by partition) yet; "" if nowhere."""
        try:
            committed = self.committed(group, set(last))
        except KafkaException as exc:  # e.g. the group coordinator is loading: ask again, within the bound
            return f"has no offsets to show yet ({exc})"
        return ", ".join(f"committed {committed[tp]} on {tp[0]}[{tp[1]}], needs {offset + 1}"
                         for tp, offset in sorted(last.items()) if committed[tp] <= offset)

    def dead_letters(self, dlq: str, since: dict[int, int]) -> dict[Where, dict[str, str]]:
        """The dlq.* headers of what `dlq` received after the mark `since` (from ends()), by
        the record each one names."""
        ends = self.ends(dlq)
        wanted = [TopicPartition(dlq, p, since.get(p, 0)) for p, end in ends.items() if end > since.get(p, 0)]
        if not wanted:
            return {}
        self.reader.assign(wanted)
        found: dict[Where, dict[str, str]] = {}
        deadline = time.monotonic() + KAFKA_S
        try:
            while any(tp.offset < ends[tp.partition] for tp in self.reader.position(wanted)):
                assert time.monotonic() < deadline, f"reading {dlq} up to {ends} took over {KAFKA_S:.0f}s"
                for record in self.reader.consume(100, POLL_S):
                    assert record.error() is None, f"reading {dlq}: {record.error()}"
                    headers = text_headers(record)
                    where = Where.named_by(headers)
                    assert where is not None, f"a dead letter in {dlq} names no record: {headers}"
                    found[where] = headers
        finally:
            self.reader.unassign()
        return found


def text_headers(record: Message) -> dict[str, str]:
    """A record's headers as text (librdkafka hands them over as a list of pairs, or a dict)."""
    raw = record.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return {name: value.decode(errors="replace") if isinstance(value, bytes) else value or ""
            for name, value in pairs}
