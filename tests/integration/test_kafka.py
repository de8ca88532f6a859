"""Kafka 4.1 (KRaft, one node) with confluent-kafka: what is produced with acks=all comes back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]

from mesh.kafka import EVENT_TOPICS, ensure_topics
from mesh.settings import Settings


@pytest.fixture
def topic(settings: Settings) -> Iterator[str]:
    admin = AdminClient({"bootstrap.servers": f"{settings.host}:{settings.kafka_port}"})
    name = f"it.roundtrip.{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(timeout=15)
    yield name
    admin.delete_topics([name])[name].result(timeout=15)


def test_bytes_produced_with_acks_all_are_read_back(settings: Settings, topic: str) -> None:
    bootstrap = f"{settings.host}:{settings.kafka_port}"
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    sent = {f"key-{i}".encode(): os.urandom(64) for i in range(10)}
    delivered: list[tuple[bytes, int]] = []

    def on_delivery(error: KafkaError | None, message: object) -> None:
        assert error is None, error
        delivered.append((message.key(), message.offset()))  # type: ignore[attr-defined]

    for key, value in sent.items():
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(15) == 0
    assert len(delivered) == len(sent)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    received: dict[bytes, bytes] = {}
    try:
        for _ in range(60):  # bounded: at most 60 polls of 1 s
            message = consumer.poll(1.0)
            if message is None:
                if len(received) == len(sent):
                    break
                continue
            assert message.error() is None, message.error()
            got_key, got_value = message.key(), message.value()
            assert got_key is not None and got_value is not None
            received[got_key] = got_value
            if len(received) == len(sent):
                break
    finally:
        consumer.close()
    assert received == sent


def test_event_topics_keep_every_event(settings: Settings) -> None:
    """The read side is rebuilt by replaying the event topics, so they never expire events."""
    bootstrap = f"{settings.host}:{settings.kafka_port}"
    ensure_topics(bootstrap, EVENT_TOPICS)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in EVENT_TOPICS]
    for resource, future in admin.describe_configs(resources).items():
        assert future.result(timeout=15)["retention.ms"].value == "-1", resource.name
