"""gRPC straight at every service, every method of every contract: requests drawn from the
messages' descriptors and protovalidate rules (tests/fuzz/strategies.py), sometimes with a
string field whose bytes are not UTF-8, signed in (x-user-id) or not. Whatever the request,
the answer is never INTERNAL or UNKNOWN (MESH.md, "Errors").

VIDMESH_FUZZ_EXAMPLES sets the examples per method (make test's bound by default)."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from mesh import topology
from mesh.settings import ROOT, Settings
from tests.fuzz.instances import channel_to
from tests.fuzz.strategies import requests

EXAMPLES = int(os.environ.get("VIDMESH_FUZZ_EXAMPLES", "10"))
CALL_S = 10.0
NEVER = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
NOT_UTF8 = b"\xed\xa0\x80"  # a lone surrogate, encoded as UTF-8 would if it could


def contracts() -> Iterator[MethodDescriptor]:
    """Every method of every vidmesh service contract (the generated stubs of `make protos`)."""
    for path in sorted((ROOT / "gen" / "python" / "vidmesh").glob("*/v1/*_service_pb2.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT / "gen" / "python").with_suffix("").parts))
        for service in module.DESCRIPTOR.services_by_name.values():
            yield from service.methods


METHODS = list(contracts())


@pytest.fixture(scope="module")
def served(settings: Settings) -> dict[str, topology.Service]:
    """Which service serves each contract (its first instance is called), asked by reflection."""
    found: dict[str, topology.Service] = {}
    for service in topology.SERVICES:
        with channel_to(settings, service) as channel:
            stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)  # the stubs carry no types
            answers = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                timeout=CALL_S)
            for answer in answers:
                found.update({s.name: service for s in answer.list_services_response.service})
    return found


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def with_bytes_not_utf8(payload: bytes, field: FieldDescriptor) -> bytes:
    """The request with `field` (a string) set again, last wins, to bytes that are not UTF-8."""
    return payload + varint(field.number << 3 | 2) + varint(len(NOT_UTF8)) + NOT_UTF8


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_no_request_ends_in_internal_or_unknown(settings: Settings, served: dict[str, topology.Service],
                                                method: MethodDescriptor) -> None:
    service = method.containing_service.full_name
    assert service in served, f"no instance serves {service}"
    pool = descriptor_pool.Default()
    strings = [f for f in pool.FindMessageTypeByName(method.input_type.full_name).fields
               if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated]
    with channel_to(settings, served[service]) as channel:
        call: Any = channel.unary_unary(f"/{service}/{method.name}")  # raw bytes in and out

        @examples(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(requests(method.input_type), st.sampled_from([None, *strings]), st.none() | st.uuids())
        def answers_without_a_bug(request: object, broken: FieldDescriptor | None, user: uuid.UUID | None) -> None:
            payload = request.SerializeToString()  # type: ignore[attr-defined]
            if broken is not None:
                payload = with_bytes_not_utf8(payload, broken)
            try:
                call(payload, timeout=CALL_S, metadata=(("x-user-id", str(user)),) if user else ())
            except grpc.RpcError as error:
                assert error.code() not in NEVER, f"{service}/{method.name}: {error.code()} {error.details()}"

        answers_without_a_bug()
