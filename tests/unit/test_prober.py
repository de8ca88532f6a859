"""The stack's prober answers process-compose's readiness probes from real checks: 200 when the
component answers, 503 with the reason when it does not, 404 for a name it does not know."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from scripts.devstack.prober import handler


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def grpc_address() -> Iterator[tuple[str, health.HealthServicer]]:
    server = grpc.server(ThreadPoolExecutor(2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(0)


def _get(base: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(base + path, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_each_probe_is_answered_from_a_real_check(grpc_address: tuple[str, health.HealthServicer]) -> None:
    address, servicer = grpc_address
    targets = {"svc": ("grpc", address), "kafka": ("kafka", f"127.0.0.1:{_closed_port()}")}
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(targets))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert _get(base, "/ready/svc")[0] == 503
        servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        assert _get(base, "/ready/svc") == (200, "ok")
        code, reason = _get(base, "/ready/kafka")
        assert code == 503 and "kafka" in reason
        assert _get(base, "/ready/nobody")[0] == 404
        assert _get(base, "/healthz") == (200, "ok")
    finally:
        server.shutdown()
