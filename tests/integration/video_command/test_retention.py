"""request_ids are remembered for the retention window, then pruned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from services.video_command.adapters.postgres import prune_requests
from tests.integration.video_command.support import new_id


async def test_request_ids_older_than_the_retention_are_pruned_and_newer_kept(
        pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
    old, new = new_id(), new_id()
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO requests (request_id, command, response, create_time) VALUES "
                           "(%s, 'Test', '{}', now() - interval '2 days'), (%s, 'Test', '{}', now())", (old, new))
    await prune_requests(pool, timedelta(days=1), batch=1000)
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT request_id::text FROM requests WHERE request_id = ANY(%s::uuid[])",
                                    ([old, new],))
        assert [row[0] for row in await cursor.fetchall()] == [new]
