"""MESH.md section 14 on a real instance: video-command registers the port of its /metrics in
Consul, and what is served there counts its RPCs, its pool and its workers."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mesh.runtime import Running
from mesh.settings import Settings
from services.video_command.bootstrap import VideoCommand
from tests.integration.video_command.support import create, new_id

if TYPE_CHECKING:
    from vidmesh.video.v1.video_command_service_pb2_grpc import VideoCommandServiceAsyncStub as Stub


def registered_meta(settings: Settings, running: Running[VideoCommand]) -> dict[str, str]:
    server = running.runtime.server
    assert server is not None
    answer = httpx.get(f"http://{settings.host}:{settings.consul_http_port}/v1/agent/service/"
                       f"{server.registration.service_id}", timeout=5)
    answer.raise_for_status()
    meta: dict[str, str] = answer.json()["Meta"]
    return meta


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_the_metrics_port_is_in_consul_and_serves_the_mesh_series(
        settings: Settings, service: Running[VideoCommand], stub: Stub) -> None:
    port = int(registered_meta(settings, service)["metrics_port"])
    assert port == service.runtime.metrics.port > 0
    await create(stub, new_id())
    labels = frozenset({"grpc_type": "unary", "grpc_service": "vidmesh.video.v1.VideoCommandService",
                        "grpc_method": "CreateVideo", "grpc_code": "OK"}.items())
    deadline = time.monotonic() + 5  # the server counts a call once its answer is sent
    while not (samples := await asyncio.to_thread(scrape, port)).get(("grpc_server_handled_total", labels)):
        assert time.monotonic() < deadline, "CreateVideo was not counted"
        await asyncio.sleep(0.05)  # polling interval of a bounded wait
    name = service.runtime.config.service_name
    pool_max = samples[("vidmesh_db_pool_max", frozenset({"pool": name}.items()))]
    assert pool_max == service.runtime.metrics.pools[name].max_size
    assert samples[("vidmesh_worker_up", frozenset({"worker": "outbox-relay"}.items()))] == 1
    assert samples[("vidmesh_worker_crashes_total", frozenset({"worker": "outbox-relay"}.items()))] == 0
    assert any(key[0] == "process_resident_memory_bytes" for key in samples)


