"""The instance is a good mesh citizen: SERVING on grpc.health.v1 and passing in Consul."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import consul
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh.runtime import Running
from mesh.settings import Settings
from services.video_command.bootstrap import VideoCommand

GRPC_SERVICE = "vidmesh.video.v1.VideoCommandService"


async def test_health_is_serving_for_the_server_and_the_service(service: Running[VideoCommand]) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        for name in ("", GRPC_SERVICE):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, name


async def test_instance_is_registered_in_consul_and_passing(service: Running[VideoCommand],
                                                           settings: Settings) -> None:
    client = consul.Consul(host=settings.host, port=settings.consul_http_port)
    name = service.runtime.config.service_name
    instance_id = f"{name}-127.0.0.1-{service.port}"
    entry = await asyncio.to_thread(_wait_passing, client, name, instance_id, 30.0)
    assert entry["Service"]["Port"] == service.port
    assert "vidmesh" in entry["Service"]["Tags"]
    assert entry["Service"]["Meta"]["proto_package"] == "vidmesh.video.v1"


def _wait_passing(client: consul.Consul, name: str, instance_id: str, timeout: float) -> dict[str, Any]:
    """Blocking queries on the passing set until the instance is in it, or the timeout."""
    deadline, index = time.monotonic() + timeout, None
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"{instance_id} never passed its Consul check"
        index, entries = client.health.service(name, passing=True, index=index,
                                               wait=f"{max(int(left * 1000), 1)}ms")
        found = [entry for entry in entries if entry["Service"]["ID"] == instance_id]
        if found:
            return dict(found[0])
