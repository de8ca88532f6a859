"""Helpers for calling users in tests: accounts with unique emails, error details."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from vidmesh.users.v1 import users_service_pb2 as pb
from vidmesh.users.v1 import users_service_pb2_grpc as pb_grpc

DEADLINE_S = 15.0  # a Register or Login hashes for real: seconds on a loaded 2-core machine
PASSWORD = "correct horse 7"


def new_id() -> str:
    return str(uuid.uuid4())


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}@example.com"


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    display_name: str


async def register(stub: pb_grpc.UserServiceAsyncStub, name: str = "Ann", **fields: Any) -> Account:
    request = pb.RegisterRequest(email=unique_email(name.lower()), password=PASSWORD, display_name=name)
    request.MergeFrom(pb.RegisterRequest(**fields))
    reply = await stub.Register(request, timeout=DEADLINE_S)
    return Account(reply.user_id, request.email, request.display_name)


async def fails_with(code: grpc.StatusCode, call: Any) -> grpc.aio.AioRpcError:
    """Await the call and check it fails with `code`; the error, for more checks."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == code, raised.value.details()
    return raised.value


def field_violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    """(field, description) of every violation in the error's google.rpc.BadRequest."""
    status = status_pb2.Status.FromString(dict(error.trailing_metadata() or ())["grpc-status-details-bin"])
    found: list[tuple[str, str]] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            found.extend((v.field, v.description) for v in bad_request.field_violations)
    return found


def jwks_json(reply: pb.GetJwksResponse) -> list[dict[str, str]]:
    """The key set as the gateway prints it (JSON with the JWK parameter names)."""
    printed = json_format.MessageToJson(reply, preserving_proto_field_name=True)
    return list(json.loads(printed)["keys"])
