"""Kafka offsets for the rebuild: where the topics end, how far a group has committed, and
how to make a group start over."""

from __future__ import annotations

import time
from collections.abc import Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

KAFKA_TIMEOUT_S = 10.0
GROUP_BUSY_WAIT_S = 15.0  # a crashed consumer stays a member of its group for session.timeout.ms


class GroupBusy(RuntimeError):
    """The consumer group could not be deleted (it still has members, or Kafka refused)."""


def delete_group(bootstrap: str, group: str, busy_wait_s: float = GROUP_BUSY_WAIT_S) -> None:
    """Delete a consumer group's offsets; a missing group is fine, a busy one is waited for."""
    admin, deadline = AdminClient({"bootstrap.servers": bootstrap}), time.monotonic() + busy_wait_s
    while True:
        future = admin.delete_consumer_groups([group], request_timeout=KAFKA_TIMEOUT_S)[group]
        try:
            future.result(timeout=KAFKA_TIMEOUT_S)
            return
        except KafkaException as exc:
            code = exc.args[0].code()
            if code == KafkaError.GROUP_ID_NOT_FOUND:
                return
            if code != KafkaError.NON_EMPTY_GROUP or time.monotonic() > deadline:
                raise GroupBusy(f"cannot reset consumer group {group}: {exc}") from exc
        time.sleep(0.5)  # a worker thread: the member leaves within its session timeout


def high_watermarks(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of the topics (partitions with nothing to read left out)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "video-query-watermarks"})
    try:
        metadata = consumer.list_topics(timeout=KAFKA_TIMEOUT_S)
        marks = {}
        for topic in topics:
            found = metadata.topics.get(topic)  # a topic nobody created yet has nothing to replay
            for partition in found.partitions if found else ():
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=KAFKA_TIMEOUT_S)
                if high > low:
                    marks[TopicPartition(topic, partition)] = high
        return marks
    finally:
        consumer.close()


def behind(bootstrap: str, group: str, marks: dict[TopicPartition, int]) -> int:
    """How many records of `marks` the group has not committed yet."""
    if not marks:
        return 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:  # not subscribed: reading committed offsets does not join the group
        committed = consumer.committed(list(marks), timeout=KAFKA_TIMEOUT_S)
    finally:
        consumer.close()
    done = {(tp.topic, tp.partition): max(tp.offset, 0) for tp in committed}
    return sum(max(0, high - done[(tp.topic, tp.partition)]) for tp, high in marks.items())
