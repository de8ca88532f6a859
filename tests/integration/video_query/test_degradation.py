"""Kafka away is degradation, not an outage: an instance whose projector cannot reach Kafka is
SERVING, answers reads from the read model, and a read waiting for a version it cannot see
says `stale` before the caller's deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import grpc.aio
from vidmesh.video.v1 import video_query_service_pb2 as pb

from mesh.server import SERVING
from mesh.settings import ROOT
from mesh.supervisor import health_name
from tests.integration.video_query import events as ev
from tests.integration.video_query.conftest import Feed, Instance, Publisher, health_of, new_id, running
from tests.support_xds import free_port


async def test_with_kafka_away_it_is_serving_answers_reads_and_a_wait_says_stale(
        database: str, feed: Feed, instance: Instance, publisher: Publisher) -> None:
    video_id, owner = new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner, title="Before the outage"),
                    ev.published(video_id, owner))
    await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
    no_kafka = f"127.0.0.1:{free_port()}"  # nothing listens there
    async with running(database, no_kafka, feed, VIDMESH_SERVICE_NAME=f"{feed.group}-cut-off") as cut_off:
        got = await cut_off.stub.GetVideo(pb.GetVideoRequest(video_id=video_id), timeout=5)
        assert (got.video.title, got.video.version, got.stale) == ("Before the outage", 2, False)
        started = time.monotonic()
        waited = await cut_off.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=3), timeout=1.0)
        assert waited.stale and waited.video.version == 2 and time.monotonic() - started < 1.0
        async with grpc.aio.insecure_channel(f"127.0.0.1:{cut_off.running.port}") as channel:
            assert await health_of(channel) == SERVING
            assert await health_of(channel, health_name("version-listener")) == SERVING


def test_with_kafka_away_sigterm_still_exits_within_drain_plus_grace(database: str) -> None:
    # The topics worker blocks in Kafka's admin client for its timeout while Kafka is away; the
    # stop must not wait for it (MESH.md, Shutdown: drain + grace + 2 s).
    drain, grace = 0.0, 2.0
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'gen' / 'python'}",
           "VIDMESH_SERVICE_NAME": f"video-query-exit-{new_id()[:8]}", "VIDMESH_DATABASE_URL": database,
           "VIDMESH_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "VIDMESH_GRPC_PORT": "0",
           "VIDMESH_CONSUL_REGISTER": "false", "VIDMESH_DRAIN_SECONDS": str(drain),
           "VIDMESH_SHUTDOWN_GRACE_SECONDS": str(grace)}
    process = subprocess.Popen([sys.executable, "-m", "services.video_query"], env=env, cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    try:
        for line in process.stdout:  # bounded by the fixture's stack and the test timeout
            if '"status": "SERVING"' in line:
                break
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        assert process.returncode == 0
        assert time.monotonic() - signalled <= drain + grace + 2, f"{time.monotonic() - signalled:.1f} s"
    finally:
        if process.poll() is None:
            process.kill()
