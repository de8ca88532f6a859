"""MESH.md §6 Errors: a request that breaks a protovalidate rule is INVALID_ARGUMENT, with a
google.rpc.Status in the trailer whose BadRequest names exactly the fields it breaks; so is
a string field holding a NUL or bytes that are not UTF-8, naming that field."""

from __future__ import annotations

import grpc
import grpc.aio
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.internal.encoder import _VarintBytes  # type: ignore[attr-defined]

from mesh.xds.bootstrap import channel_to
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
    async with channel_to(target.entry.name, target.address) as channel:
        outcome = await call(channel, broken.method, broken.request, timeout=TIMEOUT_S)
    what = f"a request that breaks a rule ({broken})"
    check_status(target, outcome, grpc.StatusCode.INVALID_ARGUMENT, what)
    named = outcome.field_violations()
    expect(named is not None, target, SECTION, f"{what}: the status carries no google.rpc.BadRequest")
    expect(set(named or ()) == broken.fields, target, SECTION,
           f"{what}: the BadRequest names {sorted(named or ())}, the rules are broken by {sorted(broken.fields)}")


NOT_UTF8 = b"\xed\xa0\x80"  # a lone surrogate's UTF-8 form: no valid UTF-8 string holds it


def a_string_field(api: Api) -> tuple[MethodDescriptor, FieldDescriptor]:
    """The first request field (in the API's order) that holds one string."""
    for method in api.methods():
        for field in method.input_type.fields:
            if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
                return method, field
    raise AssertionError(f"no request of {api.own_services} has a string field")


async def check_strings(target: Target, api: Api) -> None:
    """A NUL (U+0000) in a string field, and bytes that are not UTF-8 in one, are both
    INVALID_ARGUMENT naming the field: never a server error from a database or a decoder."""
    method, field = a_string_field(api)
    nul = api.message(method.input_type)
    setattr(nul, field.name, "a\0b")
    not_utf8 = _VarintBytes(field.number << 3 | 2) + _VarintBytes(len(NOT_UTF8)) + NOT_UTF8
    name = f"{method.containing_service.full_name}/{method.name}"
    async with channel_to(target.entry.name, target.address) as channel:
        for request, what in ((nul, f"{name} with a NUL in {field.name}"),
                              (not_utf8, f"{name} with {field.name} not UTF-8 ({NOT_UTF8!r})")):
            outcome = await call(channel, method, request, timeout=TIMEOUT_S)
            check_status(target, outcome, grpc.StatusCode.INVALID_ARGUMENT, what)
            named = outcome.field_violations() or []
            expect(field.name in named, target, SECTION, f"{what}: the BadRequest names {sorted(named)}, "
                                                         f"not {field.name}")
