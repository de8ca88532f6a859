"""MESH.md §3 Health, the other half: an instance MUST NOT go NOT_SERVING because of
something that only delays events. The kit starts its own instance with Kafka (and, for a
service that sends mail, the mail server) at an address where nothing listens: it must still
become SERVING, answer, and take the write sample (its outbox keeps the event); and, §5, stop
within drain + grace + 2 s all the same."""

from __future__ import annotations

import socket

import grpc
import grpc.aio

from tests.conformance.kit.api import Api, call
from tests.conformance.kit.checks.errors import breaking
from tests.conformance.kit.checks.health import check_health
from tests.conformance.kit.checks.shutdown import stop_in_time
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.owns import OwnInstances
from tests.conformance.kit.samples import fill

SECTION = "§3 Health"
TIMEOUT_S = 10.0


def nowhere() -> str:
    """A loopback address where nothing listens (a port just bound and let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def delays_events_only(owns: OwnInstances) -> dict[str, str]:
    """The settings of what only delays its events, pointed nowhere."""
    away = {"VIDMESH_KAFKA_BOOTSTRAP": nowhere()}
    if owns.entry.sends_mail:
        away["VIDMESH_SMTP_ADDR"] = nowhere()
    return away


async def check_ready_without_kafka(owns: OwnInstances) -> None:
    """With Kafka (and the mail server) away it becomes SERVING, answers, and takes a write."""
    away = delays_events_only(owns)
    own = owns.spare(**away)
    try:
        try:
            target = await own.start()
        except Nonconformance as failure:
            raise Nonconformance(f"{own.name}: MESH.md {SECTION}: with {', '.join(away)} unreachable it never "
                                 f"said SERVING ({failure})") from None
        api = await Api.reflect(target.address)
        await check_health(target, api)
        probe = breaking(target, api)
        async with grpc.aio.insecure_channel(target.address) as channel:
            answered = await call(channel, probe.method, probe.request, timeout=TIMEOUT_S)
            expect(answered.code == grpc.StatusCode.INVALID_ARGUMENT, target, SECTION,
                   f"with {', '.join(away)} unreachable, {probe} got {answered}")
            write = owns.entry.samples.write
            if write is not None:
                (request_json,) = fill(write.request)
                wrote = await call(channel, api.method(write.method), api.request(write.method, request_json),
                                   timeout=TIMEOUT_S)
                expect(wrote.code == grpc.StatusCode.OK, target, SECTION,
                       f"with {', '.join(away)} unreachable, the write {write.method} {request_json} got {wrote}")
        await stop_in_time(own, f"with {', '.join(away)} unreachable: ")
    finally:
        await own.close()
