"""How the price list reaches the stack (as the operator, over mutual TLS like every caller),
the processes it starts beside it (the ceiling server), and readiness."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh.identity_files import IdentityFolder
from mesh.settings import ROOT, Settings
from mesh.xds.bootstrap import channel_to, use_identity

READY_TIMEOUT_S = 120.0


def address(settings: Settings, service: str, n: int = 0) -> str:
    """host:port of instance `n` of a service (snake_case name)."""
    return f"{settings.instance_address(service, n)}:{settings.instance_ports(service)[n]}"


def consul_name(service: str) -> str:
    """The name a service (snake_case) registers and presents in its certificate."""
    return service.replace("_", "-")


def as_operator(settings: Settings) -> IdentityFolder:
    """Make this process call the mesh as the operator (the identity `make start` keeps in
    .run/certs/operator), as `make demo` and the tests do; returns that identity's files."""
    folder = IdentityFolder(settings.operator_certs)
    use_identity(f"{settings.host}:{settings.xds_port}", folder, node="bench")
    return folder


def channel(settings: Settings, service: str, n: int = 0) -> grpc.aio.Channel:
    """A mutual-TLS channel to instance `n` of a service (snake_case name)."""
    return channel_to(consul_name(service), address(settings, service, n))


def gateway(settings: Settings) -> str:
    """host:port of Envoy's listener."""
    return f"{settings.host}:{settings.envoy_port}"


def wait_serving(target: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll grpc.health.v1 on a health port (plaintext, as Consul's check does) until the
    server says SERVING; TimeoutError after `timeout`."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        serving = health_pb2.HealthCheckResponse.SERVING
        while time.monotonic() < deadline:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == serving:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"{target} not SERVING after {timeout:.0f} s")


def free_port(host: str) -> int:
    """A port free on `host` now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def ceiling_server(settings: Settings, log: Path, *, mtls: bool = True) -> Iterator[str]:
    """scripts.bench.ceiling on a free loopback port, unregistered, with its identity from the
    stack's Consul (or in plaintext, `mtls=False`); yields its address."""
    host = "127.0.0.1"
    port, health = free_port(host), free_port(host)
    env = {**os.environ, "VIDMESH_GRPC_HOST": host, "VIDMESH_GRPC_PORT": str(port), "VIDMESH_HEALTH_PORT": str(health),
           "VIDMESH_CONSUL_REGISTER": "false", "VIDMESH_MTLS": str(mtls).lower(),
           "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
           "VIDMESH_CERTS_DIR": str(settings.certs_dir / "bench"),
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{settings.host}:{settings.jaeger_otlp_grpc_port}",
           "PYTHONPATH": f"{ROOT}:{ROOT / 'gen' / 'python'}"}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "scripts.bench.ceiling"], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_serving(f"{host}:{health}")
        yield f"{host}:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
