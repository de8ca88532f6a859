"""The xDS control plane against the real Consul: a private Envoy and a proxyless gRPC client
reach every healthy instance, and a dead instance leaves the routing within 2 s; on the
runtime it stays out of Consul, is NOT_SERVING while its watcher is down, and stops without
waiting out the grace."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import consul
import grpc
import httpx
import pytest
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh import config as mesh_config
from mesh import runtime
from mesh.runtime import Running
from mesh.settings import ROOT, Settings
from mesh.supervisor import health_name
from mesh.xds import resources
from mesh.xds import watcher as watcher_module
from mesh.xds.__main__ import ENTRY, bootstrap, control_plane_config
from mesh.xds.snapshot import Instance, SnapshotStore
from scripts.toolchain import Toolchain
from tests.support_xds import WHOAMI, PortServer, envoy_bootstrap, envoy_ports, free_port, running, wait_for

REMOVAL_BUDGET_S = 2.0


@dataclass
class Envoy:
    admin: httpx.AsyncClient
    listener_port: int


@dataclass
class Calls:
    """Calls made through Envoy: (monotonic time, port) answers and the failures."""

    answers: list[tuple[float, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _envoy_command(settings: Settings, config: Path, *extra: str) -> list[str]:
    # A base id of our own keeps this Envoy clear of the shared stack's Envoy.
    binary = str(Toolchain(settings.cache_dir).envoy)
    base_id = str(random.randint(1000, 60000))
    return [binary, "-c", str(config), "--disable-hot-restart", "--base-id", base_id, *extra]


def _wait_passing(client: consul.Consul, name: str, count: int, timeout: float) -> None:
    deadline, index = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        index, entries = client.health.service(name, passing=True, index=index, wait="2s")
        if len(entries) == count:
            return
    raise TimeoutError(f"{name}: {count} passing instances not seen within {timeout}s")


def _wait_critical(client: consul.Consul, name: str, service_id: str, timeout: float) -> float:
    """The monotonic time a Consul blocking query first shows the instance's check critical."""
    deadline, index = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        index, checks = client.health.checks(name, index=index, wait="2s")
        if any(c["ServiceID"] == service_id and c["Status"] == "critical" for c in checks):
            return time.monotonic()
    raise TimeoutError(f"{service_id} not critical within {timeout}s")


async def _wait_serving(port: int, timeout: float) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # the stub's type stubs omit its methods
        watch = stub.Watch(health_pb2.HealthCheckRequest(), timeout=timeout, wait_for_ready=True)
        async for answer in watch:
            if answer.status == health_pb2.HealthCheckResponse.SERVING:
                watch.cancel()
                return


@pytest.fixture(scope="module")
def consul_client(settings: Settings) -> consul.Consul:
    return consul.Consul(host=settings.host, port=settings.consul_http_port, connections_timeout=5)


