"""A BFF with a domain service gone: an optional part degrades the page, the core fails it.
The control plane is no readiness check: once configured, a BFF answers as before when it
goes, and with none at all it is SERVING and answers UNAVAILABLE in time.

Each test starts its own victim instance (under a name of its own) and BFFs pointed at it,
so taking the victim away leaves the module's other tests untouched.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.webbff.v1 import web_bff_service_pb2 as web
from vidmesh.webbff.v1 import web_bff_service_pb2_grpc as web_grpc

from bff.common.deadlines import READ_S
from tests.integration.bff.conftest import Domain, start_bffs, stubs
from tests.integration.bff.helpers import CALL_TIMEOUT_S as T
from tests.integration.bff.helpers import as_user, eventually, register
from tests.support_xds import free_port

OUTLAST_CHECKS_S = 5.0  # longer than two of the runtime's readiness checks (every 2 s)


async def test_home_answers_without_its_count_when_notification_is_killed(domain: Domain) -> None:
    started = domain.mesh
    victim = started.wait_passing(started.start_service("notification", started.name("notification-victim")))
    web_bff, mobile_bff = start_bffs(domain, "-nonotif", notification=victim.name)
    try:
        async with stubs(web_bff, mobile_bff, domain.instances["users"]) as clients:
            carol = await register(clients, "Carol")
            home = await clients.web.GetHome(web.GetHomeRequest(), metadata=as_user(carol), timeout=T)
            assert (home.signed_in, list(home.degraded)) == (True, [])

            started.kill(victim)  # SIGKILL: no deregistration, Consul still lists it for a moment
            home = await clients.web.GetHome(web.GetHomeRequest(), metadata=as_user(carol), timeout=T)
            assert (home.signed_in, home.unread_notification_count, list(home.degraded)) == (
                True, 0, ["notifications"])
            with pytest.raises(grpc.aio.AioRpcError) as raised:  # the inbox itself has nothing to degrade to
                await clients.web.ListNotifications(web.ListNotificationsRequest(), metadata=as_user(carol), timeout=T)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        started.stop(web_bff)
        started.stop(mobile_bff)


async def test_pages_are_unavailable_when_video_query_is_gone(domain: Domain) -> None:
    started = domain.mesh
    victim = started.wait_passing(started.start_service("video_query", started.name("video-query-victim")))
    web_bff, mobile_bff = start_bffs(domain, "-novq", video_query=victim.name)
    try:
        async with stubs(web_bff, mobile_bff, domain.instances["users"]) as clients:
            await clients.web.GetHome(web.GetHomeRequest(), timeout=T)  # served while it runs

            started.stop(victim)
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "home": lambda: clients.web.GetHome(web.GetHomeRequest(), timeout=T),
                "video page": lambda: clients.web.GetVideoPage(
                    web.GetVideoPageRequest(video_id=str(uuid.uuid4())), timeout=T),
                "feed": lambda: clients.mobile.GetFeed(mobile.GetFeedRequest(), timeout=T),
            }
            for name, call in calls.items():
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await call()
                assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, name
                assert "unavailable right now (video-query answered" in (raised.value.details() or ""), name
    finally:
        started.stop(web_bff)
        started.stop(mobile_bff)


async def test_without_a_control_plane_a_bff_is_serving_and_answers_unavailable_in_time(domain: Domain) -> None:
    started = domain.mesh
    nowhere = f"127.0.0.1:{free_port()}"  # no control plane listens there
    lost = started.start_bff("web", started.name("web-bff-noxds"), domain.upstreams(),
                             VIDMESH_XDS_ADDR=nowhere, GRPC_XDS_BOOTSTRAP="")  # its own bootstrap, naming nowhere
    try:
        started.wait_passing(lost)  # Consul's gRPC check passes: it says SERVING
        async with grpc.aio.insecure_channel(lost.address) as channel:
            began = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await web_grpc.WebBffServiceStub(channel).GetHome(web.GetHomeRequest(), timeout=T)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value.details()
            assert time.monotonic() - began < READ_S + 1, "the page waited past its own read budget"
    finally:
        started.stop(lost)


async def _serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        try:
            answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.aio.AioRpcError:
            return False
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


async def _home_answers(stub: Any) -> bool:
    try:
        await stub.GetHome(web.GetHomeRequest(), timeout=T)
    except grpc.aio.AioRpcError:
        return False
    return True


async def test_a_configured_bff_answers_as_before_when_the_control_plane_goes(domain: Domain) -> None:
    started = domain.mesh
    control_plane = f"127.0.0.1:{free_port()}"
    xds = started.start("mesh.xds", started.name("xds"), {"VIDMESH_XDS_ADDR": control_plane})
    await eventually(lambda: _serving(control_plane), timeout=60)
    web_bff = started.start_bff("web", started.name("web-bff-ownxds"), domain.upstreams(),
                                VIDMESH_XDS_ADDR=control_plane, GRPC_XDS_BOOTSTRAP="")
    try:
        started.wait_passing(web_bff)
        async with grpc.aio.insecure_channel(web_bff.address) as channel:
            stub = web_grpc.WebBffServiceStub(channel)
            await eventually(lambda: _home_answers(stub), timeout=30)  # its channels have their config
            started.stop(xds)
            watched_until = time.monotonic() + OUTLAST_CHECKS_S
            while time.monotonic() < watched_until:  # every answer, for longer than the health check interval
                assert await _serving(web_bff.address), "the BFF went NOT_SERVING without its control plane"
                home = await stub.GetHome(web.GetHomeRequest(), timeout=T)
                assert list(home.degraded) == []
    finally:
        started.stop(web_bff)
