"""Step 5, Event Driven: what the tour's writes put on the video.v1.events topic."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, TopicPartition

from scripts.demo import show
from scripts.demo.calls import expect
from scripts.demo.stubs import envelope
from scripts.demo.world import Demo

WHY = """Every change of a video is also a domain event: a protobuf message in a CloudEvents
envelope, written to the outbox in the same transaction as the change and relayed to Kafka,
keyed by the video id so one video's events stay in order. video-query, notification and email
consume them, each at its own pace; none of them is called by video-command."""
TOPIC = "video.v1.events"
READ_LIMIT_S = 10.0
EXPECTED = ("vidmesh.video.v1.VideoCreated", "vidmesh.video.v1.VideoPublished", "vidmesh.video.v1.VideoViewed")


def run(demo: Demo) -> str:
    """Read the topic from the tour's start; print the demo video's events in order."""
    show.heading(5, "Event Driven", f"the tour's video on the {TOPIC} topic")
    show.explain(WHY)
    bootstrap = f"{demo.settings.host}:{demo.settings.kafka_port}"
    show.say("the same read with kcat (apt-get install kcat); the values are protobuf, the ce_type header names them")
    show.command(f"kcat -b {bootstrap} -C -t {TOPIC} -o s@{demo.began_ms} -e -q -f '%p %o %k %h\\n'"
                 f" | grep {demo.video_id}")
    events = read_events(bootstrap, demo.began_ms, demo.video_id)
    show.result("\n".join(f"partition {p} offset {o:<6} v{e.aggregate_version:<3} {e.type}" for p, o, e in events))
    types = [e.type for _, _, e in events]
    expect(all(t in types for t in EXPECTED), f"created, published and viewed events ({len(events)} in all)")
    versions = [e.aggregate_version for _, _, e in events]
    expect(versions == sorted(versions) and len({p for p, _, _ in events}) == 1,
           "one partition, versions in order (the video id is the key)")
    return f"{len(events)} events for the video, in version order on one partition"


def read_events(bootstrap: str, since_ms: int, video_id: str) -> list[tuple[int, int, envelope.EventEnvelope]]:
    """(partition, offset, envelope) of the video's events since `since_ms`, in offset order."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"demo-{since_ms}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        partitions = consumer.list_topics(TOPIC, timeout=5).topics[TOPIC].partitions
        starts = consumer.offsets_for_times([TopicPartition(TOPIC, p, since_ms) for p in partitions], timeout=5)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=5)[1] for p in partitions}
        wanted = {tp.partition for tp in starts if 0 <= tp.offset < ends[tp.partition]}
        consumer.assign([tp for tp in starts if tp.partition in wanted])
        found: list[tuple[int, int, envelope.EventEnvelope]] = []
        deadline = time.monotonic() + READ_LIMIT_S
        while wanted and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            partition, offset = message.partition() or 0, message.offset() or 0
            if message.key() == video_id.encode():
                found.append((partition, offset, envelope.EventEnvelope.FromString(message.value() or b"")))
            if offset + 1 >= ends[partition]:
                wanted.discard(partition)
        return sorted(found, key=lambda event: (event[0], event[1]))
    finally:
        consumer.close()
