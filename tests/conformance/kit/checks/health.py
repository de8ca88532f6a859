"""MESH.md §3 Health and §4 Reflection, on a ready instance."""

from __future__ import annotations

from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conformance.kit.api import HEALTH, REFLECTION_PREFIX, Api
from tests.conformance.kit.failure import expect
from tests.conformance.kit.target import Target

UNKNOWN_SERVICE = "vidmesh.kit.v1.NoSuchService"
TIMEOUT_S = 5.0
SERVING = health_pb2.HealthCheckResponse.SERVING


async def status_of(channel: grpc.aio.Channel, service: str) -> str:
    """What Health/Check says about `service`: a status name, or the gRPC code it failed with."""
    stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT_S)
    except grpc.aio.AioRpcError as error:
        return error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


async def check_health(target: Target, api: Api) -> None:
    """The server and each service of its API say SERVING; an unknown name gets NOT_FOUND."""
    async with grpc.aio.insecure_channel(target.address) as channel:
        for service in ["", *api.own_services]:
            status, label = await status_of(channel, service), service or 'the server ("")'
            expect(status == "SERVING", target, "§3 Health", f"a ready instance says {status} for {label}, not SERVING")
        status = await status_of(channel, UNKNOWN_SERVICE)
        expect(status == "NOT_FOUND", target, "§3 Health",
               f"Health/Check of an unknown service {UNKNOWN_SERVICE!r} answered {status}, not NOT_FOUND")


def sample_methods(target: Target) -> list[str]:
    """Every method the topology entry's samples name."""
    samples = target.entry.samples
    calls = [samples.write, samples.waits, samples.event.shows if samples.event else None]
    return [call.method for call in calls if call is not None]


def check_reflection(target: Target, api: Api, proto_package: str) -> None:
    """Reflection lists health, itself, the services the topology's samples call and at least
    one service of the API package the instance registered (`proto_package`)."""
    listed = ", ".join(api.services)
    for method in sample_methods(target):
        service = method.partition("/")[0]
        expect(service in api.services, target, "§4 Reflection",
               f"reflection does not list {service}, which the topology's samples call (it lists {listed})")
    expect(HEALTH in api.services, target, "§4 Reflection", f"reflection does not list {HEALTH} (it lists {listed})")
    expect(any(name.startswith(REFLECTION_PREFIX) and name.endswith(".ServerReflection") for name in api.services),
           target, "§4 Reflection", f"reflection does not list the reflection service (it lists {listed})")
    own = [name for name in api.own_services if name.rpartition(".")[0] == proto_package]
    expect(own, target, "§4 Reflection",
           f"reflection lists no service of its API package {proto_package!r} (it lists {listed})")
