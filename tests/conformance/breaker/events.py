"""The breaker's consumer of `<prefix>video.v1.events` (MESH.md §10): group = its name, each
VideoCreated and VideoPublished applied, anything unreadable sent to `<group>.dlq` with the
dlq.* headers."""

from __future__ import annotations

import threading

from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from google.protobuf.message import DecodeError
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.video.v1.events_pb2 import VideoCreated, VideoPublished

from tests.conformance.breaker.settings import Settings
from tests.conformance.breaker.videos import Videos

TOPIC = "video.v1.events"
TIMEOUT_S = 15.0


class Events:
    """Consumes in a thread until `stop()`."""

    def __init__(self, settings: Settings, videos: Videos) -> None:
        self.settings, self.videos = settings, videos
        prefix = "" if settings.breaking("ignores-prefix") else settings.topic_prefix
        self.topic, self.dlq = prefix + TOPIC, f"{settings.name}.dlq"
        self.stopping = threading.Event()
        self.reached = threading.Event()  # set once Kafka has answered

    def ensure_topics(self) -> None:
        """Create its topic and its dead-letter topic if they are missing."""
        admin = AdminClient({"bootstrap.servers": self.settings.kafka})
        existing = admin.list_topics(timeout=TIMEOUT_S).topics
        wanted = [NewTopic(name, num_partitions=3, replication_factor=1)
                  for name in (self.topic, self.dlq) if name not in existing]
        for future in admin.create_topics(wanted).values() if wanted else ():
            future.result(TIMEOUT_S)
        self.reached.set()

    def run(self) -> None:
        """Consume, apply, dead-letter, commit after each record."""
        self.ensure_topics()
        consumer = Consumer({"bootstrap.servers": self.settings.kafka, "group.id": self.settings.name,
                             "enable.auto.commit": False, "auto.offset.reset": "earliest",
                             "session.timeout.ms": 6000, "fetch.wait.max.ms": 50})
        producer = Producer({"bootstrap.servers": self.settings.kafka, "acks": "all", "enable.idempotence": True})
        consumer.subscribe([self.topic])
        try:
            while not self.stopping.is_set():
                record = consumer.poll(0.2)
                if record is None or record.error():
                    continue
                if not self._handle(record, producer):
                    return
                consumer.commit(message=record, asynchronous=False)
        finally:
            consumer.close()

    def _handle(self, record: Message, producer: Producer) -> bool:
        """Apply one record; False when the consumer is to stop here."""
        envelope = EventEnvelope()
        try:
            envelope.ParseFromString(record.value() or b"")
            readable = bool(envelope.id) and envelope.data.type_url.endswith("/" + envelope.type)
        except DecodeError:
            readable = False
        error = "not a vidmesh.events.v1.EventEnvelope"
        if readable:
            try:
                self._apply(envelope)
                return True
            except KeyError as missing:  # e.g. a video published before it was created
                error = str(missing)
        if not self.settings.breaking("skips-poison"):
            self._dead_letter(record, producer, error)
        return not self.settings.breaking("stops-at-poison")

    def _apply(self, envelope: EventEnvelope) -> None:
        created, published = VideoCreated(), VideoPublished()
        if envelope.data.Unpack(created):
            self.videos.created(created.video_id, created.owner_id, created.version)
        elif envelope.data.Unpack(published):
            self.videos.publish(published.video_id, published.version)

    def _dead_letter(self, record: Message, producer: Producer, error: str) -> None:
        headers: list[tuple[str, str | bytes | None]] = [
            ("dlq.error", error), ("dlq.topic", str(record.topic())),
            ("dlq.partition", str(record.partition()))]
        if not self.settings.breaking("dlq-without-offset"):
            headers.append(("dlq.offset", str(record.offset())))
        producer.produce(self.dlq, key=record.key(), value=record.value(), headers=headers)
        producer.flush(TIMEOUT_S)

    def stop(self) -> None:
        """Return from run() after the record in hand."""
        self.stopping.set()
