"""Traffic policy from Consul, obeyed alike by Envoy (RDS from the control plane) and by a
proxyless gRPC client: weighted splits, retries only where safe, timeouts that bound an injected
delay, outlier ejection, and a malformed entry that leaves the last good policy in force.

A private control plane runs against the shared Consul with a route table of its own (every
path to this module's stand-in service), a private Envoy asks it for routes, and the proxyless
client runs in a process of its own. The stand-in instances (tests/support_traffic.py) say which
version answered and fail on purpose. The same split through a real web-bff, down to the web
page's video_query_version, is tests/integration/bff/test_traffic_split.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import consul
import grpc
import httpx
import pytest

from mesh.settings import ROOT, Settings
from tests.integration.test_xds import _envoy_command, _wait_passing, _wait_serving
from tests.support_traffic import GET_USER, LOGIN, Outcomes, StandIn, drive, fails_three_in_ten, register
from tests.support_xds import free_port, running, wait_for

SPLIT_CALLS = 2000
SHARE_TOLERANCE = 0.03  # 90/10 within 3 points: 4.5 standard deviations at 2,000 calls
EFFECTIVE_WITHIN_S = 3.0
# A bound on starting the control plane and Envoy, not a measure: importing Envoy's protos took
# 34 s here with the machine's load at 56 on 2 cores.
START_WITHIN_S = 90.0

# Policy is what this module is about, with plaintext stand-ins: no mutual TLS for the private
# control plane and its clients (tests/integration/identity/ has it; tests/unit/test_xds_security.py
# shows a subset's cluster carries the same TLS as its service's).
PLAINTEXT = {"VIDMESH_MTLS": "false", "VIDMESH_HEALTH_PORT": "0"}

ENVOY = """node: {{id: traffic-test-envoy, cluster: traffic-test}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{{envoy_grpc: {{cluster_name: xds_cluster}}}}]
  cds_config: {{resource_api_version: V3, ads: {{}}}}
static_resources:
  listeners:
  - name: grpc
    address: {{socket_address: {{address: 127.0.0.1, port_value: {listener}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: grpc
          codec_type: AUTO
          rds: {{route_config_name: gateway, config_source: {{resource_api_version: V3, ads: {{}}}}}}
          http_filters:
          - name: envoy.filters.http.fault
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}}
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
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {xds}}}}}}}
"""
ROUTES = """virtual_hosts:
- name: test
  domains: ["*"]
  routes:
  - match: {{ prefix: "/" }}
    route: {{ cluster: {name}, timeout: 5s }}
"""


class Mesh:
    """The module's stand-in service: its name, Consul, the private Envoy and control plane."""

    def __init__(self, name: str, client: consul.Consul, admin: httpx.AsyncClient, listener: int, xds: int,
                 log: Path) -> None:
        self.name, self.consul, self.admin, self.listener, self.xds, self.log = name, client, admin, listener, xds, log
        self.ids: list[str] = []

    def put(self, kind: str, body: dict[str, Any]) -> None:
        assert self.consul.config.set(kind, self.name, body), f"Consul refused the {kind}"

    def forget_policy(self) -> None:
        for kind in ("service-router", "service-splitter", "service-resolver"):
            self.consul.config.delete(kind, self.name)
        self.consul.kv.delete(f"vidmesh/faults/{self.name}")

    async def route_config(self) -> dict[str, Any]:
        dump = (await self.admin.get("/config_dump", params={"resource": "dynamic_route_configs"})).json()
        [route] = dump["configs"]
        return route["route_config"]  # type: ignore[no-any-return]

    async def routes(self) -> list[dict[str, Any]]:
        """The routes that send to a cluster (the 405s of REST paths, in front, answer themselves)."""
        return [route for route in (await self.route_config())["virtual_hosts"][0]["routes"] if "route" in route]

    async def through_envoy(self, method: str, calls: int, concurrency: int = 8, seconds: float = 0.0) -> Outcomes:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.listener}") as channel:
            return await drive(channel, method, calls, concurrency, seconds)

    async def proxyless(self, method: str, calls: int, concurrency: int = 8, seconds: float = 0.0,
                        tmp: Path | None = None) -> Outcomes:
        env = {**os.environ, "VIDMESH_XDS_ADDR": f"127.0.0.1:{self.xds}", "TMPDIR": str(tmp or self.log.parent),
               "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}", **PLAINTEXT}
        env.pop("GRPC_XDS_BOOTSTRAP", None)
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support_traffic", "proxyless", self.name, method, str(calls),
            str(concurrency), str(seconds), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, cwd=ROOT)
        out, err = await asyncio.wait_for(client.communicate(), timeout=120)
        assert client.returncode == 0, err.decode()[-3000:]
        return Outcomes([tuple(call) for call in json.loads(out.decode().splitlines()[-1])["calls"]])