@pytest.fixture(scope="module")
async def control_plane(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[int]:
    """`python -m mesh.xds` on a free port, against the shared Consul; yields its port."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}",  # the runtime imports the generated contracts
        "VIDMESH_XDS_ADDR": f"127.0.0.1:{port}",
        "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
    }
    log = tmp_path_factory.mktemp("xds") / "xds.log"
    with running([sys.executable, "-m", "mesh.xds"], log, env):
        await _wait_serving(port, timeout=30)
        yield port


@pytest.fixture
async def instances(consul_client: consul.Consul) -> AsyncIterator[tuple[str, list[PortServer]]]:
    """Two registered instances of a fresh service, both passing their gRPC check."""
    name = f"xds-test-{uuid.uuid4().hex[:8]}"
    servers = [await PortServer().start(), await PortServer().start()]
    ids = [f"{name}-127.0.0.1-{server.port}" for server in servers]
    try:
        for server, service_id in zip(servers, ids, strict=True):
            await asyncio.to_thread(
                consul_client.agent.service.register,
                name,
                service_id=service_id,
                address="127.0.0.1",
                port=server.port,
                tags=["vidmesh", "v1"],
                meta={"version": "1", "proto_package": "vidmesh.test.v1"},
                check=consul.Check.grpc(f"127.0.0.1:{server.port}", interval="1s", timeout="1s", deregister="1m"),
            )
        await asyncio.to_thread(_wait_passing, consul_client, name, 2, 20)
        yield name, servers
    finally:
        for service_id in ids:
            await asyncio.to_thread(consul_client.agent.service.deregister, service_id)
        for server in servers:
            await server.stop()


@pytest.fixture
async def envoy(
    settings: Settings, control_plane: int, instances: tuple[str, list[PortServer]], tmp_path: Path
) -> AsyncIterator[Envoy]:
    """A private Envoy fed by the control plane, once it lists both instances."""
    name, servers = instances
    admin_port, listener_port = free_port(), free_port()
    config = tmp_path / "envoy.yaml"
    config.write_text(envoy_bootstrap(control_plane, admin_port, listener_port, name))
    command = _envoy_command(settings, config, "--concurrency", "1", "--log-level", "warning")
    with running(command, tmp_path / "envoy.log"):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin_port}", timeout=5) as admin:

            async def lists_both() -> bool:
                try:
                    return await envoy_ports(admin, name) == {server.port for server in servers}
                except httpx.TransportError:
                    return False  # not listening yet

            await wait_for(lists_both, timeout=30)
            yield Envoy(admin, listener_port)


def test_envoy_validates_the_ads_bootstrap(settings: Settings, tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(envoy_bootstrap(free_port(), free_port(), free_port(), "video-query"))
    result = subprocess.run(
        _envoy_command(settings, config, "--mode", "validate"), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_calls_through_envoy_reach_both_instances(envoy: Envoy, instances: tuple[str, list[PortServer]]) -> None:
    _, servers = instances
    async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.listener_port}") as channel:
        whoami: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(WHOAMI)
        ports = [int(await whoami(b"", timeout=5)) for _ in range(10)]
    assert set(ports) == {server.port for server in servers}
    stats = dict(line.split(": ", 1) for line in (await envoy.admin.get("/stats")).text.splitlines() if ": " in line)
    assert stats["control_plane.connected_state"] == "1"
    assert stats["cluster_manager.cds.update_rejected"] == "0"


async def test_proxyless_client_round_robins_over_both_instances(
    control_plane: int, instances: tuple[str, list[PortServer]], tmp_path: Path
) -> None:
    name, servers = instances
    # The client writes its own bootstrap, into the temp folder: here, this test's.
    env = {**os.environ, "VIDMESH_XDS_ADDR": f"127.0.0.1:{control_plane}", "TMPDIR": str(tmp_path)}
    env.pop("GRPC_XDS_BOOTSTRAP", None)
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support_xds",
        "proxyless",
        name,
        "20",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(client.communicate(), timeout=90)
    assert client.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().splitlines()[-1])
    assert json.loads(result["bootstrap"])["xds_servers"][0]["server_uri"] == f"127.0.0.1:{control_plane}"
    ports = result["ports"]
    expected = {server.port for server in servers}
    assert set(ports) == expected
    assert min(ports.count(port) for port in expected) >= 8, ports  # round robin: 10 each


async def _call_until(
    whoami: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes], stop: asyncio.Event, calls: Calls
) -> None:
    for _ in range(5000):  # bounded even if stop never comes
        if stop.is_set():
            return
        try:
            calls.answers.append((time.monotonic(), int(await whoami(b"", timeout=3))))
        except grpc.aio.AioRpcError as error:
            calls.failures.append(f"{error.code().name}: {error.details()}")
        await asyncio.sleep(0.01)  # pacing: a steady trickle of calls, not a busy loop


async def _kill_and_measure(
    envoy: Envoy, name: str, victim: PortServer, consul_client: consul.Consul, calls: Calls
) -> tuple[float, float]:
    """Stop `victim` while calls flow; (when Consul showed it critical, when Envoy dropped it)."""
    victim_id = f"{name}-127.0.0.1-{victim.port}"
    critical = asyncio.create_task(asyncio.to_thread(_wait_critical, consul_client, name, victim_id, 20))
    await wait_for(lambda: asyncio.sleep(0, len(calls.answers) >= 10), timeout=10)
    await victim.stop()

    async def victim_gone() -> bool:
        return victim.port not in await envoy_ports(envoy.admin, name)

    removed_at = await wait_for(victim_gone, timeout=20, interval=0.02)
    critical_at = await critical
    # Keep calling a while after the removal: none of those may fail either.
    await wait_for(lambda: asyncio.sleep(0, sum(t > removed_at for t, _ in calls.answers) >= 20), timeout=10)
    return critical_at, removed_at


async def test_dead_instance_leaves_envoy_within_2s_and_costs_no_call(
    envoy: Envoy, instances: tuple[str, list[PortServer]], consul_client: consul.Consul
) -> None:
    name, [victim, survivor] = instances
    calls, stop = Calls(), asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.listener_port}") as channel:
        caller = asyncio.create_task(_call_until(channel.unary_unary(WHOAMI), stop, calls))
        try:
            critical_at, removed_at = await _kill_and_measure(envoy, name, victim, consul_client, calls)
        finally:
            stop.set()
            await caller
    latency = removed_at - critical_at
    print(f"removal latency: {latency * 1000:.0f} ms after the check went critical")  # shown with -s
    assert latency <= REMOVAL_BUDGET_S
    assert calls.failures == []
    assert {port for t, port in calls.answers if t > removed_at} == {survivor.port}
    assert await envoy_ports(envoy.admin, name) == {survivor.port}


@asynccontextmanager
async def in_process_control_plane(settings: Settings, **environ: str) -> AsyncIterator[Running[SnapshotStore]]:
    """The control plane built by its own bootstrap in this process, on a free port."""
    env = {"VIDMESH_SERVICE_NAME": f"xds-it-{uuid.uuid4().hex[:8]}", "VIDMESH_XDS_ADDR": "127.0.0.1:0",
           "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
           "VIDMESH_DRAIN_SECONDS": "0", **environ}
    config = control_plane_config(mesh_config.load(env, service_name=ENTRY.name))
    async with runtime.running(ENTRY, bootstrap, env, config=config) as started:
        yield started


async def _status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # the stub's type stubs omit its methods
        return int((await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)).status)


async def _until_status(port: int, wanted: int, timeout: float, service: str = "") -> None:
    async def reached() -> bool:
        return await _status(port, service) == wanted

    await wait_for(reached, timeout=timeout)


async def _requests(queue: asyncio.Queue[discovery_pb2.DiscoveryRequest]) -> AsyncIterator[Any]:
    while True:  # a client that never hangs up
        yield await queue.get()


async def test_stopping_ends_every_ads_stream_instead_of_waiting_out_the_grace(
    settings: Settings, consul_client: consul.Consul
) -> None:
    grace_s = 10.0
    queue: asyncio.Queue[discovery_pb2.DiscoveryRequest] = asyncio.Queue()
    async with in_process_control_plane(settings, VIDMESH_SHUTDOWN_GRACE_SECONDS=str(grace_s)) as started:
        await _wait_serving(started.port, timeout=30)
        _, catalog = await asyncio.to_thread(consul_client.catalog.services)
        assert started.runtime.config.service_name not in catalog, "the control plane registered itself"
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{started.port}")
        stream = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources(_requests(queue))
        queue.put_nowait(discovery_pb2.DiscoveryRequest(type_url=resources.CLUSTER))
        first = await asyncio.wait_for(stream.read(), timeout=10)
        assert first.type_url == resources.CLUSTER
        stopping_began = time.monotonic()
    took = time.monotonic() - stopping_began
    try:
        assert await asyncio.wait_for(stream.read(), timeout=5) == grpc.aio.EOF
        assert await stream.code() == grpc.StatusCode.OK
    finally:
        await channel.close()
    assert took < grace_s / 4, f"the stop took {took:.2f} s, as if it waited for the open stream"


async def test_a_crashed_watcher_is_not_serving_until_it_runs_again_and_caught_up(
    settings: Settings, instances: tuple[str, list[PortServer]], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, [victim, survivor] = instances
    broken = asyncio.Event()
    real = watcher_module.healthy_instances

    def faulty(entries: Any, resolver: Any = None) -> list[Instance]:
        if broken.is_set():
            raise RuntimeError("injected fault: a watch meets something it did not expect")
        return real(entries, resolver)

    monkeypatch.setattr(watcher_module, "healthy_instances", faulty)
    async with in_process_control_plane(settings) as started:
        await _until_status(started.port, health_pb2.HealthCheckResponse.SERVING, timeout=30)
        both = tuple(sorted(Instance("127.0.0.1", server.port) for server in (victim, survivor)))
        assert started.parts.current.services[name] == both
        broken.set()
        await victim.stop()  # its check goes critical: the watch of `name` gets an answer, and fails
        await _until_status(started.port, health_pb2.HealthCheckResponse.NOT_SERVING, timeout=20)
        assert started.runtime.supervisor.crashes["consul-watcher"] >= 1
        broken.clear()
        await _until_status(started.port, health_pb2.HealthCheckResponse.SERVING, timeout=60)
        await _until_status(started.port, health_pb2.HealthCheckResponse.SERVING, timeout=5,
                            service=health_name("consul-watcher"))
        await wait_for(lambda: asyncio.sleep(0, started.parts.current.services.get(name)
                                             == (Instance("127.0.0.1", survivor.port),)), timeout=20)
