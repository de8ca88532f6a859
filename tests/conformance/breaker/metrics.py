"""The breaker's /metrics (MESH.md §14): every call counted and timed under the grpc-ecosystem
names, in plaintext on a port of its own, with prometheus_client."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from tests.conformance.breaker.settings import Settings


class Metrics:
    """The two RPC series, served on a free port of the breaker's host."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.registry = settings, CollectorRegistry()
        labels = ["grpc_type", "grpc_service", "grpc_method"]
        self.handled = Counter("grpc_server_handled", "RPCs completed.", [*labels, "grpc_code"],
                               registry=self.registry)
        self.seconds = Histogram("grpc_server_handling_seconds", "Time to answer.", labels, registry=self.registry)
        server, _ = start_http_server(0, addr=settings.host, registry=self.registry)
        self.port = int(server.server_port)

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        """One finished unary call of `/package.Service/Method`."""
        if self.settings.breaking("uncounted-calls"):
            return
        service, _, name = method.lstrip("/").rpartition("/")
        # grpc-go's names: OK, InvalidArgument, NotFound...
        camel = "OK" if code is grpc.StatusCode.OK else "".join(w.capitalize() for w in code.name.split("_"))
        self.handled.labels("unary", service, name, camel).inc()
        self.seconds.labels("unary", service, name).observe(seconds)
