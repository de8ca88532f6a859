"""The projector's writes to the `video_read` tables, inside the consumer's transaction."""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from services.video_query.adapters.notify import CHANNEL
from services.video_query.domain import Comment, FollowEdge, LikeEdge, VideoRow
from services.video_query.ports import ReadModel

# Events of one video are serialised per transaction on this lock rather than a row lock,
# because the row may not exist yet; two projectors (a rebuild next to a live one, or a
# partition changing hands) then never interleave on one video.
LOCK_VIDEO = "SELECT pg_advisory_xact_lock(hashtext('video_read.videos'), hashtext(%s))"

VIDEO_COLUMNS = (
    "video_id::text, owner_id::text, version, created, title, description, tags, details_version, "
    "duration_seconds, media_url, create_time, published, publish_time, publish_version, view_count, "
    "view_version, like_count, like_version, comment_count, comment_version, deleted, trending_score"
)
SELECT_VIDEO = f"SELECT {VIDEO_COLUMNS} FROM videos WHERE video_id = %s"
UPSERT_VIDEO = """
INSERT INTO videos (video_id, owner_id, version, created, title, description, tags, details_version,
    duration_seconds, media_url, create_time, published, publish_time, publish_version, view_count,
    view_version, like_count, like_version, comment_count, comment_version, deleted, trending_score)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (video_id) DO UPDATE SET
    owner_id = EXCLUDED.owner_id, version = EXCLUDED.version, created = EXCLUDED.created,
    title = EXCLUDED.title, description = EXCLUDED.description, tags = EXCLUDED.tags,
    details_version = EXCLUDED.details_version, duration_seconds = EXCLUDED.duration_seconds,
    media_url = EXCLUDED.media_url, create_time = EXCLUDED.create_time, published = EXCLUDED.published,
    publish_time = EXCLUDED.publish_time, publish_version = EXCLUDED.publish_version,
    view_count = EXCLUDED.view_count, view_version = EXCLUDED.view_version, like_count = EXCLUDED.like_count,
    like_version = EXCLUDED.like_version, comment_count = EXCLUDED.comment_count,
    comment_version = EXCLUDED.comment_version, deleted = EXCLUDED.deleted,
    trending_score = EXCLUDED.trending_score
"""
# The upsert and its notice in one round trip (the projection's transaction is on the path of
# every read-your-writes wait); the notice reaches every instance's listener at commit.
SAVE_VIDEO = f"WITH saved AS ({UPSERT_VIDEO}) SELECT pg_notify(%s, %s)"
SELECT_LIKE = "SELECT liked, version FROM likes WHERE video_id = %s AND user_id = %s"
UPSERT_LIKE = """
INSERT INTO likes (video_id, user_id, liked, version) VALUES (%s, %s, %s, %s)
ON CONFLICT (video_id, user_id) DO UPDATE SET liked = EXCLUDED.liked, version = EXCLUDED.version
"""
INSERT_COMMENT = """
INSERT INTO comments (comment_id, video_id, author_id, body, create_time) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (comment_id) DO NOTHING
"""
DROP_LIKES = "DELETE FROM likes WHERE video_id = %s"
DROP_COMMENTS = "DELETE FROM comments WHERE video_id = %s"
UPSERT_USER = """
INSERT INTO users (user_id, display_name) VALUES (%s, %s)
ON CONFLICT (user_id) DO UPDATE SET display_name = EXCLUDED.display_name
"""
LOCK_FOLLOW = "SELECT pg_advisory_xact_lock(hashtext('video_read.follows'), hashtext(%s::text || '/' || %s::text))"
SELECT_FOLLOW = "SELECT following, changed_at FROM follows WHERE follower_id = %s AND channel_id = %s"
UPSERT_FOLLOW = """
INSERT INTO follows (follower_id, channel_id, following, changed_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (follower_id, channel_id) DO UPDATE SET following = EXCLUDED.following, changed_at = EXCLUDED.changed_at
"""


class PostgresReadModel(ReadModel):
    """ReadModel on one connection whose transaction the caller (the consumer) commits."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def video(self, video_id: str, owner_id: str) -> VideoRow:
        """The row, under this video's transaction lock; blank if the video is new."""
        await self._conn.execute(LOCK_VIDEO, (video_id,))
        async with self._conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(SELECT_VIDEO, (video_id,))
            found = await cur.fetchone()
        return VideoRow(**found) if found else VideoRow(video_id, owner_id)

    async def save_video(self, row: VideoRow) -> None:
        """Upsert the row and notify its new version."""
        await self._conn.execute(SAVE_VIDEO, (*astuple(row), CHANNEL, f"{row.video_id}:{row.version}"))

    async def like(self, video_id: str, user_id: str) -> LikeEdge:
        """The user's like edge on the video."""
        found = await (await self._conn.execute(SELECT_LIKE, (video_id, user_id))).fetchone()
        return LikeEdge(video_id, user_id, *found) if found else LikeEdge(video_id, user_id)

    async def save_like(self, edge: LikeEdge) -> None:
        """Upsert the edge."""
        await self._conn.execute(UPSERT_LIKE, (edge.video_id, edge.user_id, edge.liked, edge.version))

    async def add_comment(self, comment: Comment) -> None:
        """Insert once."""
        await self._conn.execute(INSERT_COMMENT, astuple(comment))

    async def drop_likes_and_comments(self, video_id: str) -> None:
        """Delete the video's likes and comments."""
        await self._conn.execute(DROP_LIKES, (video_id,))
        await self._conn.execute(DROP_COMMENTS, (video_id,))

    async def save_user(self, user_id: str, display_name: str) -> None:
        """Upsert the display name."""
        await self._conn.execute(UPSERT_USER, (user_id, display_name))

    async def follow(self, follower_id: str, channel_id: str) -> FollowEdge:
        """The follow edge, under its transaction lock (like `video`)."""
        await self._conn.execute(LOCK_FOLLOW, (follower_id, channel_id))
        found = await (await self._conn.execute(SELECT_FOLLOW, (follower_id, channel_id))).fetchone()
        return FollowEdge(follower_id, channel_id, *found) if found else FollowEdge(follower_id, channel_id)

    async def save_follow(self, edge: FollowEdge) -> None:
        """Upsert the edge."""
        await self._conn.execute(UPSERT_FOLLOW, (edge.follower_id, edge.channel_id, edge.following, edge.changed_at))
