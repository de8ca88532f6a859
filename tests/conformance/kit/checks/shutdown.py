"""MESH.md §5 Shutdown, on the kit's own instance: on SIGTERM every health entry says
NOT_SERVING (a Health.Watch stream sees it, and Health/Check says so the moment the instance is
seen gone from Consul), it leaves Consul within the drain, it still answers meanwhile, a call in
flight completes as it would have, and the process exits within drain + grace + 2 s."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conformance.kit.api import Api, Outcome, call
from tests.conformance.kit.checks.errors import breaking
from tests.conformance.kit.checks.health import status_of
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.failure import expect
from tests.conformance.kit.instance import DRAIN_S, GRACE_S, OwnInstance
from tests.conformance.kit.rules import BrokenRequest
from tests.conformance.kit.samples import fill
from tests.conformance.kit.target import Target

SECTION = "§5 Shutdown"
EXIT_SLACK_S = 2.0
BOUND_S = DRAIN_S + GRACE_S
HEAD_START_S = 0.2  # lets the in-flight call reach the server first: nothing tells a client it has
POLL_S = 0.05
WATCH_READY_S = 5.0


@dataclass
class Watch:
    """What one Health.Watch stream saw: (when, status) in order, and how the stream ended."""

    service: str
    seen: list[tuple[float, str]] = field(default_factory=list)
    ended: str = ""
    signalled: float | None = None  # when SIGTERM was sent

    def not_serving(self) -> float | None:
        """When the stream first said NOT_SERVING after SIGTERM."""
        after = self.signalled
        return next((when for when, said in self.seen if said == "NOT_SERVING" and after and when >= after), None)

    async def follow(self, channel: grpc.aio.Channel) -> None:
        """Record every status until NOT_SERVING (then close the stream: an open watch is a
        call in flight, which the server would rightly wait for until its grace ran out)."""
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        stream = stub.Watch(health_pb2.HealthCheckRequest(service=self.service))
        try:
            async for reply in stream:
                self.seen.append((time.monotonic(), health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)))
                if self.not_serving() is not None:
                    stream.cancel()
                    return
        except grpc.aio.AioRpcError as error:
            self.ended = error.code().name


@dataclass
class Observed:
    """What the kit saw of one shutdown, in the order it happened."""

    sent: float = 0.0  # when SIGTERM was sent
    left: float | None = None  # when Consul no longer knew the instance
    health_at_leaving: dict[str, str] = field(default_factory=dict)  # Health/Check right then
    during_drain: Outcome | None = None  # a call sent after it left Consul, within the drain
    exit_code: int | None = None
    exited: float = 0.0


async def check_sigterm(own: OwnInstance, api: Api, consul: Consul) -> None:
    """SIGTERM: NOT_SERVING, deregistered within the drain, answering meanwhile, in-flight done, exit in time."""
    target, probe = own.target, breaking(own.target, api)
    async with grpc.aio.insecure_channel(target.address) as channel:
        method, request = _in_flight_call(own, api, probe)
        unhurried = await call(channel, method, request, timeout=BOUND_S)
        watches = [Watch(name) for name in ["", *api.own_services]]
        followers = [asyncio.create_task(watch.follow(channel)) for watch in watches]
        await _until(lambda: all(watch.seen for watch in watches), WATCH_READY_S)
        in_flight = asyncio.create_task(call(channel, method, request, timeout=BOUND_S + unhurried.seconds))
        await asyncio.sleep(HEAD_START_S)
        seen = await _observe(own, consul, channel, probe, watches)
        completed = await in_flight
        for follower in followers:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
    for watch in watches:
        expect(watch.not_serving() is not None, target, SECTION,
               f"a Health.Watch of {watch.service or 'the server'} never saw NOT_SERVING after SIGTERM (it saw "
               f"{[said for _, said in watch.seen]}, then the stream ended {watch.ended or 'open'})")
    _judge_leaving(target, seen)
    expect(seen.during_drain is not None and seen.during_drain.code == grpc.StatusCode.INVALID_ARGUMENT, target,
           SECTION, f"a call during the drain ({probe}) was not answered: {seen.during_drain}")
    expect(completed.code == unhurried.code and (completed.code != grpc.StatusCode.OK or
                                                 completed.response_json == unhurried.response_json),
           target, SECTION, f"a call in flight at SIGTERM ended {completed}; without a shutdown it ends {unhurried}")
    judge_exit(target, seen, "")


async def _observe(own: OwnInstance, consul: Consul, channel: grpc.aio.Channel, probe: BrokenRequest,
                   watches: list[Watch]) -> Observed:
    seen = Observed(sent=own.signal())
    for watch in watches:
        watch.signalled = seen.sent
    seen.left = await _until_deregistered(consul, own.target.service_id, BOUND_S + EXIT_SLACK_S)
    if seen.left is not None:
        seen.health_at_leaving = {watch.service: await status_of(channel, watch.service) for watch in watches}
        if seen.left - seen.sent < DRAIN_S - HEAD_START_S:
            seen.during_drain = await call(channel, probe.method, probe.request, timeout=DRAIN_S)
    seen.exit_code = await own.wait_exit(max(0.0, seen.sent + BOUND_S + EXIT_SLACK_S - time.monotonic()))
    seen.exited = time.monotonic()
    return seen


def _judge_leaving(target: Target, seen: Observed) -> None:
    expect(seen.left is not None, target, SECTION, f"still registered in Consul {BOUND_S + EXIT_SLACK_S:.0f}s "
                                                   "after SIGTERM")
    assert seen.left is not None
    expect(seen.left - seen.sent <= DRAIN_S, target, SECTION,
           f"left Consul {seen.left - seen.sent:.2f}s after SIGTERM, not within the drain ({DRAIN_S:.0f}s)")
    serving = {service or "the server": said for service, said in seen.health_at_leaving.items()
               if said != "NOT_SERVING"}
    expect(not serving, target, SECTION, f"had left Consul while its health still said {serving}: NOT_SERVING "
                                         "comes first")


def judge_exit(target: Target, seen: Observed, condition: str) -> None:
    """It exited, within drain + grace + 2 s of SIGTERM (`condition` says under what, if anything)."""
    expect(seen.exit_code is not None, target, SECTION, f"{condition}still running {BOUND_S + EXIT_SLACK_S:.0f}s "
                                                        f"after SIGTERM (drain {DRAIN_S:.0f}s + grace {GRACE_S:.0f}s "
                                                        "+ 2s)")
    expect(seen.exited - seen.sent <= BOUND_S + EXIT_SLACK_S, target, SECTION,
           f"{condition}exited {seen.exited - seen.sent:.1f}s after SIGTERM")


async def stop_in_time(own: OwnInstance, condition: str) -> None:
    """SIGTERM, then the exit bound of MESH.md §5."""
    seen = Observed(sent=own.signal())
    seen.exit_code = await own.wait_exit(BOUND_S + EXIT_SLACK_S)
    seen.exited = time.monotonic()
    judge_exit(own.target, seen, condition)


def _in_flight_call(own: OwnInstance, api: Api, probe: BrokenRequest) -> tuple[MethodDescriptor, Message]:
    waits = own.entry.samples.waits
    if waits is None:  # nothing waits: a call sent just before SIGTERM is the one in flight
        return probe.method, probe.request
    (request_json,) = fill(waits.request)
    return api.method(waits.method), api.request(waits.method, request_json)


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait


async def _until_deregistered(consul: Consul, service_id: str, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await consul.registered(service_id):
            return time.monotonic()
        await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait
    return None
