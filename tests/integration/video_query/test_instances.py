"""Instances: two share the projection and answer alike; the real process serves, registers
in Consul and consumes the real topic names."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import consul
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vidmesh.video.v1 import video_query_service_pb2 as pb
from vidmesh.video.v1 import video_query_service_pb2_grpc as pb_grpc

from mesh.kafka import dlq_topic, ensure_topics
from mesh.settings import Settings
from mesh.topology import EVENT_PARTITIONS, USERS_EVENTS, VIDEO_EVENTS
from mesh.xds.bootstrap import channel_to
from tests.integration.video_query import events as ev
from tests.integration.video_query.conftest import Feed, Publisher, eventually, new_id, running

REPO = Path(__file__).resolve().parents[3]


def _members(kafka: str, group: str) -> int:
    admin = AdminClient({"bootstrap.servers": kafka})
    described = admin.describe_consumer_groups([group], request_timeout=10)[group].result(timeout=10)
    return len(described.members) if str(described.state).endswith("STABLE") else 0


async def test_two_instances_split_the_partitions_and_answer_alike(
        database: str, kafka: str, feed: Feed, publisher: Publisher) -> None:
    # The second is a canary: it answers alike, saying it is version 2.
    async with running(database, kafka, feed) as one, \
            running(database, kafka, feed, VIDMESH_SERVICE_VERSION="2") as two:
        await eventually(lambda: asyncio.to_thread(_members, kafka, feed.group),
                         lambda members: members == 2, timeout=30)
        owner, videos = new_id(), [new_id() for _ in range(12)]
        for video_id in videos:
            publisher.send(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner),
                           aggregate_id=video_id)
        for n, video_id in enumerate(videos):  # read-your-writes on either instance
            stub = (one, two)[n % 2].stub
            found = await stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
            assert found.served_by_version == ("1", "2")[n % 2]
        assert one.parts.projector.counts["applied"] > 0 and two.parts.projector.counts["applied"] > 0
        assert one.parts.projector.prompt  # read-your-writes waits on it: it does not gather
        request = pb.ListChannelVideosRequest(channel_id=owner, page_size=5)
        first = await one.stub.ListChannelVideos(request, timeout=5)
        request.page_token = first.next_page_token
        second_on_two = await two.stub.ListChannelVideos(request, timeout=5)
        second_on_one = await one.stub.ListChannelVideos(request, timeout=5)
        assert second_on_two == second_on_one and len(second_on_two.videos) == 5


def _start_at_end(kafka: str, group: str, topics: list[str]) -> None:
    """Commit the group's offsets at the topics' current ends: it reads only what comes next."""
    reader = Consumer({"bootstrap.servers": kafka, "group.id": group, "enable.auto.commit": False})
    try:
        metadata = reader.list_topics(timeout=10)
        ends = [TopicPartition(t, p, reader.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1])
                for t in topics for p in metadata.topics[t].partitions]
        reader.commit(offsets=ends, asynchronous=False)
    finally:
        reader.close()


@pytest.fixture
def real_topics_group(kafka: str) -> Iterator[str]:
    """A service name (= consumer group) of this test's own, starting at the real topics' ends."""
    group = f"video-query-it-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka, {VIDEO_EVENTS: EVENT_PARTITIONS, USERS_EVENTS: EVENT_PARTITIONS})
    _start_at_end(kafka, group, [VIDEO_EVENTS, USERS_EVENTS])
    yield group
    admin = AdminClient({"bootstrap.servers": kafka})
    admin.delete_topics([dlq_topic(group)])[dlq_topic(group)].exception(timeout=15)
    admin.delete_consumer_groups([group])[group].exception(timeout=15)


@pytest.fixture
async def process(database: str, kafka: str, settings: Settings, real_topics_group: str,
                  tmp_path: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, Path]]:
    """`python -m services.video_query` under a Consul name of its own; stopped with SIGTERM."""
    name, log = real_topics_group, tmp_path / "video-query.log"
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'gen' / 'python'}", "VIDMESH_SERVICE_NAME": name,
           "VIDMESH_DATABASE_URL": database, "VIDMESH_KAFKA_BOOTSTRAP": kafka, "VIDMESH_GRPC_PORT": "0",
           "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}", "VIDMESH_DRAIN_SECONDS": "0"}
    env.pop("VIDMESH_TOPIC_PREFIX", None)
    with log.open("wb") as out:
        child = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.video_query", cwd=REPO,
                                                     env=env, stdout=out, stderr=asyncio.subprocess.STDOUT)
    try:
        yield child, name, log
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def _passing(client: consul.Consul, name: str, count: int, timeout: float = 30) -> list[Any]:
    """The passing instances of `name` once there are `count` (Consul blocking queries, bounded)."""
    index, deadline = None, time.monotonic() + timeout
    while True:
        index, nodes = await asyncio.to_thread(client.health.service, name, index=index, wait="2s", passing=True)
        if len(nodes) == count:
            return list(nodes)
        assert time.monotonic() < deadline, f"{name}: {len(nodes)} passing instances, wanted {count}"


async def test_the_process_serves_registers_and_projects_the_real_topics(
        process: tuple[asyncio.subprocess.Process, str, Path], publisher: Publisher, settings: Settings) -> None:
    child, name, log = process
    client = consul.Consul(host=settings.host, port=settings.consul_http_port)
    try:
        [entry] = await _passing(client, name, 1)
    except AssertionError:
        pytest.fail(f"not registered and passing; log:\n{log.read_text()[-3000:]}")
    assert entry["Service"]["Tags"] == ["vidmesh", "v1"]
    address = f"{entry['Service']['Address']}:{entry['Service']['Port']}"
    async with channel_to(entry["Service"]["Meta"]["identity"], address) as channel:  # mutual TLS, as the operator
        health: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        checked = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert checked.status == health_pb2.HealthCheckResponse.SERVING
        video_id, owner = new_id(), new_id()
        publisher.register(USERS_EVENTS, owner, "Real Topics")
        publisher.send(VIDEO_EVENTS, ev.created(video_id, owner), ev.published(video_id, owner), aggregate_id=video_id)
        stub = pb_grpc.VideoQueryServiceStub(channel)
        request = pb.GetVideoRequest(video_id=video_id, min_version=2)
        got = await eventually(lambda: stub.GetVideo(request, timeout=5),
                               lambda got: got.video.owner_display_name == "Real Topics", timeout=30)
        assert got.video.version == 2 and not got.stale
    child.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(child.wait(), timeout=30) == 0, log.read_text()[-3000:]
    await _passing(client, name, 0)
