"""Composition root of video-query: its read database, the projector, the version listener,
its servicer.

    VIDMESH_DATABASE_URL=postgresql://video_query:...@127.0.0.1:5432/video python -m services.video_query

The runtime (mesh/runtime.py) owns the rest: migrations, health, Consul, workers, drain.
Readiness is the database alone: with Kafka away the read model still answers, and a read
that waits for a version it cannot see says `stale`. Neither worker is critical: without the
projector reads trail the writes, without the listener waits poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from mesh import interceptors, runtime, topology
from mesh.consumer import IdempotentConsumer
from mesh.runtime import Pool, Runtime
from services.video_query import config
from services.video_query.adapters.notify import VersionListener
from services.video_query.adapters.views import PostgresViews
from services.video_query.consumer import handlers
from services.video_query.paging import PageTokens
from services.video_query.queries import VideoQueries
from services.video_query.server import service
from services.video_query.waiting import VersionWaiter

ENTRY = topology.service("video-query")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Parts:
    """What a test may look at in a running instance."""

    pool: Pool
    projector: IdempotentConsumer
    waiter: VersionWaiter


async def bootstrap(rt: Runtime) -> Parts:
    """Wire the service into the runtime; returns its parts."""
    settings = config.load(rt.environ)
    if settings.dev_key:
        log.warning("page tokens are signed with the development key; set VIDMESH_PAGE_TOKEN_KEY")
    pool = await rt.database(MIGRATIONS)  # the projector's transactions
    reads = await rt.read_pool()  # the queries: one statement each, autocommit
    # Prompt: a GetVideo with min_version waits for the projector (read-your-writes).
    projector = rt.consumer(handlers(), pool, name="projector", prompt=True)
    waiter = VersionWaiter()
    listener = VersionListener(rt.config.require_database_url(), waiter, name=f"{rt.config.service_name}-listen")
    rt.worker("version-listener", listener.run, listener.stop)
    queries = VideoQueries(PostgresViews(reads), PageTokens(settings.page_token_key), waiter,
                           max_wait_s=settings.max_wait_s, time_left=interceptors.time_left)
    rt.serve(service(queries, version=rt.config.version))
    return Parts(pool=pool, projector=projector, waiter=waiter)


def main() -> None:
    """`python -m services.video_query`."""
    runtime.main(ENTRY, bootstrap)
