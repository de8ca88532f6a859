"""Wires the notification service: config, logs, database, outbox relay, consumer, gRPC server.

    python -m services.notification      # VIDMESH_DATABASE_URL=postgresql://notification:...@.../notification

`running()` is the whole process as an async context manager, so tests run the real
service in-process on port 0 with their own database, topics, group and Consul name.
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
from mesh.outbox import OutboxRelay
from mesh.registry import ConsulRegistry
from mesh.server import Server
from mesh.workers import dependency_checks, start_worker
from services.notification import consumer as events_consumer
from services.notification import server
from services.notification.adapters.postgres import PostgresUnitOfWork
from services.notification.consumer import DEFAULT_TOPICS, GROUP, Topics

NAME = "notification"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = structlog.get_logger(__name__)
Pool = AsyncConnectionPool[AsyncConnection[Any]]


@dataclass(frozen=True)
class App:
    """A running instance: its gRPC server and background workers."""

    server: Server
    consumer: IdempotentConsumer
    relay: OutboxRelay
    pool: Pool


@asynccontextmanager
async def running(config: mesh_config.ServiceConfig, *, topics: Topics = DEFAULT_TOPICS, group: str = GROUP,
                  registry: ConsulRegistry | None = None) -> AsyncIterator[App]:
    """Migrate, start the relay, the consumer and the server; stop them all on exit."""
    dsn = config.require_database_url()
    await asyncio.to_thread(migrations.apply, dsn, MIGRATIONS)
    await asyncio.to_thread(ensure_topics, config.kafka_bootstrap, dict.fromkeys(astuple(topics), EVENT_PARTITIONS))
    async with AsyncExitStack() as stack:
        pool = await open_pool(dsn, name=config.service_name)
        stack.push_async_callback(pool.close)
        relay = OutboxRelay(dsn, config.kafka_bootstrap)
        consumer = events_consumer.build(pool, config.kafka_bootstrap, topics, group)
        workers = [start_worker(stack, relay.run, relay.stop), start_worker(stack, consumer.run, consumer.stop)]
        grpc_server = Server(config, [server.service(lambda: PostgresUnitOfWork(pool))],
                             checks=dependency_checks(pool, config.kafka_bootstrap, workers), registry=registry)
        await grpc_server.start()
        stack.push_async_callback(grpc_server.shutdown)  # first out: stop taking calls, then the workers
        yield App(grpc_server, consumer, relay, pool)


async def serve(config: mesh_config.ServiceConfig) -> None:
    """Run until SIGTERM/SIGINT, registered in Consul."""
    host, port = config.consul_host_port
    async with running(config, registry=ConsulRegistry(host, port)) as app:
        await app.server.wait_for_signal()


def main() -> None:
    """`python -m services.notification`."""
    try:
        config = mesh_config.load(service_name=NAME, required=["VIDMESH_DATABASE_URL"])
    except mesh_config.ConfigError as error:
        sys.exit(f"{NAME}: {error}")
    mesh_log.configure(config.service_name, config.log_level)
    asyncio.run(serve(config))
