"""A 90/10 split written as `make canary` writes it reaches the web page: a real web-bff, whose
proxyless client gets its routes from the stack's control plane, sends about a tenth of its
video-query calls to a v2 instance, and each page says which version served it
(GetVideoPageResponse.video_query_version). tests/integration/test_traffic.py holds the Envoy
and bare proxyless halves, with 2,000 calls each.

The pair of video-query instances (v1 and v2) and the web-bff run under names of this test's
own, so the policy touches no other test's calls.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import consul
import grpc.aio
import requests
from envoy.config.route.v3 import route_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from vidmesh.users.v1 import users_service_pb2_grpc as users_grpc
from vidmesh.webbff.v1 import web_bff_service_pb2 as web
from vidmesh.webbff.v1 import web_bff_service_pb2_grpc as web_grpc

from mesh.traffic.canary import Canaries
from mesh.xds import resources
from mesh.xds.bootstrap import channel_to
from tests.integration.bff.conftest import Domain
from tests.integration.bff.helpers import CALL_TIMEOUT_S as T
from tests.integration.bff.helpers import as_user, eventually, register
from tests.integration.bff.support import Mesh, Stubs
from tests.integration.bff.test_pages_and_writes import PROJECTION_TIMEOUT_S, publish

# The 2,000 pages (about 25 s here, 80 pages a second at 8 at a time), with a tolerance
# of four standard deviations of the binomial spread of the v2 share: sqrt(0.1 * 0.9 / 2000) =
# 0.67 points, so 2.7 points, a test that fails by chance about once in 16,000 runs.
SPLIT_PAGES = 2000
CANARY_SHARE = 0.10
TOLERANCE = 4 * math.sqrt(CANARY_SHARE * (1 - CANARY_SHARE) / SPLIT_PAGES)
CONCURRENCY = 8
SERVED_WITHIN_S = 10.0


async def served_weights(xds: str, service: str) -> dict[str, int]:
    """The weighted clusters the control plane serves a proxyless client of `service` now."""
    async with grpc.aio.insecure_channel(xds) as channel:
        stream = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources(
            iter([discovery_pb2.DiscoveryRequest(type_url=resources.ROUTE, resource_names=[service])]))
        answer = await asyncio.wait_for(stream.read(), timeout=5)
        stream.cancel()
    assert isinstance(answer, discovery_pb2.DiscoveryResponse), answer
    weights: dict[str, int] = {}
    for packed in answer.resources:
        config = route_pb2.RouteConfiguration()
        packed.Unpack(config)
        for route in config.virtual_hosts[0].routes:
            weights.update({c.name: c.weight.value for c in route.route.weighted_clusters.clusters})
    return weights


def wait_instances(client: consul.Consul, name: str, count: int, timeout: float) -> None:
    """Block until Consul lists `count` passing instances of `name`."""
    deadline, index = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            index, entries = client.health.service(name, passing=True, index=index, wait="1s")
        except (requests.RequestException, consul.ConsulException):
            index, entries = None, []  # Consul answered late on a loaded machine: ask again
        if len(entries) >= count:
            return
    raise TimeoutError(f"{count} instances of {name} not passing within {timeout}s")


async def pages(clients: Stubs, video_id: str, viewer: str, count: int) -> Counter[str]:
    """`count` video pages, CONCURRENCY at a time: how many each version served, or the
    status code of those that failed."""
    served: Counter[str] = Counter()
    left = [count]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            try:
                page = await clients.web.GetVideoPage(web.GetVideoPageRequest(video_id=video_id),
                                                      metadata=as_user(viewer), timeout=T)
                served[f"v{page.video_query_version}"] += 1
            except grpc.aio.AioRpcError as error:
                served[error.code().name] += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return served


@asynccontextmanager
async def _stubs(web_address: str, users_address: str) -> AsyncIterator[Stubs]:
    # Over mutual TLS as the operator, as every caller of an instance must.
    async with channel_to("web-bff", web_address) as to_web, channel_to("users", users_address) as to_users:
        yield Stubs(web_grpc.WebBffServiceStub(to_web), None, users_grpc.UserServiceStub(to_users))


async def test_a_90_10_canary_reaches_the_web_page_through_web_bffs_proxyless_client(domain: Domain) -> None:
    started: Mesh = domain.mesh
    name = started.name("video-query-split")
    started.start_service("video_query", name)
    started.start_service("video_query", name, VIDMESH_SERVICE_VERSION="2")
    canaries, xds = Canaries(started.consul), f"{started.settings.host}:{started.settings.xds_port}"
    try:
        await asyncio.to_thread(wait_instances, started.consul, name, 2, 90)
        canaries.canary(name, "2", CANARY_SHARE * 100)  # what `make canary ... WEIGHT=10` does

        async def split_served() -> bool:
            return await served_weights(xds, name) == {f"{name}/v1": 9000, f"{name}/v2": 1000}
        await eventually(split_served, SERVED_WITHIN_S)
        # Started after: its proxyless client's first routes are the split's.
        web_bff = started.wait_passing(started.start_bff("web", started.name("web-bff-split"),
                                                         domain.upstreams(video_query=name)))
        async with _stubs(web_bff.address, domain.instances["users"].address) as clients:
            owner, viewer = await register(clients, "Ada"), await register(clients, "Bob")
            video_id, version = await publish(clients, owner, "Otters")

            async def readable() -> bool:
                try:
                    await clients.web.GetVideoPage(web.GetVideoPageRequest(video_id=video_id, min_version=version),
                                                   timeout=T)
                except grpc.aio.AioRpcError:
                    return False
                return True
            await eventually(readable, PROJECTION_TIMEOUT_S)  # both instances project into one read model

            began = time.monotonic()
            served = await pages(clients, video_id, viewer, SPLIT_PAGES)
            print(f"{SPLIT_PAGES} pages in {time.monotonic() - began:.1f} s: {dict(served)}")  # shown with -s
            assert set(served) == {"v1", "v2"}, served  # no failed page, and both versions answered
            assert abs(served["v2"] / SPLIT_PAGES - CANARY_SHARE) <= TOLERANCE, (served, TOLERANCE)
    finally:
        for kind in ("service-splitter", "service-resolver", "service-defaults"):
            _delete(started.consul, kind, name)


def _delete(client: consul.Consul, kind: str, name: str) -> Any:
    try:
        return client.config.delete(kind, name)
    except consul.ConsulException:
        return None  # never written: the test failed before the canary
