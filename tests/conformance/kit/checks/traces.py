"""MESH.md §11 Trace context and logs: one access-log line per call, with the caller's trace id;
and §7 Deadlines: a call that waits ends when its deadline does, and the server logs it so."""

from __future__ import annotations

import secrets

from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from mesh.xds.bootstrap import channel_to
from tests.conformance.kit.api import Api, Outcome, call
from tests.conformance.kit.checks.errors import breaking
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.instance import OwnInstance
from tests.conformance.kit.logs import Line
from tests.conformance.kit.samples import fill

LOGS, DEADLINES = "§11 Trace context and logs", "§7 Deadlines"
ACCESS_FIELDS = ("method", "code", "duration_ms", "trace_id")
LINE_WITHIN_S = 5.0
TIMEOUT_S = 10.0
DEADLINE_S, ENDED_WITHIN_S = 0.1, 0.2
# How a waiting call may end by its deadline: cancelled by it, or answered just before it (a
# read that says `stale`, or NOT_FOUND for a video that is not there). Never a bug.
ENDED_BY_DEADLINE = ("DEADLINE_EXCEEDED", "CANCELLED", "OK", "NOT_FOUND", "UNAVAILABLE")
ATTEMPTS = 3  # a loaded machine may be late once; a server that ignores deadlines is late every time


def _name(method: MethodDescriptor) -> str:
    return f"{method.containing_service.full_name}/{method.name}"


async def traced_call(own: OwnInstance, method: MethodDescriptor, request: Message,
                      timeout: float) -> tuple[Outcome, list[Line]]:
    """Call with a fresh W3C traceparent; the outcome, and the access-log lines of that trace
    (waiting until there is one, or LINE_WITHIN_S)."""
    assert own.target is not None
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    async with channel_to(own.target.entry.name, own.target.address) as channel:
        outcome = await call(channel, method, request, timeout=timeout, metadata=(("traceparent", traceparent),))

    def access_line(line: Line) -> bool:
        return line.get("trace_id") == trace_id and all(key in line for key in ACCESS_FIELDS) and \
            str(line["method"]).lstrip("/") == _name(method)
    return outcome, await own.log.wait_for(access_line, LINE_WITHIN_S)


async def check_access_log(own: OwnInstance, api: Api) -> None:
    """A call carrying a traceparent is logged once, with its method, code, duration and trace id."""
    broken = breaking(own.target, api)
    outcome, lines = await traced_call(own, broken.method, broken.request, TIMEOUT_S)
    what = f"a call to {_name(broken.method)} with a traceparent"
    expect(lines, own.target, LOGS, f"{what}: no JSON log line on stdout with {', '.join(ACCESS_FIELDS)} and the "
                                    f"caller's trace id within {LINE_WITHIN_S:.0f}s; last lines:\n{own.log.tail()}")
    expect(len(lines) == 1, own.target, LOGS, f"{what} was logged {len(lines)} times: {lines}")
    expect(lines[0]["code"] == outcome.code.name, own.target, LOGS,
           f"{what} ended {outcome.code.name} but was logged as {lines[0]['code']}")


async def check_deadline(own: OwnInstance, api: Api) -> None:
    """A waiting call with a 100 ms deadline ends within 200 ms (cancelled, or answered before the
    deadline), and the server logs how it ended."""
    waits = own.entry.samples.waits
    if waits is None:
        raise Nonconformance(f"{own.target}: no samples.waits in the topology to check deadlines with")
    method = api.method(waits.method)
    late = ""
    for _ in range(ATTEMPTS):
        (request_json,) = fill(waits.request)
        outcome, lines = await traced_call(own, method, api.request(waits.method, request_json), DEADLINE_S)
        what = f"{waits.method} {request_json} with a {DEADLINE_S * 1000:.0f} ms deadline"
        expect(lines, own.target, DEADLINES, f"{what} was not logged (with the caller's trace id) within "
                                             f"{LINE_WITHIN_S:.0f}s; last lines:\n{own.log.tail()}")
        line = lines[0]
        expect(line["code"] in ENDED_BY_DEADLINE, own.target, DEADLINES,
               f"{what}: the server logged {line['code']} after {line['duration_ms']} ms, not one of "
               f"{', '.join(ENDED_BY_DEADLINE)} (the client saw {outcome})")
        if outcome.seconds <= ENDED_WITHIN_S and float(line["duration_ms"]) <= ENDED_WITHIN_S * 1000:
            return
        late += f"\n  client {outcome}; server logged {line['code']} after {line['duration_ms']} ms"
    raise Nonconformance(f"{own.target}: MESH.md {DEADLINES}: {waits.method} with a {DEADLINE_S * 1000:.0f} ms "
                         f"deadline did not end within {ENDED_WITHIN_S * 1000:.0f} ms in {ATTEMPTS} tries:{late}")