@pytest.fixture(scope="module")
def consul_client(settings: Settings) -> consul.Consul:
    return consul.Consul(host=settings.host, port=settings.consul_http_port, connections_timeout=5)


@pytest.fixture(scope="module")
async def mesh(settings: Settings, consul_client: consul.Consul,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    name, folder = f"traffic-test-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("traffic")
    (folder / "routes.yaml").write_text(ROUTES.format(name=name))
    xds, admin, listener = free_port(), free_port(), free_port()
    consul_client.config.set("service-defaults", name, {"Protocol": "grpc"})
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}",
           "VIDMESH_XDS_ADDR": f"127.0.0.1:{xds}", "VIDMESH_GATEWAY_ROUTES": str(folder / "routes.yaml"),
           "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}", **PLAINTEXT}
    (folder / "envoy.yaml").write_text(ENVOY.format(admin=admin, listener=listener, xds=xds))
    envoy = _envoy_command(settings, folder / "envoy.yaml", "--concurrency", "1", "--log-level", "warning")
    try:
        with running([sys.executable, "-m", "mesh.xds"], folder / "xds.log", env):
            await _wait_serving(xds, timeout=START_WITHIN_S)
            with running(envoy, folder / "envoy.log"):
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin}", timeout=5) as client:
                    await wait_for(lambda: _live(client), timeout=START_WITHIN_S)
                    yield Mesh(name, consul_client, client, listener, xds, folder / "xds.log")
    finally:
        consul_client.config.delete("service-defaults", name)


async def _live(admin: httpx.AsyncClient) -> bool:
    try:
        return (await admin.get("/ready")).text.strip() == "LIVE"
    except httpx.TransportError:
        return False


@pytest.fixture
async def started(mesh: Mesh) -> AsyncIterator[list[StandIn]]:
    """The stand-in instances a test appends, registered and passing; all gone at the end."""
    instances: list[StandIn] = []
    yield instances
    mesh.forget_policy()
    for service_id in mesh.ids:
        mesh.consul.agent.service.deregister(service_id)
    mesh.ids.clear()
    for instance in instances:
        await instance.stop()


async def _add(mesh: Mesh, started: list[StandIn], *instances: StandIn) -> None:
    for instance in instances:
        started.append(await instance.start())
        mesh.ids.append(register(mesh.consul, mesh.name, instance))
    await asyncio.to_thread(_wait_passing, mesh.consul, mesh.name, len(mesh.ids), 20)


def _subsets() -> dict[str, Any]:
    subsets = {v: {"Filter": f'Service.Meta.version == "{v[1:]}"'} for v in ("v1", "v2")}
    return {"DefaultSubset": "v1", "Subsets": subsets}


def _split(v1: float, v2: float) -> dict[str, Any]:
    return {"Splits": [{"Weight": v1, "ServiceSubset": "v1"}, {"Weight": v2, "ServiceSubset": "v2"}]}


async def _envoy_weights(mesh: Mesh) -> dict[str, int]:
    action = (await mesh.routes())[-1]["route"]
    clusters = action.get("weighted_clusters", {}).get("clusters") or [{"name": action.get("cluster"), "weight": 10000}]
    return {c["name"]: c["weight"] for c in clusters}


async def _until_envoy_weights(mesh: Mesh, wanted: dict[str, int], timeout: float = EFFECTIVE_WITHIN_S) -> float:
    async def arrived() -> bool:
        return await _envoy_weights(mesh) == wanted
    return await wait_for(arrived, timeout=timeout)


