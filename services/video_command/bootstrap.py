"""Wiring of one video-command process: config, logs, migrations, topic, pool, outbox relay,
and the gRPC server (health, reflection, Consul) with its Postgres and Kafka checks.

    VIDMESH_DATABASE_URL=postgresql://video_command:...@127.0.0.1:5432/video python -m services.video_command
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import structlog
from confluent_kafka.admin import AdminClient
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mesh import log, migrations
from mesh.config import ConfigError, ServiceConfig, load
from mesh.db import open_pool
from mesh.kafka import EVENT_PARTITIONS, ensure_topics
from mesh.outbox import OutboxRelay
from mesh.registry import ConsulRegistry
from mesh.server import DependencyCheck, Server
from services.video_command.adapters.events import TOPIC
from services.video_command.adapters.postgres import PostgresUnitOfWork, prune_requests
from services.video_command.handlers import VideoCommands
from services.video_command.server import service

SERVICE_NAME = "video-command"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
RELAY_STOP_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 1.0
# How long a request_id is remembered: a retry within a day gets the first answer.
REQUEST_RETENTION = timedelta(days=1)
PRUNE_EVERY_S = 60.0
_log = structlog.get_logger(__name__)


@asynccontextmanager
async def running(config: ServiceConfig) -> AsyncIterator[Server]:
    """The service serving on its port and registered in Consul, until the block ends."""
    dsn = config.require_database_url()
    await asyncio.to_thread(migrations.apply, dsn, MIGRATIONS)
    await asyncio.to_thread(ensure_topics, config.kafka_bootstrap, {TOPIC: EVENT_PARTITIONS})
    pool = await open_pool(dsn, name=config.service_name)
    relay = OutboxRelay(dsn, config.kafka_bootstrap)
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
    pruner = asyncio.create_task(prune_forever(pool), name="request-pruner")
    handlers = VideoCommands(lambda: PostgresUnitOfWork(pool))
    checks = [postgres_check(pool), kafka_check(config.kafka_bootstrap)]
    try:
        async with Server(config, [service(handlers)], checks=checks,
                          registry=ConsulRegistry(*config.consul_host_port)) as server:
            yield server
    finally:
        pruner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruner
        await relay.stop()
        try:
            await asyncio.wait_for(relay_task, RELAY_STOP_TIMEOUT_S)
        finally:
            await pool.close()


async def prune_forever(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
    """Forget old request_ids now and then (every instance may; deleting is idempotent)."""
    while True:
        try:
            pruned = await prune_requests(pool, REQUEST_RETENTION)
            if pruned:
                _log.info("request ids pruned", rows=pruned)
        except (psycopg.Error, PoolTimeout) as error:  # Postgres is away: the health check says so
            _log.warning("request id pruning failed", error=str(error))
        await asyncio.sleep(PRUNE_EVERY_S)


def postgres_check(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> DependencyCheck:
    """Ready while a pooled connection answers."""
    async def postgres() -> bool:
        async with pool.connection(timeout=CHECK_TIMEOUT_S) as conn:
            await conn.execute("SELECT 1")
        return True
    return postgres


def kafka_check(bootstrap: str) -> DependencyCheck:
    """Ready while the broker answers with our topic's metadata."""
    admin = AdminClient({"bootstrap.servers": bootstrap})

    async def kafka() -> bool:
        metadata = await asyncio.to_thread(admin.list_topics, topic=TOPIC, timeout=CHECK_TIMEOUT_S)
        found = metadata.topics.get(TOPIC)
        return found is not None and found.error is None
    return kafka


async def run(config: ServiceConfig) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully."""
    async with running(config) as server:
        await server.wait_for_signal()


def main() -> None:
    """`python -m services.video_command`."""
    try:
        config = load(service_name=SERVICE_NAME, required=["VIDMESH_DATABASE_URL"])
    except ConfigError as error:
        sys.exit(f"video-command: {error}")
    log.configure(config.service_name, config.log_level)
    asyncio.run(run(config))
