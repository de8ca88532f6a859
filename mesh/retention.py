"""One loop, one setting, keeps every mesh table bounded: request ids, inbox rows and sent
outbox rows older than VIDMESH_RETENTION_SECONDS are deleted, oldest first, in small batches.

What the retention means (MESH.md): a retry of a command later than it is a new request; a
redelivery of an event later than it would be applied again, so no consumer group is ever
moved back further (a rebuild of a read model starts its own group from an empty model); an
unsent outbox row is never deleted, whatever its age. Every instance may run it: deleting is
idempotent, and batches keep each transaction short.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import structlog
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mesh.backoff import pause

log = structlog.get_logger(__name__)

BATCH = 5000
# Table, its time column, and which rows may go at all.
TABLES = (
    ("request_log", "created_at", "TRUE"),
    ("inbox", "processed_at", "TRUE"),
    ("outbox", "published_at", "published_at IS NOT NULL"),
)


def prune_statement(table: str, column: str, condition: str) -> str:
    """One batch of one table: the oldest rows past the retention, at most BATCH of them."""
    return (f"DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} WHERE {condition} "
            f"AND {column} < now() - make_interval(secs => %s) ORDER BY {column} LIMIT {BATCH})")


class Retention:
    """Prunes this service's mesh tables every `interval_s` until stopped."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], retention_s: float,
                 interval_s: float = 60.0) -> None:
        self._pool, self._retention_s, self._interval_s = pool, retention_s, interval_s
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Prune, then wait; a database that is away is tried again next time."""
        while not self._stopping.is_set():
            try:
                await self.prune()
            except (psycopg.OperationalError, PoolTimeout) as error:  # Postgres away: health says so
                log.warning("retention: pruning postponed", error=str(error))
            if await pause(self._stopping, self._interval_s):
                return

    async def stop(self) -> None:
        """Ask run() to return."""
        self._stopping.set()

    async def prune(self) -> dict[str, int]:
        """Delete what is past the retention now; rows deleted per table."""
        deleted = dict.fromkeys((table for table, _, _ in TABLES), 0)
        for table, column, condition in TABLES:
            while True:
                async with self._pool.connection() as conn:
                    cursor = await conn.execute(prune_statement(table, column, condition), (self._retention_s,))
                deleted[table] += cursor.rowcount
                if cursor.rowcount < BATCH:
                    break
        if any(deleted.values()):
            log.info("retention: old rows deleted", retention_s=self._retention_s, **deleted)
        return deleted