def _share(outcomes: Outcomes, what: str) -> float:
    counts = outcomes.counts()
    return counts[what] / sum(counts.values())


async def test_a_90_10_split_is_obeyed_by_envoy_and_proxyless_and_moves_to_0_100_without_a_failed_call(
        mesh: Mesh, started: list[StandIn], tmp_path: Path) -> None:
    await _add(mesh, started, StandIn("1"), StandIn("1"), StandIn("2"))
    mesh.put("service-resolver", _subsets())
    mesh.put("service-splitter", _split(90, 10))
    await _until_envoy_weights(mesh, {f"{mesh.name}/v1": 9000, f"{mesh.name}/v2": 1000})

    envoy, proxyless = await asyncio.gather(mesh.through_envoy(GET_USER, SPLIT_CALLS),
                                            mesh.proxyless(GET_USER, SPLIT_CALLS, tmp=tmp_path))
    for outcomes in (envoy, proxyless):
        assert outcomes.failures() == []
        assert abs(_share(outcomes, "v2") - 0.10) <= SHARE_TOLERANCE, outcomes.counts()

    # The move, with calls flowing through both kinds of client the whole time.
    flows = asyncio.gather(mesh.through_envoy(GET_USER, 20000, concurrency=4, seconds=6),
                           mesh.proxyless(GET_USER, 20000, concurrency=4, seconds=6, tmp=tmp_path))
    await asyncio.sleep(1.5)
    moved = time.monotonic()
    mesh.put("service-splitter", _split(0, 100))
    effective = await _until_envoy_weights(mesh, {f"{mesh.name}/v2": 10000}, timeout=15) - moved
    envoy, proxyless = await flows
    print(f"0/100 in Envoy's routes {effective * 1000:.0f} ms after the write")  # shown with -s
    for outcomes in (envoy, proxyless):
        assert outcomes.failures() == [], outcomes.counts()
        assert outcomes.counts(since=moved + EFFECTIVE_WITHIN_S) == {"v2": sum(outcomes.counts(moved + 3).values())}


async def test_retries_hide_30_percent_unavailable_on_a_read_and_never_repeat_a_write_without_request_id(
        mesh: Mesh, started: list[StandIn], tmp_path: Path) -> None:
    flaky = StandIn("1", fails=fails_three_in_ten)
    await _add(mesh, started, flaky)
    mesh.put("service-router", {"Routes": [{"Match": {"HTTP": {"PathPrefix": "/vidmesh.users.v1.UserService/"}},
                                            "Destination": {"NumRetries": 2, "RetryOn": ["unavailable"]}}]})

    async def retrying() -> bool:
        return any("retry_policy" in route["route"] for route in await mesh.routes())
    await wait_for(retrying, timeout=EFFECTIVE_WITHIN_S)

    for kind, client in (("envoy", mesh.through_envoy), ("proxyless", mesh.proxyless)):
        before = flaky.calls.copy()
        reads = await client(GET_USER, 200, 1)  # one at a time: the flaky instance's pattern holds
        writes = await client(LOGIN, 200, 1)
        assert reads.failures() == [], (kind, reads.counts())
        assert flaky.calls[GET_USER] - before[GET_USER] > 200, f"{kind}: the failed reads were not retried"
        assert flaky.calls[LOGIN] - before[LOGIN] == 200, f"{kind}: a write without request_id was retried"
        assert len(writes.failures()) == 60, (kind, writes.counts())  # calls 1, 4, 7 of every ten
    stats = (await mesh.admin.get("/stats", params={"filter": f"cluster.{mesh.name}.upstream_rq_retry"})).text
    assert f"cluster.{mesh.name}.upstream_rq_retry_overflow: 0" in stats  # within Envoy's retry budget


