"""The stack's one prober: every readiness check of every component, in one long-lived process.

process-compose asks it over HTTP (`GET /ready/<component>` answers 200 or 503 with the
reason) instead of starting a probe process per component every second: a grpcurl or a
Python interpreter per instance per second cost most of a core on two, more with a second
stack beside the first. Checks are the same as before, and real: a gRPC health Check that
must answer SERVING (on a channel kept open), a Kafka ApiVersions request, an SMTP NOOP.

    python -m scripts.devstack.prober HOST:PORT TARGETS.json    (the stack starts it)
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from scripts.devstack import probe

TIMEOUT_S = 2.0


class GrpcHealth:
    """SERVING or not, over one channel per address (opened on first use, kept)."""

    def __init__(self) -> None:
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    def __call__(self, address: str) -> bool:
        with self._lock:
            channel = self._channels.get(address) or self._channels.setdefault(address, grpc.insecure_channel(address))
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                    response_deserializer=health_pb2.HealthCheckResponse.FromString)
        answer = check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S)
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def checks() -> dict[str, Callable[[str], bool]]:
    """Kind of check -> the function that runs it against an address."""
    return {"grpc": GrpcHealth(), "kafka": probe.kafka, "smtp": probe.smtp}


def handler(targets: dict[str, tuple[str, str]]) -> type[BaseHTTPRequestHandler]:
    """The HTTP face: /ready/<component> for process-compose, /healthz for the prober itself."""
    run = checks()

    class Ready(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.removeprefix("/ready/")
            if self.path == "/healthz":
                self._answer(200, "ok")
            elif name not in targets:
                self._answer(404, f"no component {name!r}")
            else:
                kind, address = targets[name]
                try:
                    self._answer(200, "ok") if run[kind](address) else self._answer(503, f"{name}: not ready")
                except Exception as error:  # any failure to answer means "not ready yet"
                    self._answer(503, f"{name}: {error}")

        def _answer(self, code: int, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # a line per probe per second would drown its log

    return Ready


def main(argv: list[str]) -> None:
    """Serve until stopped."""
    listen, targets_file = argv
    host, port = listen.rsplit(":", 1)
    targets = {name: (kind, address) for name, (kind, address) in json.loads(Path(targets_file).read_text()).items()}
    server = ThreadingHTTPServer((host, int(port)), handler(targets))
    server.daemon_threads = True
    print(f"prober: {len(targets)} components, on {listen}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
