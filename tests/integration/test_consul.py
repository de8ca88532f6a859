"""Consul dev agent with py-consul: a gRPC health check passes, then goes critical."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent import futures

import consul
import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from mesh.settings import Settings


def _check_status(client: consul.Consul, service: str, want: str, timeout: float) -> str:
    """Wait with Consul blocking queries until the service's check reports `want`."""
    deadline = time.monotonic() + timeout
    index, status = None, "missing"
    while time.monotonic() < deadline:
        index, checks = client.health.checks(service, index=index, wait="2s")
        status = checks[0]["Status"] if checks else "missing"
        if status == want:
            break
    return status


@pytest.fixture
def grpc_server() -> Iterator[tuple[grpc.Server, int]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield server, port
    server.stop(0)


def test_grpc_health_check_passes_then_goes_critical(settings: Settings, grpc_server: tuple[grpc.Server, int]) -> None:
    server, port = grpc_server
    client = consul.Consul(host=settings.host, port=settings.consul_http_port)
    assert client.status.leader(), "the dev agent has no leader"
    name = f"it-probe-{uuid.uuid4().hex[:8]}"
    client.agent.service.register(
        name, service_id=f"{name}-127.0.0.1-{port}", address="127.0.0.1", port=port,
        check=consul.Check.grpc(f"127.0.0.1:{port}", interval="1s", timeout="1s", deregister="1m"),
    )
    try:
        assert _check_status(client, name, "passing", timeout=15) == "passing"
        _, healthy = client.health.service(name, passing=True)
        assert [entry["Service"]["Port"] for entry in healthy] == [port]

        server.stop(0)
        assert _check_status(client, name, "critical", timeout=15) == "critical"
        _, healthy = client.health.service(name, passing=True)
        assert healthy == []
    finally:
        client.agent.service.deregister(f"{name}-127.0.0.1-{port}")