async def test_a_2s_delay_with_a_500ms_route_timeout_ends_in_deadline_exceeded_in_about_500ms(
        mesh: Mesh, started: list[StandIn], tmp_path: Path) -> None:
    await _add(mesh, started, StandIn("1"))
    mesh.put("service-router", {"Routes": [{"Destination": {"RequestTimeout": "500ms"}}]})
    mesh.consul.kv.put(f"vidmesh/faults/{mesh.name}", json.dumps({"delay": {"seconds": 2, "percent": 100}}))

    async def delayed() -> bool:
        [route] = await mesh.routes()  # the router's, taking every call
        return "typed_per_filter_config" in route and route["route"].get("timeout") == "0.500s"
    await wait_for(delayed, timeout=EFFECTIVE_WITHIN_S)

    envoy = await mesh.through_envoy(GET_USER, 4, 2)
    assert envoy.counts() == {"DEADLINE_EXCEEDED": 4}
    assert all(0.45 <= took <= 0.9 for _, _, took in envoy.calls), envoy.calls
    # grpcio 1.85's proxyless client ends the call at once rather than at 500 ms: it fails
    # every call whose route timeout is under about 1.5 s immediately, delay or not (seen
    # here; a 2 s timeout is honoured). The caller still gets DEADLINE_EXCEEDED, in time.
    proxyless = await mesh.proxyless(GET_USER, 4, 2, tmp=tmp_path)
    assert proxyless.counts() == {"DEADLINE_EXCEEDED": 4}
    assert all(took <= 0.9 for _, _, took in proxyless.calls), proxyless.calls
    async with httpx.AsyncClient(timeout=5) as rest:  # an HTTP client of the same route: 504
        began = time.monotonic()
        answer = await rest.post(f"http://127.0.0.1:{mesh.listener}{GET_USER}", content=b"{}")
        assert answer.status_code == 504 and time.monotonic() - began < 0.9


async def test_an_instance_failing_every_call_is_ejected_by_both_kinds_of_client(
        mesh: Mesh, started: list[StandIn], tmp_path: Path) -> None:
    await _add(mesh, started, StandIn("1"), StandIn("1", fails=lambda n: True))
    for kind, client in (("envoy", mesh.through_envoy), ("proxyless", mesh.proxyless)):
        outcomes = await client(GET_USER, 3000, 2, seconds=4)
        began = min(at for at, _, _ in outcomes.calls)
        assert outcomes.failures(), f"{kind}: the broken instance was never called"
        # Ejected within about 2 s (one outlier interval, plus the volume to judge by).
        assert outcomes.failures(since=began + 2.5) == [], (kind, outcomes.counts(since=began + 2.5))
        if kind == "envoy":  # still within the 5 s ejection
            hosts = (await mesh.admin.get("/clusters")).text
            assert f"{mesh.name}::127.0.0.1:{started[1].port}::health_flags::/failed_outlier_check" in hosts


async def test_a_malformed_entry_leaves_the_last_good_policy_in_force_and_logs_why(
        mesh: Mesh, started: list[StandIn], tmp_path: Path) -> None:
    await _add(mesh, started, StandIn("1"), StandIn("2"))
    mesh.put("service-resolver", _subsets())
    mesh.put("service-splitter", _split(0, 100))
    await _until_envoy_weights(mesh, {f"{mesh.name}/v2": 10000})

    bad = {**_subsets(), "Subsets": {"v1": {"Filter": 'Service.Meta.version matches "1.*"'},
                                      "v2": {"Filter": 'Service.Meta.version == "2"'}}}

    def refused_because(reason: str) -> Awaitable[bool]:
        lines = [json.loads(line) for line in mesh.log.read_text().splitlines() if line.startswith("{")]
        return asyncio.sleep(0, any(line.get("event", "").startswith("traffic policy refused")
                                    and line.get("cluster") == mesh.name and reason in line["reason"]
                                    for line in lines))

    # One at a time: a refusal is logged once per reason, and the fault's is found first, so
    # with both at once the resolver's would be logged only if its change arrived first.
    mesh.put("service-resolver", bad)  # Consul takes it; the control plane cannot translate it
    await wait_for(lambda: refused_because("matches"), timeout=5)
    mesh.consul.kv.put(f"vidmesh/faults/{mesh.name}", "{not json")
    await wait_for(lambda: refused_because("not JSON"), timeout=5)
    assert await _envoy_weights(mesh) == {f"{mesh.name}/v2": 10000}
    for outcomes in (await mesh.through_envoy(GET_USER, 50), await mesh.proxyless(GET_USER, 50, tmp=tmp_path)):
        assert outcomes.counts() == {"v2": 50}


