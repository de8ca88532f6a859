"""The Postgres side of the ports: tables in the `video_write` schema and the outbox.

Concurrency is settled in SQL: `save` updates only `WHERE id = ... AND version = <the version
read>`, so of two writers that read the same version exactly one updates a row and the
other gets Conflict (ABORTED), whatever the Python side believed.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import outbox
from mesh.db import PooledUnitOfWork
from mesh.errors import Conflict
from mesh.idempotency import PostgresRequestLog
from services.video_command.adapters.events import TOPIC, envelope
from services.video_command.domain import Comment, State, Video, VideoEvent
from services.video_command.ports import UnitOfWork, Videos

COLUMNS = ("id, owner_id, title, description, duration_seconds, tags, media_url, state, version, create_time, "
           "publish_time, view_count, like_count, comment_count")
INSERT_VIDEO = f"INSERT INTO videos ({COLUMNS}) VALUES (%(id)s, %(owner_id)s, %(title)s, %(description)s, " \
               "%(duration_seconds)s, %(tags)s, %(media_url)s, %(state)s, %(version)s, %(create_time)s, " \
               "%(publish_time)s, %(view_count)s, %(like_count)s, %(comment_count)s)"
SAVE_VIDEO = """
UPDATE videos SET title = %(title)s, description = %(description)s, tags = %(tags)s, state = %(state)s,
       version = %(version)s, publish_time = %(publish_time)s, view_count = %(view_count)s,
       like_count = %(like_count)s, comment_count = %(comment_count)s
 WHERE id = %(id)s AND version = %(expected_version)s"""
# The hot path as one statement: count the view (the row lock orders concurrent views) and
# claim the request_id with its response in mesh.idempotency's log; a claim that conflicts
# returns no row, and the caller's rollback undoes the count. The response keys are those of
# commands.Views.
COUNT_VIEW = f"""
WITH viewed AS (
    UPDATE videos SET view_count = view_count + 1, version = version + 1
     WHERE id = %(video_id)s AND state = 'published'
    RETURNING {COLUMNS}
), claimed AS (
    INSERT INTO request_log (request_id, method, fingerprint, response)
    SELECT %(request_id)s, 'RecordView', %(fingerprint)s,
           jsonb_build_object('version', version, 'view_count', view_count)
      FROM viewed
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id
)
SELECT * FROM viewed WHERE EXISTS (SELECT FROM claimed)"""

class PostgresVideos(Videos):
    """Videos, likes and comments on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def add(self, video: Video) -> None:
        await self._conn.execute(INSERT_VIDEO, _params(video))

    async def get(self, video_id: str, *, lock: bool = False) -> Video | None:
        query = f"SELECT {COLUMNS} FROM videos WHERE id = %s" + (" FOR UPDATE" if lock else "")
        return await self._one(query, (video_id,))

    async def save(self, video: Video, expected_version: int) -> None:
        cursor = await self._conn.execute(SAVE_VIDEO, {**_params(video), "expected_version": expected_version})
        if cursor.rowcount == 0:
            raise Conflict(f"video {video.id} changed after version {expected_version}; read it again")

    async def is_liked(self, video_id: str, user_id: str) -> bool:
        query = "SELECT EXISTS (SELECT FROM likes WHERE video_id = %s AND user_id = %s)"
        row = await (await self._conn.execute(query, (video_id, user_id))).fetchone()
        return bool(row and row[0])

    async def set_liked(self, video_id: str, user_id: str, liked: bool) -> None:
        query = ("INSERT INTO likes (video_id, user_id) VALUES (%s, %s)" if liked
                 else "DELETE FROM likes WHERE video_id = %s AND user_id = %s")
        await self._conn.execute(query, (video_id, user_id))

    async def add_comment(self, video_id: str, comment: Comment) -> None:
        await self._conn.execute(
            "INSERT INTO comments (id, video_id, author_id, body, create_time) VALUES (%s, %s, %s, %s, %s)",
            (comment.id, video_id, comment.author_id, comment.body, comment.create_time))

    async def remove_likes_and_comments(self, video_id: str) -> None:
        await self._conn.execute("DELETE FROM likes WHERE video_id = %s", (video_id,))
        await self._conn.execute("DELETE FROM comments WHERE video_id = %s", (video_id,))

    async def count_view(self, video_id: str, request_id: str, fingerprint: str) -> Video | None:
        return await self._one(COUNT_VIEW, {"video_id": video_id, "request_id": request_id,
                                            "fingerprint": fingerprint})

    async def _one(self, query: str, params: Any) -> Video | None:
        cursor = self._conn.cursor(row_factory=dict_row)
        row = await (await cursor.execute(query, params)).fetchone()
        return _video(row) if row else None


class PostgresUnitOfWork(PooledUnitOfWork, UnitOfWork):
    """One transaction on a pooled connection; its events go to the outbox in it."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        super().__init__(pool)
        self._events: list[EventEnvelope] = []

    def bind(self, conn: AsyncConnection[Any]) -> None:
        self.videos, self.requests = PostgresVideos(conn), PostgresRequestLog(conn)

    async def publish(self, event: VideoEvent) -> None:
        self._events.append(envelope(event))  # built now, inside the request's trace

    async def commit(self) -> None:
        """Write the outbox rows and commit in one round trip (pipeline mode): the video's
        row lock, taken by the UPDATE, is held for as short a time as possible."""
        async with self.tx.conn.pipeline():
            for event in self._events:
                await outbox.add(self.tx.conn, event, TOPIC)
            await self.tx.commit()
        self._events.clear()

    async def rollback(self) -> None:
        await self.tx.rollback()


def _params(video: Video) -> dict[str, Any]:
    return {**vars(video), "tags": list(video.tags), "state": video.state.value}


def _video(row: dict[str, Any]) -> Video:
    return Video(**{**row, "id": str(row["id"]), "owner_id": str(row["owner_id"]), "tags": tuple(row["tags"]),
                    "state": State(row["state"])})
