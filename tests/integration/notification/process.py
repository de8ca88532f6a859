"""Service processes as the stack runs them (`python -m services.<name>`), for the process tests."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from types import TracebackType
from typing import Any, Self

import consul

from mesh import health_probe
from mesh.dbbootstrap import service_dsn
from mesh.settings import ROOT, Settings


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment the stack gives a service process, without a database URL."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIDMESH_")}
    return {
        **env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen" / "python")]),
        "VIDMESH_GRPC_HOST": "127.0.0.1", "VIDMESH_GRPC_PORT": "0",
        "VIDMESH_KAFKA_BOOTSTRAP": f"{settings.host}:{settings.kafka_port}",
        "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
        "VIDMESH_SMTP_ADDR": f"{settings.host}:{settings.smtp_port}", "VIDMESH_DRAIN_SECONDS": "0.1",
        **extra,
    }


def missing_database_url(module: str, settings: Settings) -> bool:
    """Whether `python -m module` without VIDMESH_DATABASE_URL exits non-zero, naming it."""
    done = subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=process_env(settings), capture_output=True,
                          text=True, timeout=60, check=False)
    return done.returncode != 0 and "VIDMESH_DATABASE_URL" in done.stderr


class ServiceProcess:
    """`python -m <module>` on the service's own database and the real topics, under a unique
    Consul name (so nothing routes to it); its JSON log lines are read as they come."""

    def __init__(self, module: str, role: str, settings: Settings) -> None:
        self.name = f"{role}-it-{uuid.uuid4().hex[:8]}"
        self.settings = settings
        env = process_env(settings, VIDMESH_SERVICE_NAME=self.name, VIDMESH_DATABASE_URL=service_dsn(role, settings))
        self.process = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.seen: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.exit_code: int | None = None

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._lines.put(json.loads(line))
            except json.JSONDecodeError:
                self._lines.put({"event": "non-json", "line": line})
        self._lines.put(None)

    def wait_for(self, event: str, timeout: float = 60) -> dict[str, Any]:
        """The next log line with this event; fails with the log so far if none comes."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                entry = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if entry is None:
                break
            self.seen.append(entry)
            if entry.get("event") == event:
                return entry
        raise AssertionError(f"no {event!r} log line within {timeout}s; log: {self.seen[-20:]}")

    def wait_registered(self, timeout: float = 30) -> int:
        """Wait until the instance says SERVING (on its plaintext health port) and Consul's check
        passes; its port."""
        serving_line = self.wait_for("serving")
        port, health_port = int(serving_line["port"]), int(serving_line["health_port"])
        client = consul.Consul(host=self.settings.host, port=self.settings.consul_http_port)
        deadline = time.monotonic() + timeout
        while True:
            serving = health_probe.probe(f"127.0.0.1:{health_port}") == health_probe.SERVING
            _, instances = client.health.service(self.name, passing=True)
            if serving and [i["Service"]["Port"] for i in instances] == [port]:
                return port
            assert time.monotonic() < deadline, f"{self.name} not SERVING and passing; log: {self.seen[-20:]}"
            time.sleep(0.2)  # the polling interval of a bounded wait

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
