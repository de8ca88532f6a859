"""mesh.db's pool against the real Postgres: a connection the server ended while it sat idle
is replaced at checkout, never handed out, and a checkout costs no round trip; a call that
finds no free connection in time, or whose statement runs past its timeout, is UNAVAILABLE
(the database's state, which a retry may outlast), not INTERNAL (a bug)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import grpc.aio
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from mesh.db import open_pool
from mesh.dbbootstrap import superuser_dsn
from mesh.interceptors import default_interceptors
from mesh.settings import Settings

GONE_TIMEOUT_S = 10.0


def _terminate(settings: Settings, pid: int) -> None:
    """End a backend as a restart or an administrator would, and wait until it is gone."""
    with psycopg.connect(superuser_dsn(settings), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + GONE_TIMEOUT_S
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} still there after {GONE_TIMEOUT_S}s"
            time.sleep(0.05)


async def test_a_connection_ended_while_idle_is_replaced_at_checkout(settings: Settings) -> None:
    pool = await open_pool(superuser_dsn(settings), name="it-pool", min_size=1, max_size=1)
    try:
        async with pool.connection() as conn:
            first = conn.info.backend_pid
        _terminate(settings, first)
        async with pool.connection() as conn:  # without the check, this query would fail
            row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        assert row[0] != first
    finally:
        await pool.close()


async def test_a_checkout_sends_nothing_to_the_server(settings: Settings) -> None:
    pool = await open_pool(superuser_dsn(settings), name="it-pool-quiet", min_size=1, max_size=1)
    try:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        calls = await _statements(settings, "it-pool-quiet")
        for _ in range(5):
            async with pool.connection():
                pass
        # psycopg's own check sends an empty query at every checkout, which Postgres counts
        # as a statement of that connection (pg_stat_activity's query stays the last one).
        assert await _statements(settings, "it-pool-quiet") == calls
    finally:
        await pool.close()


async def _statements(settings: Settings, application: str) -> str:
    with psycopg.connect(superuser_dsn(settings), autocommit=True) as admin:
        row = admin.execute("SELECT query, state_change::text FROM pg_stat_activity WHERE application_name = %s",
                            (application,)).fetchone()
    assert row is not None, f"no connection of {application}"
    return f"{row[0]} @ {row[1]}"


@asynccontextmanager
async def _serving(work: Callable[[], Awaitable[object]]) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    """A server with mesh's interceptors whose one method runs `work`; yields its caller."""
    async def handle(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        await work()
        return b""

    server = grpc.aio.server(interceptors=default_interceptors(max_rpc_seconds=10))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "it.Pool", {"Work": grpc.unary_unary_rpc_method_handler(handle)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            method: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary("/it.Pool/Work")
            yield lambda: method(b"", timeout=10)
    finally:
        await server.stop(None)


async def _select(pool: AsyncConnectionPool[Any], query: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(query)


async def test_no_free_connection_in_time_is_unavailable_not_internal(settings: Settings) -> None:
    pool = await open_pool(superuser_dsn(settings), name="it-pool-busy", min_size=1, max_size=1, timeout=0.3)
    try:
        async with _serving(lambda: _select(pool, "SELECT 1")) as call, pool.connection():  # the only one, held
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call()
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "no database connection was free in time" in (caught.value.details() or "")
        async with _serving(lambda: _select(pool, "SELECT 1")) as call:
            await call()  # free again: answered
    finally:
        await pool.close()


async def test_a_statement_past_its_timeout_is_unavailable_not_internal(settings: Settings) -> None:
    pool = await open_pool(superuser_dsn(settings), name="it-pool-slow", min_size=1, max_size=1,
                           statement_timeout_ms=100)
    try:
        async with _serving(lambda: _select(pool, "SELECT pg_sleep(2)")) as call:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call()
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "database is unavailable" in (caught.value.details() or "")
    finally:
        await pool.close()
