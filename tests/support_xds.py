"""Helpers for the xDS tests: instances that say who they are, a private Envoy fed over ADS,
and a proxyless client run in its own process (grpcio reads GRPC_XDS_BOOTSTRAP once).

`python -m tests.support_xds proxyless <service> <calls>` prints the ports that answered.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

# A method with raw bytes in and out, so the test needs no generated code.
WHOAMI = "/vidmesh.test.v1.WhoAmIService/Port"
PREVIOUS_HOSTS = "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"


def free_port() -> int:
    """A port the kernel just handed out (for processes that cannot bind port 0 themselves)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortServer:
    """A gRPC instance answering grpc.health.v1 and WHOAMI with its own port."""

    def __init__(self) -> None:
        self.server = grpc.aio.server()
        self.port = self.server.add_insecure_port("127.0.0.1:0")

        async def port(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            return str(self.port).encode()

        handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(port)
        service, method = WHOAMI.strip("/").split("/")
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {method: handler}),))
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)

    async def start(self) -> PortServer:
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self.server.start()
        return self

    async def stop(self) -> None:
        """Stop serving: new calls are refused at once (which Envoy retries on another host);
        a call already inside finishes, as in a draining instance, rather than be CANCELLED."""
        await self.server.stop(grace=1)


def envoy_bootstrap(xds_port: int, admin_port: int, listener_port: int, cluster: str) -> str:
    """An Envoy that takes clusters and endpoints over ADS and routes all gRPC to `cluster`.

    Retries go to another host on connect failures and resets, so a dead instance costs no
    call while its endpoint is still listed.
    """
    return f"""node: {{id: xds-test-envoy, cluster: xds-test}}
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin_port}}}}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{{envoy_grpc: {{cluster_name: xds_cluster}}}}]
  cds_config: {{resource_api_version: V3, ads: {{}}}}
static_resources:
  listeners:
  - name: grpc
    address: {{socket_address: {{address: 127.0.0.1, port_value: {listener_port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: grpc
          codec_type: AUTO
          route_config:
            name: mesh
            # The cluster arrives later over CDS: without this Envoy refuses the static route.
            validate_clusters: false
            virtual_hosts:
            - name: mesh
              domains: ["*"]
              routes:
              - match: {{prefix: "/"}}
                route:
                  cluster: {cluster}
                  timeout: 5s
                  retry_policy:
                    retry_on: connect-failure,refused-stream,reset,unavailable
                    num_retries: 3
                    retry_host_predicate:
                    - name: envoy.retry_host_predicates.previous_hosts
                      typed_config:
                        "@type": {PREVIOUS_HOSTS}
                    host_selection_retry_max_attempts: 3
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
  clusters:
  - name: xds_cluster
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment:
      cluster_name: xds_cluster
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {xds_port}}}}}}}
"""


@contextmanager
def running(command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` with its output in `log`; terminate it (then kill) on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def envoy_ports(admin: httpx.AsyncClient, cluster: str) -> set[int]:
    """Ports of the hosts Envoy currently has in `cluster` (from EDS)."""
    body = (await admin.get("/clusters", params={"format": "json"})).json()
    for status in body.get("cluster_statuses", []):
        if status["name"] == cluster:
            return {h["address"]["socket_address"]["port_value"] for h in status.get("host_statuses", [])}
    return set()


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.05) -> float:
    """Poll the async `check()` until it is true; return the monotonic time it was seen true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return time.monotonic()
        await asyncio.sleep(interval)  # the polling interval of a bounded wait
    raise TimeoutError(f"not true within {timeout}s: {check}")


async def _proxyless(service: str, calls: int) -> dict[str, object]:
    from mesh.xds import bootstrap

    async with bootstrap.channel(service) as channel:
        whoami: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(WHOAMI)
        # Round robin only picks connected instances: wait until both answered once.
        warmup: list[int] = []
        while len(set(warmup)) < 2 and len(warmup) < 200:
            warmup.append(int(await whoami(b"", timeout=10, wait_for_ready=True)))
        ports = [int(await whoami(b"", timeout=5)) for _ in range(calls)]
    return {"bootstrap": bootstrap.ensure_bootstrap().read_text(), "warmup": warmup, "ports": ports}


if __name__ == "__main__" and sys.argv[1:2] == ["proxyless"]:
    print(json.dumps(asyncio.run(_proxyless(sys.argv[2], int(sys.argv[3])))))
