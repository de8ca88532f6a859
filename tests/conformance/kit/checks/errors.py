"""MESH.md §6 Errors: a request that breaks a protovalidate rule is INVALID_ARGUMENT, with a
google.rpc.Status in the trailer whose BadRequest names exactly the fields it breaks."""

from __future__ import annotations

import grpc
import grpc.aio

from tests.conformance.kit.api import Api, Outcome, call
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.rules import BrokenRequest, broken_request
from tests.conformance.kit.target import Target

SECTION = "§6 Errors"
TIMEOUT_S = 10.0


def breaking(target: Target, api: Api) -> BrokenRequest:
    """The request the kit sends to break a rule; its absence is a failure (§6: rules in the protos)."""
    broken = broken_request(api)
    if broken is None:
        raise Nonconformance(f"{target}: MESH.md {SECTION}: no request of {api.own_services} has a "
                             "protovalidate rule the kit can break")
    return broken


def check_status(target: Target, outcome: Outcome, code: grpc.StatusCode, what: str, section: str = SECTION) -> None:
    """The call failed with `code` (the rule of `section`) and carries a google.rpc.Status
    with that code (§6: every failed call does; none ends in UNKNOWN)."""
    expect(outcome.code != grpc.StatusCode.UNKNOWN, target, SECTION, f"{what} ended in UNKNOWN: {outcome}")
    expect(outcome.code == code, target, section, f"{what} got {outcome}, not {code.name}")
    expect(outcome.status is not None, target, SECTION, f"{what}: no google.rpc.Status in grpc-status-details-bin")
    assert outcome.status is not None
    expect(outcome.status.code == code.value[0], target, SECTION,
           f"{what}: the google.rpc.Status says code {outcome.status.code}, the call {code.name}")


async def check_bad_request(target: Target, api: Api) -> None:
    """INVALID_ARGUMENT naming the fields the request breaks, as the reference protovalidate does."""
    broken = breaking(target, api)
    async with grpc.aio.insecure_channel(target.address) as channel:
        outcome = await call(channel, broken.method, broken.request, timeout=TIMEOUT_S)
    what = f"a request that breaks a rule ({broken})"
    check_status(target, outcome, grpc.StatusCode.INVALID_ARGUMENT, what)
    named = outcome.field_violations()
    expect(named is not None, target, SECTION, f"{what}: the status carries no google.rpc.BadRequest")
    expect(set(named or ()) == broken.fields, target, SECTION,
           f"{what}: the BadRequest names {sorted(named or ())}, the rules are broken by {sorted(broken.fields)}")
