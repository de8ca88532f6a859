"""One loop keeps the mesh tables bounded: request ids, inbox rows and sent outbox rows past
the retention go, newer ones and unsent outbox rows stay (mesh/retention.py)."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from mesh.retention import Retention
from tests.integration.video_command.support import new_id

DAY_S = 86400.0


async def _ids(conn: AsyncConnection[Any], query: str, ids: list[str]) -> set[str]:
    return {row[0] for row in await (await conn.execute(query, (ids,))).fetchall()}


async def test_rows_older_than_the_retention_are_pruned_and_the_rest_kept(
        pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
    old, new = new_id(), new_id()
    events = {name: str(uuid.uuid4()) for name in ("old sent", "new sent", "old unsent", "old inbox", "new inbox")}
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO request_log (request_id, method, fingerprint, created_at) VALUES "
                           "(%s, 'T', 'f', now() - interval '2 days'), (%s, 'T', 'f', now())", (old, new))
        for name, published in (("old sent", "now() - interval '2 days'"), ("new sent", "now()"),
                                ("old unsent", "NULL")):
            await conn.execute(f"INSERT INTO outbox (event_id, event_type, topic, key, payload, created_at, "
                               f"published_at) VALUES (%s, 'T', 'it.retention', 'k', '', now() - interval '3 days', "
                               f"{published})", (events[name],))
        for name, age in (("old inbox", "2 days"), ("new inbox", "0 days")):
            await conn.execute("INSERT INTO inbox (consumer_group, event_id, event_type, topic, kafka_partition, "
                               "kafka_offset, processed_at) VALUES ('it-retention', %s, 'T', 't', 0, 0, "
                               "now() - %s::interval)", (events[name], age))
    await Retention(pool, retention_s=DAY_S).prune()
    async with pool.connection() as conn:
        assert await _ids(conn, "SELECT request_id FROM request_log WHERE request_id = ANY(%s)", [old, new]) == {new}
        kept = await _ids(conn, "SELECT event_id::text FROM outbox WHERE event_id = ANY(%s::uuid[])",
                          list(events.values()))
        assert kept == {events["new sent"], events["old unsent"]}
        kept = await _ids(conn, "SELECT event_id::text FROM inbox WHERE event_id = ANY(%s::uuid[])",
                          list(events.values()))
        assert kept == {events["new inbox"]}
        await conn.execute("DELETE FROM outbox WHERE topic = 'it.retention'")
        await conn.execute("DELETE FROM inbox WHERE consumer_group = 'it-retention'")
