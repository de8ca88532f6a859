"""Processes the price list starts beside the stack (the ceiling server), and readiness."""

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
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh.settings import ROOT, Settings

READY_TIMEOUT_S = 120.0


def address(settings: Settings, service: str, n: int = 0) -> str:
    """host:port of instance `n` of a service (snake_case name)."""
    return f"{settings.instance_address(service, n)}:{settings.instance_ports(service)[n]}"


def gateway(settings: Settings) -> str:
    """host:port of Envoy's listener."""
    return f"{settings.host}:{settings.envoy_port}"


def wait_serving(target: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll grpc.health.v1 until the server says SERVING; TimeoutError after `timeout`."""
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
def ceiling_server(log: Path) -> Iterator[str]:
    """scripts.bench.ceiling on a free loopback port, unregistered; yields its address."""
    host = "127.0.0.1"
    port = free_port(host)
    env = {**os.environ, "VIDMESH_GRPC_HOST": host, "VIDMESH_GRPC_PORT": str(port),
           "VIDMESH_CONSUL_REGISTER": "false", "PYTHONPATH": f"{ROOT}:{ROOT / 'gen' / 'python'}"}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "scripts.bench.ceiling"], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_serving(f"{host}:{port}")
        yield f"{host}:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
