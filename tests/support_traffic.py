"""Helpers for the traffic policy tests: instances of a stand-in service that say which version
answered and fail on purpose, a private Envoy whose routes come over RDS, a client that counts
outcomes, and a proxyless client run in its own process (grpcio reads GRPC_XDS_BOOTSTRAP once).

The stand-in serves users' contract (`vidmesh.users.v1.UserService`), so the control plane
knows its RPCs from the real descriptor set: GetUser is a read (retries allowed), Login a write
without request_id (never retried).

    python -m tests.support_traffic proxyless <service> <method> <calls> <concurrency> [<seconds>]

prints one JSON line: the outcome of every call ("v1", "v2", or a status code name) with when
it ended and how long it took.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import consul
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from vidmesh.users.v1 import users_service_pb2 as users

GET_USER = "/vidmesh.users.v1.UserService/GetUser"
LOGIN = "/vidmesh.users.v1.UserService/Login"
METHODS: dict[str, tuple[Any, Any]] = {GET_USER: (users.GetUserRequest, users.GetUserResponse),
                                       LOGIN: (users.LoginRequest, users.LoginResponse)}
USER_ID = "0b7c1ad5-2f50-4a44-9d46-0a3e3c7a0c11"


def fails_three_in_ten(n: int) -> bool:
    """30% of calls, never two in a row: calls 1, 4 and 7 of every ten."""
    return n % 10 in (1, 4, 7)


@dataclass
class StandIn:
    """One instance: answers GetUser with its version, fails calls as `fails(n)` says."""

    version: str
    fails: Callable[[int], bool] = lambda n: False
    calls: Counter[str] = field(default_factory=Counter)

    async def start(self) -> StandIn:
        self.server = grpc.aio.server()
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        handlers: dict[str, Any] = {path.rsplit("/", 1)[1]: grpc.unary_unary_rpc_method_handler(
            self._handler(path), request_deserializer=request.FromString,
            response_serializer=lambda message: message.SerializeToString())
            for path, (request, _) in METHODS.items()}
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("vidmesh.users.v1.UserService",
                                                                                   handlers),))
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self.server.start()
        return self

    def _handler(self, path: str) -> Callable[..., Awaitable[object]]:
        async def handle(request: object, context: grpc.aio.ServicerContext[object, object]) -> object:
            n = self.calls[path]
            self.calls[path] += 1
            if self.fails(n):
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"v{self.version} fails call {n} on purpose")
            if path == LOGIN:
                return users.LoginResponse(token_type="Bearer", user_id=USER_ID)
            return users.GetUserResponse(user=users.User(user_id=USER_ID, display_name=f"v{self.version}"))
        return handle

    async def stop(self) -> None:
        await self.server.stop(0)


def register(client: consul.Consul, name: str, instance: StandIn) -> str:
    """Register as a vidmesh instance does (MESH.md §2); returns its service id."""
    service_id = f"{name}-127.0.0.1-{instance.port}"
    client.agent.service.register(
        name, service_id=service_id, address="127.0.0.1", port=instance.port,
        tags=["vidmesh", f"v{instance.version}"],
        meta={"version": instance.version, "proto_package": "vidmesh.users.v1", "hostname": "127.0.0.1"},
        check=consul.Check.grpc(f"127.0.0.1:{instance.port}", interval="1s", timeout="1s", deregister="1m"))
    return service_id


def request_of(method: str) -> object:
    if method == LOGIN:
        return users.LoginRequest(email="ada@example.test", password="a password 1")
    return users.GetUserRequest(user_id=USER_ID)


def outcome(answer: object) -> str:
    return answer.user.display_name if isinstance(answer, users.GetUserResponse) else "ok"


@dataclass
class Outcomes:
    """(monotonic end, outcome, seconds taken) of each call."""

    calls: list[tuple[float, str, float]] = field(default_factory=list)

    def counts(self, since: float = 0.0) -> Counter[str]:
        return Counter(what for at, what, _ in self.calls if at >= since)

    def failures(self, since: float = 0.0) -> list[str]:
        return [what for at, what, _ in self.calls if at >= since and not what.startswith("v") and what != "ok"]


async def drive(channel: grpc.aio.Channel, method: str, calls: int, concurrency: int, seconds: float = 0.0,
                timeout: float = 5.0) -> Outcomes:
    """`calls` calls (or, with `seconds`, calls until that much time passed, at most `calls`),
    `concurrency` at a time, recording each outcome."""
    _, response_type = METHODS[method]
    stub: Any = channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=response_type.FromString)
    outcomes, left, started = Outcomes(), [calls], time.monotonic()

    async def worker() -> None:
        while left[0] > 0 and (not seconds or time.monotonic() - started < seconds):
            left[0] -= 1
            began = time.monotonic()
            try:
                what = outcome(await stub(request_of(method), timeout=timeout))
            except grpc.aio.AioRpcError as error:
                what = error.code().name
            outcomes.calls.append((time.monotonic(), what, time.monotonic() - began))
            if seconds:
                await asyncio.sleep(0.005)  # pacing: a steady flow for the length of a change

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


async def _proxyless(service: str, method: str, calls: int, concurrency: int, seconds: float) -> dict[str, object]:
    from mesh.xds import bootstrap

    async with bootstrap.channel(service) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=30)
        outcomes = await drive(channel, method, calls, concurrency, seconds)
    return {"calls": outcomes.calls, "clock": time.monotonic()}


if __name__ == "__main__" and sys.argv[1:2] == ["proxyless"]:
    service, method, count, concurrency = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    duration = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    print(json.dumps(asyncio.run(_proxyless(service, method, count, concurrency, duration))))
