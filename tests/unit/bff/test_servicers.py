"""Both servicers on a real in-process grpc.aio server (127.0.0.1:0) with mesh's interceptors,
over fake domain services: x-user-id handling, status codes and details on the wire, and
the caller's deadline reaching every downstream call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2, status_pb2
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2_grpc as mobile_grpc
from vidmesh.webbff.v1 import web_bff_service_pb2 as web
from vidmesh.webbff.v1 import web_bff_service_pb2_grpc as web_grpc

from bff.common.deadlines import Deadlines
from bff.mobile.server import service as mobile_service
from bff.web.server import service as web_service
from mesh.interceptors import default_interceptors
from tests.unit.bff.fake_services import Fakes

ACTOR = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"


class Stubs:
    def __init__(self, channel: grpc.aio.Channel, fakes: Fakes) -> None:
        self.web: Any = web_grpc.WebBffServiceStub(channel)
        self.mobile: Any = mobile_grpc.MobileBffServiceStub(channel)
        self.fakes = fakes


@pytest_asyncio.fixture(loop_scope="session")
async def bff() -> AsyncIterator[Stubs]:
    fakes = Fakes()
    server = grpc.aio.server(interceptors=default_interceptors(max_rpc_seconds=5.0))
    for hosted in (web_service(fakes.downstreams, Deadlines()), mobile_service(fakes.downstreams, Deadlines())):
        hosted.add_to_server(hosted.servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Stubs(channel, fakes)
    finally:
        await server.stop(None)


def signed_in(user_id: str = ACTOR) -> tuple[tuple[str, str], ...]:
    return (("x-user-id", user_id),)


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    return status_pb2.Status.FromString(dict(error.trailing_metadata() or ())["grpc-status-details-bin"])


async def test_write_without_x_user_id_is_unauthenticated(bff: Stubs) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bff.web.LikeVideo(web.LikeVideoRequest(video_id=ACTOR), timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bff.mobile.ListNotifications(mobile.ListNotificationsRequest(), timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert bff.fakes.video_command.calls == [] and bff.fakes.notifications.calls == []


async def test_write_with_x_user_id_acts_as_that_user(bff: Stubs) -> None:
    answer = await bff.web.CreateVideo(web.CreateVideoRequest(title="Pasta", duration_seconds=60),
                                       metadata=signed_in(), timeout=5)
    assert answer.version == 1
    assert bff.fakes.video_command.calls[-1].request.actor_id == ACTOR


async def test_forged_x_user_id_is_unauthenticated_even_on_public_reads(bff: Stubs) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bff.web.GetHome(web.GetHomeRequest(), metadata=signed_in("admin"), timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_public_read_works_signed_out(bff: Stubs) -> None:
    home = await bff.web.GetHome(web.GetHomeRequest(), timeout=5)
    assert not home.signed_in and list(home.degraded) == []


async def test_invalid_request_names_the_field(bff: Stubs) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bff.web.GetVideoPage(web.GetVideoPageRequest(video_id="nope"), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    assert rich_status(raised.value).details[0].Unpack(bad_request)
    assert [violation.field for violation in bad_request.field_violations] == ["video_id"]


async def test_downstream_not_found_and_outage_reach_the_client_as_codes(bff: Stubs) -> None:
    missing = "6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bff.mobile.GetVideo(mobile.GetVideoRequest(video_id=missing), timeout=5)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    bff.fakes.video_query.down = True
    try:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await bff.web.GetHome(web.GetHomeRequest(), timeout=5)
    finally:
        bff.fakes.video_query.down = False
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert raised.value.details() == (
        "trending videos: unavailable right now (video-query answered UNAVAILABLE); retry later")


async def test_degraded_home_is_ok_on_the_wire(bff: Stubs) -> None:
    bff.fakes.notifications.down = True
    try:
        home = await bff.web.GetHome(web.GetHomeRequest(), metadata=signed_in(), timeout=5)
    finally:
        bff.fakes.notifications.down = False
    assert home.signed_in and list(home.degraded) == ["notifications"]


async def test_the_callers_deadline_bounds_every_downstream_call(bff: Stubs) -> None:
    bff.fakes.video_query.calls.clear()
    bff.fakes.notifications.calls.clear()
    await bff.web.GetHome(web.GetHomeRequest(), metadata=signed_in(), timeout=0.8)
    timeouts = [call.timeout for fake in (bff.fakes.video_query, bff.fakes.notifications) for call in fake.calls]
    assert len(timeouts) == 3 and all(0 < timeout < 0.8 for timeout in timeouts)
