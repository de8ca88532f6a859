"""mesh.db's pool against the real Postgres: a connection the server ended while it sat idle
is replaced at checkout, never handed out, and a checkout costs no round trip."""

from __future__ import annotations

import time

import psycopg

from mesh.db import open_pool
from mesh.dbbootstrap import superuser_dsn
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
