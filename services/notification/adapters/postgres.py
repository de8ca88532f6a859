"""The Store on Postgres (schema `notification`, tables in migrations/) and its unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from mesh import db
from mesh.idempotency import PostgresRequestLog
from mesh.paging import Cursor
from services.notification.domain import Kind, NewNotification, Notification, Publication
from services.notification.ports import Store, UnitOfWork

Pool = AsyncConnectionPool[AsyncConnection[Any]]

INSERT_NOTIFICATION = """
INSERT INTO notifications (notification_id, source_event_id, recipient_id, kind, video_id, actor_id, text)
VALUES (%s, %s, %s, %s, NULLIF(%s, '')::uuid, %s, %s)
ON CONFLICT DO NOTHING"""
SELECT_PAGE = """
SELECT notification_id::text, recipient_id::text, kind, coalesce(video_id::text, '') AS video_id,
       actor_id::text, text, read, create_time
  FROM notifications
 WHERE recipient_id = %(user)s
   AND (NOT %(unread_only)s OR NOT read)
   AND (%(after_time)s::timestamptz IS NULL OR (create_time, notification_id) < (%(after_time)s, %(after_id)s::uuid))
 ORDER BY create_time DESC, notification_id DESC
 LIMIT %(limit)s"""
INSERT_PUBLICATION = ("INSERT INTO publications (video_id, owner_id, title, source_event_id, published_at) "
                      "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")
SELECT_PUBLICATIONS = """
SELECT video_id::text, owner_id::text, title, source_event_id::text AS event_id, published_at
  FROM publications WHERE owner_id = %s AND published_at > %s ORDER BY published_at, video_id"""
MARK_SOME = ("UPDATE notifications SET read = true "
             "WHERE recipient_id = %s AND notification_id = ANY(%s::uuid[]) AND NOT read")
MARK_ALL = "UPDATE notifications SET read = true WHERE recipient_id = %s AND NOT read"


class PostgresStore(Store):
    """The Store on one connection, inside whatever transaction the caller holds."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def follow(self, follower_id: str, channel_id: str, since: datetime) -> None:
        await self._conn.execute("INSERT INTO follows (channel_id, follower_id, followed_at) VALUES (%s, %s, %s) "
                                 "ON CONFLICT DO NOTHING", (channel_id, follower_id, since))

    async def unfollow(self, follower_id: str, channel_id: str) -> None:
        await self._conn.execute("DELETE FROM follows WHERE channel_id = %s AND follower_id = %s",
                                 (channel_id, follower_id))

    async def followers_of(self, channel_id: str, before: datetime) -> list[str]:
        cursor = await self._conn.execute(
            "SELECT follower_id::text FROM follows WHERE channel_id = %s AND followed_at < %s "
            "ORDER BY followed_at, follower_id", (channel_id, before))
        return [row[0] for row in await cursor.fetchall()]

    async def remember_publication(self, publication: Publication) -> None:
        p = publication
        await self._conn.execute(INSERT_PUBLICATION, (p.video_id, p.owner_id, p.title, p.event_id, p.published_at))

    async def publications_of(self, channel_id: str, after: datetime) -> list[Publication]:
        async with self._conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(SELECT_PUBLICATIONS, (channel_id, after))
            return [Publication(**row) for row in await cursor.fetchall()]

    async def remember_name(self, user_id: str, display_name: str) -> None:
        await self._conn.execute("INSERT INTO people (user_id, display_name) VALUES (%s, %s) "
                                 "ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name",
                                 (user_id, display_name))

    async def name_of(self, user_id: str) -> str | None:
        cursor = await self._conn.execute("SELECT display_name FROM people WHERE user_id = %s", (user_id,))
        row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def add(self, notification: NewNotification) -> bool:
        n = notification
        cursor = await self._conn.execute(INSERT_NOTIFICATION, (
            n.notification_id, n.source_event_id, n.recipient_id, n.kind.value, n.video_id, n.actor_id, n.text))
        return cursor.rowcount == 1

    async def page(self, user_id: str, unread_only: bool, after: Cursor | None, limit: int) -> list[Notification]:
        params = {"user": user_id, "unread_only": unread_only, "limit": limit,
                  "after_time": after.time if after else None, "after_id": after.id if after else None}
        async with self._conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(SELECT_PAGE, params)
            rows = await cursor.fetchall()
        return [Notification(**{**row, "kind": Kind(row["kind"])}) for row in rows]

    async def unread_count(self, user_id: str) -> int:
        cursor = await self._conn.execute(
            "SELECT count(*) FROM notifications WHERE recipient_id = %s AND NOT read", (user_id,))
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def mark_read(self, user_id: str, notification_ids: Sequence[str] | None) -> int:
        if notification_ids is None:
            cursor = await self._conn.execute(MARK_ALL, (user_id,))
        else:
            cursor = await self._conn.execute(MARK_SOME, (user_id, list(notification_ids)))
        return cursor.rowcount


class PostgresUnitOfWork(db.PooledUnitOfWork, UnitOfWork):
    """A transaction on a pooled connection (mesh.db) with the store and the request_id log on it."""

    def bind(self, conn: AsyncConnection[Any]) -> None:
        self.store, self.requests = PostgresStore(conn), PostgresRequestLog(conn)
