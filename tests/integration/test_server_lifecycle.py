"""mesh.server end to end with the real Consul: a service process (tests/support_server.py)
registers, becomes healthy only when its dependencies are, and leaves cleanly on SIGTERM."""

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import consul
import grpc
import pytest

from mesh import health_probe
from mesh.settings import ROOT, Settings
from mesh.xds.bootstrap import blocking_channel_to
from scripts.toolchain import Toolchain
from tests.support_server import ENTRY, EchoRequest, EchoResponse

SLOW_CALL_SECONDS = 1.5


class ServiceProcess:
    """`python -m tests.support_server` with its JSON log lines readable as they come."""

    def __init__(self, name: str, settings: Settings, extra_env: dict[str, str]) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen" / "python")]),
            "VIDMESH_SERVICE_NAME": name,
            "VIDMESH_GRPC_HOST": "127.0.0.1",
            "VIDMESH_GRPC_PORT": "0",
            "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
            "VIDMESH_DRAIN_SECONDS": "0.2",
            **extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support_server"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.seen: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        serving = self.wait_for("serving")
        self.port, self.health_port = int(serving["port"]), int(serving["health_port"])

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._lines.put(json.loads(line))
            except json.JSONDecodeError:
                self._lines.put({"event": "non-json", "line": line})
        self._lines.put(None)

    def wait_for(self, event: str, timeout: float = 20) -> dict[str, Any]:
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
        raise AssertionError(f"no {event!r} log line within {timeout}s; log: {self.seen}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def consul_client(settings: Settings) -> consul.Consul:
    return consul.Consul(host=settings.host, port=settings.consul_http_port)


@pytest.fixture
def start_service(settings: Settings, consul_client: consul.Consul) -> Iterator[Callable[..., ServiceProcess]]:
    started: list[tuple[ServiceProcess, str]] = []

    def start(**extra_env: str) -> ServiceProcess:
        name = f"it-mesh-{uuid.uuid4().hex[:8]}"
        service = ServiceProcess(name, settings, extra_env)
        started.append((service, name))
        return service

    yield start
    for service, name in started:
        service.stop()
        consul_client.agent.service.deregister(f"{name}-127.0.0.1-{service.port}")


def wait_in_consul(
    client: consul.Consul, name: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float, passing: bool
) -> tuple[bool, list[dict[str, Any]]]:
    """Blocking queries on the service's health until `done(entries)` or the timeout."""
    deadline, index = time.monotonic() + timeout, None
    while True:
        left = deadline - time.monotonic()
        index, entries = client.health.service(name, passing=passing, index=index, wait=f"{max(int(left * 1000), 1)}ms")
        if done(entries) or time.monotonic() >= deadline:
            return done(entries), entries


def agent_check_after_first_run(client: consul.Consul, check_id: str, timeout: float) -> dict[str, Any]:
    """The local agent's view of a check once it has run (the catalog only syncs output
    changes every few minutes, so its Output would stay empty)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check: dict[str, Any] = client.agent.checks().get(check_id, {})
        if check.get("Output"):
            return check
        time.sleep(0.2)
    raise AssertionError(f"Consul never ran {check_id}: {client.agent.checks().get(check_id)}")


def ids(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["Service"]["ID"] for entry in entries}


def echo_call(port: int) -> grpc.UnaryUnaryMultiCallable[Any, Any]:
    channel = blocking_channel_to(ENTRY.name, f"127.0.0.1:{port}")  # mutual TLS, as the operator
    return channel.unary_unary(
        "/meshtest.v1.EchoService/Echo",
        request_serializer=EchoRequest.SerializeToString,
        response_deserializer=EchoResponse.FromString,
    )


def test_registers_serves_reflection_and_drains_on_sigterm(
    start_service: Callable[..., ServiceProcess], consul_client: consul.Consul, settings: Settings
) -> None:
    service = start_service()
    name = service.wait_for("registered")["service_id"].rsplit("-127.0.0.1-", 1)[0]
    instance = f"{name}-127.0.0.1-{service.port}"
    ok, entries = wait_in_consul(consul_client, name, lambda e: instance in ids(e), timeout=15, passing=True)
    assert ok, f"{instance} never passed in Consul: {entries}"
    [entry] = entries
    assert entry["Service"]["Tags"] == ["vidmesh", "v1"]
    meta = dict(entry["Service"]["Meta"])
    assert int(meta.pop("metrics_port")) > 0  # where Prometheus scrapes it (MESH.md §14)
    assert meta == {"version": "1", "proto_package": "meshtest.v1", "hostname": "127.0.0.1", "identity": "meshtest"}
    [check] = [c for c in entry["Checks"] if c["ServiceID"] == instance]
    assert (check["Type"], check["Interval"], check["Timeout"]) == ("grpc", "1s", "3s")  # MESH.md §2

    grpcurl = Toolchain(settings.cache_dir).go_binary("grpcurl")
    operator = ["-insecure", "-cert", str(settings.operator_certs / "cert.pem"),
                "-key", str(settings.operator_certs / "key.pem")]
    listed = subprocess.run(
        [str(grpcurl), *operator, "-max-time", "5", f"127.0.0.1:{service.port}", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "meshtest.v1.EchoService"} <= set(
        listed
    )
    probe = subprocess.run(
        [sys.executable, "-m", "mesh.health_probe", f"127.0.0.1:{service.health_port}"], cwd=ROOT, timeout=30,
        check=False
    )
    assert probe.returncode == 0

    in_flight = echo_call(service.port).future(EchoRequest(title="slow", sleep_seconds=SLOW_CALL_SECONDS), timeout=15)
    service.wait_for("echo started", timeout=10)
    service.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    gone, entries = wait_in_consul(consul_client, name, lambda e: instance not in ids(e), timeout=2, passing=True)
    assert gone and time.monotonic() - signalled <= 2.0, f"still passing 2 s after SIGTERM: {entries}"

    assert in_flight.result(timeout=15).title == "slow"
    assert service.process.wait(timeout=15) == 0
    _, left = consul_client.health.service(name)
    assert left == [], "the instance was not deregistered"


def test_instance_with_failing_dependency_stays_not_serving_until_it_recovers(
    start_service: Callable[..., ServiceProcess], consul_client: consul.Consul, tmp_path: Path
) -> None:
    ready_file = tmp_path / "ready"
    service = start_service(MESHTEST_READY_FILE=str(ready_file))
    name = service.wait_for("registered")["service_id"].rsplit("-127.0.0.1-", 1)[0]
    address = f"127.0.0.1:{service.health_port}"

    check = agent_check_after_first_run(consul_client, f"service:{name}-127.0.0.1-{service.port}", timeout=15)
    assert check["Status"] == "critical", check
    assert health_probe.probe(address) == health_probe.NOT_SERVING
    _, healthy = consul_client.health.service(name, passing=True)
    assert healthy == []

    ready_file.touch()
    ok, entries = wait_in_consul(consul_client, name, lambda e: len(e) == 1, timeout=15, passing=True)
    assert ok, f"never passed once the dependency was ready: {entries}"
    assert health_probe.probe(address) == health_probe.SERVING
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=15) == 0
