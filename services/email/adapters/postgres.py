"""The Store on Postgres (schema `email`, tables in migrations/) and its unit of work."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from mesh import db, tracing
from mesh.paging import Cursor
from services.email.domain import Email, Kind, SentEmail
from services.email.ports import Store, UnitOfWork

Pool = AsyncConnectionPool[AsyncConnection[Any]]
CHANNEL = "vidmesh_email"  # NOTIFY when an email becomes due; the dispatchers LISTEN

REMEMBER_ADDRESS = """
INSERT INTO recipients (user_id, address, display_name) VALUES (%s, %s, %s)
ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, display_name = excluded.display_name"""
QUEUE = """
INSERT INTO emails (email_id, source_event_id, kind, recipient_id, to_address, subject, body, traceparent)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING"""
NEXT_DUE = """
SELECT email_id::text, kind, recipient_id::text, to_address, subject, body, source_event_id::text, traceparent
  FROM emails
 WHERE status = 'queued' AND to_address IS NOT NULL
 ORDER BY queued_at, email_id
 LIMIT 1
   FOR UPDATE SKIP LOCKED"""
PAGE_SENT = """
SELECT email_id::text, kind, recipient_id::text, to_address, subject, body, source_event_id::text, send_time
  FROM emails
 WHERE status = 'sent'
   AND (%(recipient)s::uuid IS NULL OR recipient_id = %(recipient)s::uuid)
   AND (%(after_time)s::timestamptz IS NULL OR (send_time, email_id) < (%(after_time)s, %(after_id)s::uuid))
 ORDER BY send_time DESC, email_id DESC
 LIMIT %(limit)s"""


class PostgresStore(Store):
    """The Store on one connection, inside whatever transaction the caller holds."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def remember_address(self, user_id: str, address: str, display_name: str) -> None:
        await self._conn.execute(REMEMBER_ADDRESS, (user_id, address, display_name))

    async def address_of(self, user_id: str) -> str | None:
        cursor = await self._conn.execute("SELECT address FROM recipients WHERE user_id = %s", (user_id,))
        row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def queue(self, email: Email) -> bool:
        """Queue it in the trace being served (the event's processing span), which its send continues."""
        e, trace = email, email.traceparent or tracing.current_traceparent() or ""
        cursor = await self._conn.execute(QUEUE, (
            e.email_id, e.source_event_id, e.kind.value, e.recipient_id, e.to_address, e.subject, e.body, trace))
        if cursor.rowcount == 1 and e.to_address is not None:
            await self._wake()
        return cursor.rowcount == 1

    async def address_waiting(self, user_id: str, address: str) -> int:
        cursor = await self._conn.execute(
            "UPDATE emails SET to_address = %s WHERE recipient_id = %s AND to_address IS NULL", (address, user_id))
        if cursor.rowcount:
            await self._wake()
        return cursor.rowcount

    async def next_due(self) -> Email | None:
        async with self._conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(NEXT_DUE)
            row = await cursor.fetchone()
        return Email(**{**row, "kind": Kind(row["kind"])}) if row else None

    async def mark_sent(self, email_id: str) -> None:
        await self._conn.execute(
            "UPDATE emails SET status = 'sent', send_time = now(), last_error = NULL WHERE email_id = %s", (email_id,))

    async def mark_failed(self, email_id: str, error: str) -> None:
        await self._conn.execute("UPDATE emails SET status = 'failed', last_error = %s WHERE email_id = %s",
                                 (error[:2000], email_id))

    async def page_sent(self, recipient_id: str | None, after: Cursor | None, limit: int) -> list[SentEmail]:
        params = {"recipient": recipient_id, "limit": limit,
                  "after_time": after.time if after else None, "after_id": after.id if after else None}
        async with self._conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(PAGE_SENT, params)
            rows = await cursor.fetchall()
        return [SentEmail(**{**row, "kind": Kind(row["kind"])}) for row in rows]

    async def _wake(self) -> None:
        # Transactional: the dispatchers hear it when (and only if) the email is committed.
        await self._conn.execute(f"NOTIFY {CHANNEL}")


class PostgresUnitOfWork(db.PooledUnitOfWork, UnitOfWork):
    """A transaction on a pooled connection (mesh.db) with the store on it."""

    def bind(self, conn: AsyncConnection[Any]) -> None:
        self.store = PostgresStore(conn)
