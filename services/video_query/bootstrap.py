"""Wiring of one video-query process: config, logs, migrations, projector, listener, server.

    python -m services.video_query      # VIDMESH_DATABASE_URL is required

`start()` builds the running parts without the gRPC server, so tests can host them in
their own mesh.server.Server (port 0, a Consul name of their own).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from confluent_kafka.admin import AdminClient
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.video.v1 import video_query_service_pb2 as pb
from vidmesh.video.v1 import video_query_service_pb2_grpc as pb_grpc

from mesh import config as mesh_config
from mesh import interceptors, migrations
from mesh import log as mesh_log
from mesh.config import ServiceConfig
from mesh.consumer import IdempotentConsumer
from mesh.db import open_pool
from mesh.kafka import EVENT_PARTITIONS, ensure_topics
from mesh.server import DependencyCheck, Service, serve
from services.video_query import config as query_config
from services.video_query.adapters.notify import VersionListener
from services.video_query.adapters.views import PostgresViews
from services.video_query.config import SERVICE_NAME, QueryConfig
from services.video_query.consumer import projector
from services.video_query.paging import PageTokens
from services.video_query.queries import VideoQueries
from services.video_query.server import VideoQueryServicer
from services.video_query.waiting import VersionWaiter

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CHECK_TIMEOUT_S = 2.0


@dataclass
class App:
    """The running parts of one instance; `stop()` releases them."""

    config: ServiceConfig
    query_config: QueryConfig
    pool: AsyncConnectionPool[AsyncConnection[Any]]
    consumer: IdempotentConsumer
    listener: VersionListener
    waiter: VersionWaiter
    servicer: VideoQueryServicer
    admin: AdminClient
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def service(self) -> Service:
        """VideoQueryService, for mesh.server."""
        return Service(pb.DESCRIPTOR.services_by_name["VideoQueryService"], self.servicer,
                       pb_grpc.add_VideoQueryServiceServicer_to_server)

    @property
    def checks(self) -> list[DependencyCheck]:
        """Health: Postgres answers, Kafka answers, the projector is running."""
        return [self.postgres_ready, self.kafka_ready, self.projector_running]

    async def postgres_ready(self) -> bool:
        """A pooled connection answers."""
        async with self.pool.connection(timeout=CHECK_TIMEOUT_S) as conn:
            await conn.execute("SELECT 1")
        return True

    async def kafka_ready(self) -> bool:
        """The broker answers with the video topic's metadata."""
        topic = self.query_config.video_topic
        metadata = await asyncio.to_thread(self.admin.list_topics, topic, timeout=CHECK_TIMEOUT_S)
        return topic in metadata.topics

    async def projector_running(self) -> bool:
        """False once the projector's task has ended (it only ends on stop or a bug)."""
        return not self.tasks[0].done()

    async def stop(self) -> None:
        """Stop the projector and the listener, then close the pool."""
        await self.consumer.stop()
        await self.listener.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pool.close()


async def start(config: ServiceConfig, query: QueryConfig) -> App:
    """Migrate, make sure the topics exist, and start the projector and the version listener."""
    dsn = config.require_database_url()
    await asyncio.to_thread(migrations.apply, dsn, MIGRATIONS)
    await asyncio.to_thread(ensure_topics, config.kafka_bootstrap, dict.fromkeys(query.topics, EVENT_PARTITIONS))
    if query.dev_key:
        log.warning("page tokens are signed with the development key; set VIDMESH_PAGE_TOKEN_KEY")
    pool = await open_pool(dsn, name=config.service_name)
    waiter = VersionWaiter()
    listener = VersionListener(dsn, waiter, name=f"{config.service_name}-listen")
    consumer = projector(pool, config.kafka_bootstrap, query)
    queries = VideoQueries(PostgresViews(pool), PageTokens(query.page_token_key), waiter,
                           max_wait_s=query.max_wait_s, time_left=interceptors.time_left)
    app = App(config, query, pool, consumer, listener, waiter, VideoQueryServicer(queries),
              AdminClient({"bootstrap.servers": config.kafka_bootstrap}))
    app.tasks = [asyncio.create_task(consumer.run(), name="projector"),
                 asyncio.create_task(listener.run(), name="version-listener")]
    return app


async def run() -> None:
    """The process: start, serve until SIGTERM, stop."""
    config = mesh_config.load(service_name=SERVICE_NAME, required=["VIDMESH_DATABASE_URL"])
    mesh_log.configure(config.service_name, config.log_level)
    app = await start(config, query_config.load())
    try:
        await serve(config, [app.service], checks=app.checks)
    finally:
        await app.stop()


def main() -> None:
    """`python -m services.video_query`."""
    asyncio.run(run())
