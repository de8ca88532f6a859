"""LISTEN for the projector's version notices and wake the queries waiting for them.

The projector runs `pg_notify(CHANNEL, '<video_id>:<version>')` in each event's
transaction; Postgres delivers it to every listening connection when that transaction
commits, so a query on any instance wakes as soon as any instance's projector has written.
"""

from __future__ import annotations

import asyncio

import psycopg
import structlog

from mesh.backoff import Backoff, pause
from mesh.db import pool_kwargs
from services.video_query.waiting import VersionWaiter

log = structlog.get_logger(__name__)

CHANNEL = "video_read_versions"
LISTEN = f"LISTEN {CHANNEL}"
CHECK_STOP_S = 0.5


class VersionListener:
    """One LISTEN connection per process, reconnected after failures, feeding a VersionWaiter."""

    def __init__(self, dsn: str, waiter: VersionWaiter, *, name: str = "video-query-listen") -> None:
        self._dsn, self._waiter, self._name = dsn, waiter, name
        self._stopping = asyncio.Event()
        self._backoff = Backoff(initial=0.2, maximum=5.0)

    async def run(self) -> None:
        """Listen until stop(); while disconnected, waiters fall back to polling."""
        while not self._stopping.is_set():
            try:
                await self._listen()
            except psycopg.OperationalError as exc:
                delay = self._backoff.next()
                log.warning("version listener disconnected; waiting queries poll meanwhile", error=str(exc),
                            retry_in_s=delay)
                await pause(self._stopping, delay)

    async def stop(self) -> None:
        """Ask run() to return within CHECK_STOP_S."""
        self._stopping.set()

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True, **pool_kwargs(self._name))
        async with connection as conn:
            await conn.execute(LISTEN)
            self._backoff.reset()
            self._waiter.wake_all()  # notices sent while we were not listening are lost
            while not self._stopping.is_set():
                async for notice in conn.notifies(timeout=CHECK_STOP_S):
                    self._waiter.wake(notice.payload.partition(":")[0])
