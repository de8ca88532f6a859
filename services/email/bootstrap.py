"""Wires the email service: config, logs, database, consumer, dispatcher, gRPC server.

    python -m services.email      # VIDMESH_DATABASE_URL=postgresql://email:...@.../email
                                  # VIDMESH_SMTP_ADDR=127.0.0.1:1025 (see services/email/config.py)

`running()` is the whole process as an async context manager, so tests run the real
service in-process on port 0 with their own database, topics, group and Consul name.
The mail server is not a readiness dependency: while it is down the API still answers and
emails wait in the queue.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import structlog
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from mesh import config as mesh_config
from mesh import log as mesh_log
from mesh import migrations
from mesh.consumer import IdempotentConsumer
from mesh.db import open_pool
from mesh.kafka import EVENT_PARTITIONS, ensure_topics
from mesh.registry import ConsulRegistry
from mesh.server import Server
from mesh.workers import dependency_checks, start_worker
from services.email import config as mail_config
from services.email import consumer as events_consumer
from services.email import server
from services.email.adapters.postgres import PostgresUnitOfWork
from services.email.adapters.smtp import SmtpTransport
from services.email.adapters.wakeup import ListenWakeup
from services.email.consumer import DEFAULT_TOPICS, GROUP, Topics
from services.email.dispatcher import Dispatcher

NAME = "email"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = structlog.get_logger(__name__)
Pool = AsyncConnectionPool[AsyncConnection[Any]]


@dataclass(frozen=True)
class App:
    """A running instance: its gRPC server and background workers."""

    server: Server
    consumer: IdempotentConsumer
    dispatcher: Dispatcher
    pool: Pool


@asynccontextmanager
async def running(config: mesh_config.ServiceConfig, mail: mail_config.MailConfig, *,
                  topics: Topics = DEFAULT_TOPICS, group: str = GROUP,
                  registry: ConsulRegistry | None = None) -> AsyncIterator[App]:
    """Migrate, start the consumer, the dispatcher and the server; stop them all on exit."""
    dsn = config.require_database_url()
    await asyncio.to_thread(migrations.apply, dsn, MIGRATIONS)
    await asyncio.to_thread(ensure_topics, config.kafka_bootstrap, dict.fromkeys(astuple(topics), EVENT_PARTITIONS))
    async with AsyncExitStack() as stack:
        pool = await open_pool(dsn, name=config.service_name)
        stack.push_async_callback(pool.close)
        consumer = events_consumer.build(pool, config.kafka_bootstrap, topics, group)
        transport = SmtpTransport(mail.smtp_host, mail.smtp_port, mail.sender, mail.timeout_s)
        dispatcher = Dispatcher(lambda: PostgresUnitOfWork(pool), transport, ListenWakeup(dsn))
        workers = [start_worker(stack, consumer.run, consumer.stop),
                   start_worker(stack, dispatcher.run, dispatcher.stop)]
        grpc_server = Server(config, [server.service(lambda: PostgresUnitOfWork(pool))],
                             checks=dependency_checks(pool, config.kafka_bootstrap, workers), registry=registry)
        await grpc_server.start()
        stack.push_async_callback(grpc_server.shutdown)  # first out: stop taking calls, then the workers
        yield App(grpc_server, consumer, dispatcher, pool)


async def serve(config: mesh_config.ServiceConfig, mail: mail_config.MailConfig) -> None:
    """Run until SIGTERM/SIGINT, registered in Consul."""
    host, port = config.consul_host_port
    async with running(config, mail, registry=ConsulRegistry(host, port)) as app:
        await app.server.wait_for_signal()


def main() -> None:
    """`python -m services.email`."""
    try:
        config = mesh_config.load(service_name=NAME, required=["VIDMESH_DATABASE_URL"])
        mail = mail_config.load()
    except mesh_config.ConfigError as error:
        sys.exit(f"{NAME}: {error}")
    mesh_log.configure(config.service_name, config.log_level)
    asyncio.run(serve(config, mail))
