"""The Wakeup on Postgres LISTEN/NOTIFY: a queued email wakes every dispatcher at commit."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import structlog
from psycopg import AsyncConnection

from mesh.db import pool_kwargs
from services.email.adapters.postgres import CHANNEL
from services.email.ports import Wakeup

log = structlog.get_logger(__name__)


class ListenWakeup(Wakeup):
    """Waits on its own autocommit connection (a pooled one would be handed to others)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: AsyncConnection[Any] | None = None

    async def wait(self, timeout: float) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await AsyncConnection.connect(self._dsn, autocommit=True,
                                                           **pool_kwargs("email-dispatcher"))
                await self._conn.execute(f"LISTEN {CHANNEL}")
                return  # a NOTIFY sent while we were not listening is lost: look at the queue once more
            async for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.OperationalError as error:
            log.warning("email wakeups lost; polling until Postgres is back", error=str(error))
            await self.close()
            await asyncio.sleep(timeout)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
