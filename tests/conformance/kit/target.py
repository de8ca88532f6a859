"""The instance a check talks to: a topology entry and the Consul record it registered."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh import topology
from mesh.xds.bootstrap import channel_to
from tests.conformance.kit.consul import Consul, Record
from tests.conformance.kit.failure import Nonconformance

POLL_S = 0.2
HEALTH_TIMEOUT_S = 2.0
IDENTITY = "§13 Identity"


@dataclass(frozen=True)
class Target:
    """One running instance of a service, as Consul lists it."""

    entry: topology.Service
    record: Record

    @property
    def name(self) -> str:
        """The name it registered under (the topology's on the stack, a unique one for the kit's own)."""
        return str(self.record.service["Service"])

    @property
    def service_id(self) -> str:
        """Its Consul id."""
        return str(self.record.service["ID"])

    @property
    def address(self) -> str:
        """`ip:port`, as Consul gives it."""
        return self.record.address

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"


async def passing(consul: Consul, entry: topology.Service, name: str, timeout: float) -> Target:
    """The first instance registered as `name` whose checks pass, waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        records = await consul.records(name, passing=True)
        if records:
            return Target(entry, records[0])
        if time.monotonic() > deadline:
            raise Nonconformance(f"{name}: no instance registered in Consul with passing checks within {timeout:.0f}s")
        await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait


async def ready(consul: Consul, entry: topology.Service, name: str, timeout: float) -> Target:
    """The instance registered as `name` once the server ("") says SERVING over mutual TLS,
    waiting up to `timeout` (whether Consul's check passes yet is for the checks to judge). An
    API port that answers in plaintext fails at once: no check could call it as the mesh does."""
    deadline = time.monotonic() + timeout
    while True:
        records = await consul.records(name)
        if records and await server_serving(records[0].address, entry.name):
            return Target(entry, records[0])
        if records and await answers_in_plaintext(records[0].address):
            raise Nonconformance(f"{name} ({records[0].address}): MESH.md {IDENTITY}: its API port answers "
                                 "grpc.health.v1 in plaintext, not over mutual TLS only")
        if time.monotonic() > deadline:
            raise Nonconformance(f"{name}: not registered in Consul and SERVING within {timeout:.0f}s")
        await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait


async def answers_in_plaintext(address: str) -> bool:
    """Whether the server at `address` takes a plaintext call at all: any answer but
    UNAVAILABLE (which is what a TLS-only port gives: no connection) means it read the call."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        try:
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=HEALTH_TIMEOUT_S)
        except grpc.aio.AioRpcError as error:
            return error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    return True


async def server_serving(address: str, identity: str) -> bool:
    """Whether grpc.health.v1 at `address` (over mutual TLS, to `identity`) says SERVING for
    the server ("")."""
    async with channel_to(identity, address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=HEALTH_TIMEOUT_S)
        except grpc.aio.AioRpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
