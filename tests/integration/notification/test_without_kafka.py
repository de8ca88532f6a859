"""With no Kafka to reach, users, notification and email start, say SERVING and keep answering
their own RPCs: Kafka only delays events (MESH.md, readiness), it is no outage. A registration
commits meanwhile and its event waits in the outbox.

Kafka is "away" by pointing the three at a loopback port where nothing listens (what a stopped
broker looks like to a client), so the shared stack's Kafka keeps running for everyone else;
that events written meanwhile go out once Kafka is back is tests/integration/test_outbox.py's.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import grpc.aio
from psycopg import AsyncConnection
from vidmesh.email.v1 import email_service_pb2 as email_pb
from vidmesh.email.v1 import email_service_pb2_grpc as email_grpc
from vidmesh.notification.v1 import notification_service_pb2 as notification_pb
from vidmesh.notification.v1 import notification_service_pb2_grpc as notification_grpc
from vidmesh.users.v1 import users_service_pb2 as users_pb
from vidmesh.users.v1 import users_service_pb2_grpc as users_grpc

from mesh import health_probe, runtime
from mesh.settings import Settings
from mesh.supervisor import health_name
from services.email import bootstrap as email_bootstrap
from services.notification import bootstrap as notification_bootstrap
from services.users import bootstrap as users_bootstrap
from services.users import keys
from tests.integration.notification.support import new_id, scratch_database, service_env, wait_until

OBSERVED_S = 8.0  # four of the server's 2 s dependency checks: a Kafka check would have failed by now
DEADLINE_S = 15.0
SERVICES = (users_bootstrap, notification_bootstrap, email_bootstrap)


def nowhere() -> str:
    """A loopback address where nothing listens: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def health(port: int, service: str = "") -> int:
    return health_probe.probe(f"127.0.0.1:{port}", service)


async def stays_serving(ports: dict[str, int]) -> None:
    """Every instance, and its event workers' own entries, answer SERVING at every probe for
    OBSERVED_S seconds (a worker waiting for Kafka is not a crashed one)."""
    workers = {"users": ["outbox-relay"], "notification": ["outbox-relay", "consumer"], "email": ["consumer"]}
    until = time.monotonic() + OBSERVED_S
    while time.monotonic() < until:
        for name, port in ports.items():
            for entry in ["", *(health_name(worker) for worker in workers[name])]:
                status = await asyncio.to_thread(health, port, entry)
                assert status == health_probe.SERVING, f"{name} {entry or '(server)'} not SERVING without Kafka"
        await asyncio.sleep(0.5)  # the rhythm of the observation, not a wait for readiness


async def unsent_events(dsn: str, aggregate_id: str) -> int:
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        cursor = await conn.execute("SELECT count(*) FROM outbox WHERE key = %s AND published_at IS NULL",
                                    (aggregate_id,))
        row = await cursor.fetchone()
    return int(row[0]) if row else -1


async def register_and_login(accounts: users_grpc.UserServiceAsyncStub, tag: str) -> str:
    """A new account that can sign in; its user id."""
    email, password = f"kafka-away-{tag}@example.com", "correct horse 7"
    registered = await accounts.Register(users_pb.RegisterRequest(
        request_id=new_id(), email=email, password=password, display_name="Away"), timeout=DEADLINE_S)
    login = await accounts.Login(users_pb.LoginRequest(email=email, password=password), timeout=DEADLINE_S)
    assert login.user_id == registered.user_id
    return registered.user_id


async def test_without_kafka_the_services_start_serve_and_answer(settings: Settings, tmp_path: Path) -> None:
    tag, kafka = uuid.uuid4().hex[:8], nowhere()
    smtp, jwt = f"{settings.host}:{settings.smtp_port}", str(tmp_path / "jwt")
    async with AsyncExitStack() as running:
        ports: dict[str, int] = {}
        dsns: dict[str, str] = {}
        for service in SERVICES:
            name = service.ENTRY.name
            # Own databases: the stack's relays must not publish this test's rows behind its back.
            dsns[name] = running.enter_context(scratch_database(settings, f"it_{name}"))
            env = service_env(settings, f"{name}-it-{tag}", dsns[name], f"it-{tag}.", VIDMESH_KAFKA_BOOTSTRAP=kafka,
                              VIDMESH_CONSUL_REGISTER="false", VIDMESH_SMTP_ADDR=smtp, **{keys.ENV_DIR: jwt})
            instance = await running.enter_async_context(runtime.running(service.ENTRY, service.bootstrap, env))
            ports[name] = instance.port

        async def all_serving() -> bool:
            statuses = [await asyncio.to_thread(health, port) for port in ports.values()]
            return all(status == health_probe.SERVING for status in statuses)
        await wait_until(all_serving, "every instance SERVING without Kafka")

        channels = [await running.enter_async_context(grpc.aio.insecure_channel(f"127.0.0.1:{ports[s.ENTRY.name]}"))
                    for s in SERVICES]
        user_id = await register_and_login(users_grpc.UserServiceStub(channels[0]), tag)
        marked = await notification_grpc.NotificationServiceStub(channels[1]).MarkRead(
            notification_pb.MarkReadRequest(request_id=new_id(), user_id=user_id, all=True), timeout=DEADLINE_S)
        assert (marked.marked_count, marked.unread_count) == (0, 0)
        sent = await email_grpc.EmailServiceStub(channels[2]).ListSentEmails(
            email_pb.ListSentEmailsRequest(recipient_id=user_id), timeout=DEADLINE_S)
        assert list(sent.emails) == []

        await stays_serving(ports)
        assert await unsent_events(dsns["users"], user_id) == 1  # the registration's event waits for Kafka
