"""The kit's Kafka side: envelopes built from the topology's samples, produced to the own
instance's prefixed topics, and what its consumer group and dead-letter topic show."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from google.protobuf import any_pb2, descriptor_pool, json_format, message_factory
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.notification.v1 import events_pb2 as _notification_events  # noqa: F401  (payload types,
from vidmesh.users.v1 import events_pb2 as _users_events  # noqa: F401                 found by the
from vidmesh.video.v1 import events_pb2 as _video_events  # noqa: F401                 samples' names)

from mesh import topology

KIT_SOURCE = "/vidmesh/conformance-kit"
CONTENT_TYPE = "application/protobuf"
TIMEOUT_S = 15.0
Headers = list[tuple[str, str | bytes | None]]
POLL_S = 0.25


def envelope(event: topology.Publish, payload_json: str, key: str) -> EventEnvelope:
    """A sample event as a vidmesh.events.v1.EventEnvelope (the kit does not version aggregates)."""
    payload = message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(event.type))()
    json_format.Parse(payload_json, payload)
    data = any_pb2.Any()
    data.Pack(payload)
    env = EventEnvelope(id=str(uuid.uuid4()), source=KIT_SOURCE, type=event.type, subject=f"kit/{key}",
                        spec_version="1.0", aggregate_id=key, data_content_type=CONTENT_TYPE, data=data)
    env.time.FromDatetime(datetime.now(UTC))
    return env


def headers_of(env: EventEnvelope) -> Headers:
    """The CloudEvents headers of MESH.md §10."""
    return [("ce_id", env.id), ("ce_type", env.type), ("content-type", CONTENT_TYPE)]


class Kafka:
    """The stack's broker, as the kit uses it (always on topics only the own instance uses)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    async def until(self, what: Callable[[], Any], timeout: float) -> Any:
        """Poll a blocking `what` in a thread until it returns something true (or None after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = await asyncio.to_thread(what)
            if found:
                return found
            await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait
        return None

    def topic_exists(self, topic: str) -> bool:
        """Whether the broker knows `topic` now."""
        return topic in self.admin.list_topics(timeout=TIMEOUT_S).topics

    def group_topics(self, group: str) -> set[str] | None:
        """The topics a stable consumer group's members are assigned (None until it is stable)."""
        description = self.admin.describe_consumer_groups([group], request_timeout=TIMEOUT_S)[group].result()
        if description.state.name != "STABLE" or not description.members:
            return None
        return {tp.topic for member in description.members for tp in member.assignment.topic_partitions}

    def produce(self, topic: str, records: list[tuple[bytes, bytes, Headers]]) -> list[Message]:
        """Produce (key, value, headers) in order, acks=all; the delivered records."""
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True, "acks": "all"})
        delivered: list[Message] = []

        def report(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                raise RuntimeError(f"cannot produce to {topic}: {error}")
            delivered.append(message)
        for key, value, headers in records:
            producer.produce(topic, key=key, value=value, headers=headers, on_delivery=report)
        producer.flush(TIMEOUT_S)
        if len(delivered) != len(records):
            raise RuntimeError(f"only {len(delivered)} of {len(records)} records reached {topic}")
        return delivered

    def read_all(self, topic: str) -> list[Message]:
        """Every record of `topic` now, from the beginning (a reader of the kit's own, no group commits)."""
        reader = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"kit-reader-{uuid.uuid4().hex}",
                           "enable.auto.commit": False})
        try:
            partitions = self.admin.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions
            ends = {p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S)[1] for p in partitions}
            wanted = {p for p, end in ends.items() if end > 0}
            reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in wanted])
            records: list[Message] = []
            deadline = time.monotonic() + TIMEOUT_S
            while wanted and time.monotonic() < deadline:
                for record in reader.consume(100, POLL_S):
                    if record.error() is None:
                        records.append(record)
                        if int(record.offset() or 0) + 1 >= ends[int(record.partition() or 0)]:
                            wanted.discard(int(record.partition() or 0))
            return records
        finally:
            reader.close()
