"""users running in this test process against the shared stack's Postgres, Kafka and Consul,
built by its own bootstrap (runtime.running) on a free port under a unique Consul name; a stub
to call it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vidmesh.users.v1 import users_service_pb2_grpc as pb_grpc

from mesh import dbbootstrap, runtime
from mesh.runtime import Running
from mesh.settings import Settings
from services.users import keys
from services.users.bootstrap import ENTRY, bootstrap
from services.users.handlers import Deps


@pytest.fixture(scope="session")
def users_dsn(settings: Settings) -> str:
    dbbootstrap.run(settings)
    return dbbootstrap.service_dsn("users", settings)


@pytest.fixture(scope="session")
def keys_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("users-jwt")


@pytest.fixture(scope="session")
async def users(settings: Settings, users_dsn: str, keys_folder: Path) -> AsyncIterator[Running[Deps]]:
    """Registered under a name of its own, so the stack's routing never sends it a call. It
    shares the stack's users database, so no topic prefix: whichever of the two relays holds
    the outbox lock publishes every row, and both must publish to the same topic."""
    async with runtime.running(ENTRY, bootstrap, {
        "VIDMESH_SERVICE_NAME": f"users-it-{uuid.uuid4().hex[:8]}",
        "VIDMESH_DATABASE_URL": users_dsn,
        "VIDMESH_GRPC_PORT": "0",
        "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
        "VIDMESH_KAFKA_BOOTSTRAP": f"{settings.host}:{settings.kafka_port}",
        "VIDMESH_DRAIN_SECONDS": "0.1",
        keys.ENV_DIR: str(keys_folder),
    }) as instance:
        await wait_serving(instance.port)
        yield instance


@pytest.fixture(scope="session")
async def channel(users: Running[Deps]) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{users.port}") as channel:
        yield channel


@pytest.fixture(scope="session")
def stub(channel: grpc.aio.Channel) -> pb_grpc.UserServiceAsyncStub:
    return pb_grpc.UserServiceStub(channel)


async def wait_serving(port: int, timeout: float = 30.0) -> None:
    """Until grpc.health.v1 says SERVING (bounded)."""
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs omit the methods
        while True:
            reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
            assert time.monotonic() < deadline, "users never became SERVING"
            await asyncio.sleep(0.1)  # polling interval of a bounded wait
