"""The users instance as the mesh sees it: gRPC health, Consul, and key rotation while it runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import consul
import grpc.aio
import jwt
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vidmesh.users.v1 import users_service_pb2 as pb
from vidmesh.users.v1 import users_service_pb2_grpc as pb_grpc

from mesh.runtime import Running
from mesh.settings import Settings
from services.users import keys, tokens
from services.users.handlers import Deps
from tests.integration.users.support import DEADLINE_S, PASSWORD, jwks_json, register


async def test_health_is_serving_for_the_server_and_the_user_service(channel: grpc.aio.Channel) -> None:
    health: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
    for service in ("", "vidmesh.users.v1.UserService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE_S)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_the_instance_is_registered_and_passing_in_consul(settings: Settings, users: Running[Deps]) -> None:
    client = consul.Consul(host=settings.host, port=settings.consul_http_port)
    assert users.runtime.server is not None
    registration = users.runtime.server.registration
    deadline, index = time.monotonic() + 20, None
    entries: list[dict[str, Any]] = []
    while not any(e["Service"]["ID"] == registration.service_id for e in entries):
        assert time.monotonic() < deadline, f"{registration.service_id} not passing in Consul: {entries}"
        index, entries = await asyncio.to_thread(
            client.health.service, registration.name, passing=True, index=index, wait="2s")
    service = next(e["Service"] for e in entries if e["Service"]["ID"] == registration.service_id)
    assert service["Port"] == users.port
    assert service["Meta"]["proto_package"] == "vidmesh.users.v1"
    assert "vidmesh" in service["Tags"]


async def test_a_rotation_reaches_the_running_service_without_a_restart(
        stub: pb_grpc.UserServiceAsyncStub, keys_folder: Path) -> None:
    ann = await register(stub, "Ann")
    login = pb.LoginRequest(email=ann.email, password=PASSWORD)
    old_token = (await stub.Login(login, timeout=DEADLINE_S)).access_token
    new_kid = keys.rotate(keys_folder)

    deadline = time.monotonic() + keys.REFRESH_S + 5
    while (jwks := jwks_json(await stub.GetJwks(pb.GetJwksRequest(), timeout=DEADLINE_S)))[0]["kid"] != new_kid:
        assert time.monotonic() < deadline, "the new key never showed in the JWKS"
        await asyncio.sleep(0.2)  # polling interval of a bounded wait

    # Published at once, but the old key keeps signing until the gateway's cache knows the new one.
    new_token = (await stub.Login(login, timeout=DEADLINE_S)).access_token
    signed_by = jwt.get_unverified_header(new_token)["kid"]
    assert signed_by != new_kid and signed_by in {key["kid"] for key in jwks}
    assert len(jwks) >= 2
    for token in (old_token, new_token):
        assert tokens.verify(token, jwks)["sub"] == ann.user_id
