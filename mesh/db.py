"""Postgres access for services: an async connection pool with timeouts, and a unit of work.

    pool = await open_pool(config.database_url, name="users")
    async with uow(pool) as tx:
        await tx.conn.execute("UPDATE ...")
        await outbox.add(tx.conn, event, "users.v1.events")
        await tx.commit()          # nothing is committed unless you say so
    await pool.close()
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any, Self

import structlog
from psycopg import AsyncConnection, OperationalError
from psycopg.pq import ConnStatus, TransactionStatus
from psycopg_pool import AsyncConnectionPool

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_MS = 30_000
# A transaction left open (a bug, a hung handler) would hold locks and block the outbox
# relay's view of later rows; the server ends it instead.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


def pool_kwargs(application_name: str, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> dict[str, Any]:
    """Connection parameters every vidmesh connection uses: connect and statement timeouts."""
    options = (f"-c statement_timeout={statement_timeout_ms} "
               f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    return {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": application_name, "options": options}


async def open_pool(dsn: str, *, name: str = "vidmesh", min_size: int = 1, max_size: int = 10,
                    timeout: float = POOL_TIMEOUT_S, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
                    autocommit: bool = False) -> AsyncConnectionPool[AsyncConnection[Any]]:
    """Open a pool and wait (at most `timeout` s) until its first connections work.

    `timeout` is also how long a caller waits for a free connection before PoolTimeout.
    `autocommit=True` is for reads that are one statement each: no BEGIN and COMMIT around
    them, so a read is one round trip instead of three (never for a unit of work).
    Close it with `await pool.close()` (or `async with pool:`).
    """
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        dsn, open=False, name=name, min_size=min_size, max_size=max_size, timeout=timeout,
        kwargs={**pool_kwargs(name, statement_timeout_ms), "autocommit": autocommit},
        # A connection that died while idle (Postgres restarted) is replaced, not handed out.
        check=check_still_open,
        reconnect_timeout=60.0,
    )
    await pool.open(wait=True, timeout=timeout)
    log.debug("db pool open", pool=name, min_size=min_size, max_size=max_size)
    return pool


async def check_still_open(conn: AsyncConnection[Any]) -> None:
    """The pool's check at every checkout, without a round trip to the server.

    psycopg's own check (`check_connection`) sends an empty query, one round trip on every
    checkout: on a read of one indexed row that doubled the waits on Postgres. A connection
    idle in the pool has nothing to read: the server speaks only when asked, or when it ends
    the session (a restart, pg_terminate_backend, idle_session_timeout), sending the error
    and closing the socket. So a readable socket means the connection is gone (or in a state
    nobody expects): the pool replaces it instead of handing it out.
    """
    if conn.closed or conn.broken:
        raise OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable or conn.pgconn.status != ConnStatus.OK:
        await conn.close()  # so the pool discards it rather than taking it back
        raise OperationalError("the server ended this idle connection")


class UnitOfWork:
    """One transaction on one pooled connection: commit explicitly; anything else rolls back."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn
        self.committed = False

    async def commit(self) -> None:
        """Commit the transaction; the connection can be used for a next transaction after it."""
        await self.conn.commit()
        self.committed = True

    async def rollback(self) -> None:
        """Throw the transaction's changes away."""
        await self.conn.rollback()


@asynccontextmanager
async def uow(pool: AsyncConnectionPool[AsyncConnection[Any]],
              timeout: float | None = None) -> AsyncIterator[UnitOfWork]:
    """Borrow a connection for one unit of work; roll back whatever is not committed on exit.

    Unlike `pool.connection()`, leaving the block normally does NOT commit: a handler that
    returns early without `await tx.commit()` changes nothing.
    """
    conn = await pool.getconn(timeout)
    try:
        yield UnitOfWork(conn)
    finally:
        try:
            if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
        finally:
            await pool.putconn(conn)


class PooledUnitOfWork:
    """Base of a service's unit-of-work adapter: one transaction on a pooled connection.

    A subclass binds its repositories to the connection in `bind(conn)`; leaving the
    `async with` block rolls back whatever was not committed and returns the connection.
    """

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool
        self._stack = AsyncExitStack()
        self._tx: UnitOfWork | None = None

    def bind(self, conn: AsyncConnection[Any]) -> None:
        """Create the repositories on this transaction's connection."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._tx = await self._stack.enter_async_context(uow(self._pool))
        self.bind(self._tx.conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._stack.__aexit__(exc_type, exc, tb)

    @property
    def tx(self) -> UnitOfWork:
        """The open transaction; RuntimeError outside `async with`."""
        if self._tx is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._tx

    async def commit(self) -> None:
        """Commit everything done in this unit of work."""
        await self.tx.commit()
