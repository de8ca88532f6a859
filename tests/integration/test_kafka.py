"""Kafka 4.1 (KRaft, one node) with confluent-kafka: what is produced with acks=all comes back."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]

from mesh.kafka import EVENT_TOPICS, METADATA_REFRESH_MS, consumer_config, ensure_topics
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


def test_a_consumer_subscribed_before_one_of_its_topics_exists_reads_it_soon_after_it_is_created(
        settings: Settings) -> None:
    # A fresh stack: notification subscribed to users.v1.events and video.v1.events a moment
    # before the broker knew the second, and read nothing of it for 5 minutes (librdkafka
    # refreshes the metadata of a missing topic at topic.metadata.refresh.interval.ms when
    # another of the subscription is there).
    bootstrap = f"{settings.host}:{settings.kafka_port}"
    there, late = (f"it.{kind}.{uuid.uuid4().hex[:8]}" for kind in ("there", "late"))
    ensure_topics(bootstrap, {there: 1})
    consumer = Consumer(consumer_config(bootstrap, f"it-{uuid.uuid4().hex}"))
    consumer.subscribe([there, late])
    try:
        unknown = None
        for _ in range(40):  # bounded: until the client has said the late topic is not there
            message = consumer.poll(0.5)
            error = message.error() if message is not None else None
            if error is not None:
                unknown = error.code()
                break
        assert unknown == KafkaError.UNKNOWN_TOPIC_OR_PART
        for _ in range(10):  # and has joined the group with the topic that is there
            consumer.poll(0.5)
        ensure_topics(bootstrap, {late: 1})
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        producer.produce(late, value=b"late")
        assert producer.flush(15) == 0
        within_s = 2 * METADATA_REFRESH_MS / 1000 + 10  # two refreshes and a rebalance
        deadline = time.monotonic() + within_s
        received = None
        while received is None and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                received = message.value()
        assert received == b"late", f"nothing read from {late} within {within_s:.0f} s of its creation"
    finally:
        consumer.close()
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.delete_topics([there, late]).values():
            future.result(timeout=15)
