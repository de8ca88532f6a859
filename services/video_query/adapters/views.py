"""The read queries over `video_read`, paged by keyset (never OFFSET).

Every list orders by its sort value and the id as a tie-breaker, and continues strictly
after the last row's (value, id), so a page is an index range scan however deep it is and
rows added meanwhile neither repeat nor vanish. SQL text is built only from the constant
fragments below; every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from mesh.errors import InvalidArgument
from services.video_query.paging import FIELD
from services.video_query.ports import Card, CommentCard, Key, Page, Views

EPOCH = datetime.fromtimestamp(0, UTC)

CARD = """
SELECT v.video_id::text, v.version, v.owner_id::text, coalesce(u.display_name, '') AS owner_display_name,
       v.title, v.description, v.duration_seconds, v.media_url, v.tags, v.published, v.view_count,
       v.like_count, v.comment_count, v.create_time, v.publish_time"""
FROM = " FROM videos v LEFT JOIN users u ON u.user_id = v.owner_id"
FOLLOWED = (" AND v.owner_id IN (SELECT channel_id FROM follows"
            " WHERE follower_id = %(followed_by)s AND following)")
FEED = CARD + FROM + " WHERE v.listed"
FEED_ORDER = " ORDER BY v.publish_time DESC, v.video_id DESC LIMIT %(limit)s"
CHANNEL = CARD + FROM + " WHERE v.owner_id = %(channel)s AND v.created AND NOT v.deleted"
CHANNEL_ORDER = " ORDER BY v.create_time DESC, v.video_id DESC LIMIT %(limit)s"
TRENDING = CARD + ", v.trending_score AS rank" + FROM + " WHERE v.listed"
TRENDING_ORDER = " ORDER BY v.trending_score DESC, v.video_id DESC LIMIT %(limit)s"
RANK = "ts_rank(v.search, q)::float8"  # float8: the value must round-trip through a token exactly
SEARCH = (CARD + f", {RANK} AS rank" + FROM + ", websearch_to_tsquery('english', %(query)s) AS q"
          " WHERE v.listed AND v.search @@ q")
SEARCH_ORDER = " ORDER BY rank DESC, v.video_id DESC LIMIT %(limit)s"
AFTER = " AND ({}, v.video_id) < (%(after_value)s, %(after_id)s)"
# A shown video's comments and whether it is shown, in one read: no row at all when it is
# not, one row of NULLs when it has no comments (yet, or after the key). The page is the
# lateral subquery's index range scan; the outer ORDER BY sorts that page only.
COMMENTS = """
SELECT c.comment_id::text, c.video_id::text, c.author_id::text, coalesce(u.display_name, '') AS author_display_name,
       c.body, c.create_time
  FROM videos v
  LEFT JOIN LATERAL (SELECT * FROM comments c WHERE c.video_id = v.video_id{after}
                      ORDER BY c.create_time, c.comment_id LIMIT %(limit)s) c ON true
  LEFT JOIN users u ON u.user_id = c.author_id
 WHERE v.video_id = %(video_id)s AND v.created AND NOT v.deleted
 ORDER BY c.create_time, c.comment_id"""
COMMENTS_AFTER = " AND (c.create_time, c.comment_id) > (%(after_value)s, %(after_id)s)"
COMMENTS_FIRST, COMMENTS_PAGE = COMMENTS.format(after=""), COMMENTS.format(after=COMMENTS_AFTER)
SEEN_VERSION = "SELECT version FROM videos WHERE video_id = %s AND (created OR deleted)"
SEEN_CARD = (CARD + ", v.created AND NOT v.deleted AS shown" + FROM +
             " WHERE v.video_id = %(video_id)s AND (v.created OR v.deleted)")
ONE_CARD = CARD + FROM + " WHERE v.video_id = %(video_id)s AND v.created AND NOT v.deleted"
LIKED = "SELECT liked FROM likes WHERE video_id = %s AND user_id = %s"


def micros(moment: datetime) -> int:
    """A timestamp as integer microseconds since the epoch (exact, unlike a float)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The inverse of micros()."""
    return EPOCH + timedelta(microseconds=value)


class PostgresViews(Views):
    """Views on a connection pool (autocommit reads)."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool

    async def seen_version(self, video_id: str) -> int | None:
        """The projected version, or None."""
        rows = await self._rows(SEEN_VERSION, (video_id,))
        return int(rows[0]["version"]) if rows else None

    async def card(self, video_id: str) -> Card | None:
        """One existing video, drafts included."""
        rows = await self._rows(ONE_CARD, {"video_id": video_id})
        return Card(**rows[0]) if rows else None

    async def seen_card(self, video_id: str) -> tuple[int | None, Card | None]:
        """The projected version and the card (None for a deleted video), in one query."""
        rows = await self._rows(SEEN_CARD, {"video_id": video_id})
        if not rows:
            return None, None
        shown = rows[0].pop("shown")
        return int(rows[0]["version"]), Card(**rows[0]) if shown else None

    async def liked(self, video_id: str, user_id: str) -> bool:
        """Whether the user likes the video."""
        rows = await self._rows(LIKED, (video_id, user_id))
        return bool(rows and rows[0]["liked"])

    async def feed(self, followed_by: str, after: Key | None, size: int) -> Page[Card]:
        """Newest publication first."""
        query = FEED + (FOLLOWED if followed_by else "")
        params: dict[str, Any] = {"followed_by": followed_by or None}
        return await self._cards(query, "v.publish_time", FEED_ORDER, params, _time_key(after), size,
                                 lambda card: micros(card.publish_time or EPOCH))

    async def channel(self, channel_id: str, include_drafts: bool, after: Key | None, size: int) -> Page[Card]:
        """Newest creation first."""
        query = CHANNEL + ("" if include_drafts else " AND v.published")
        return await self._cards(query, "v.create_time", CHANNEL_ORDER, {"channel": channel_id},
                                 _time_key(after), size, lambda card: micros(card.create_time))

    async def trending(self, after: Key | None, size: int) -> Page[Card]:
        """Highest score first (the score is selected alongside the card, for the key)."""
        return await self._ranked(TRENDING, "v.trending_score", TRENDING_ORDER, {}, after, size)

    async def search(self, query: str, after: Key | None, size: int) -> Page[Card]:
        """Best rank first."""
        return await self._ranked(SEARCH, RANK, SEARCH_ORDER, {"query": query}, after, size)

    async def comments(self, video_id: str, after: Key | None, size: int) -> Page[CommentCard] | None:
        """Oldest first; None if the video is not shown, in the same query."""
        params: dict[str, Any] = {"video_id": video_id, "limit": size + 1}
        key = _time_key(after)
        if key is not None:
            params["after_value"], params["after_id"] = key
        rows = await self._rows(COMMENTS_PAGE if key else COMMENTS_FIRST, params)
        if not rows:
            return None
        items = [CommentCard(**row) for row in rows[:size] if row["comment_id"] is not None]
        more = len(rows) > size
        return Page(items, (micros(items[-1].create_time), items[-1].comment_id) if more else None)

    async def _cards(self, query: LiteralString, column: LiteralString, order: LiteralString,
                     params: dict[str, Any], after: tuple[Any, str] | None, size: int,
                     sort_value: Callable[[Card], int]) -> Page[Card]:
        if after is not None:
            query += AFTER.format(column)
            params["after_value"], params["after_id"] = after
        rows = await self._rows(query + order, {**params, "limit": size + 1})
        items = [Card(**row) for row in rows[:size]]
        more = len(rows) > size
        return Page(items, (sort_value(items[-1]), items[-1].video_id) if more else None)

    async def _ranked(self, query: LiteralString, column: LiteralString, order: LiteralString,
                      params: dict[str, Any], after: Key | None, size: int) -> Page[Card]:
        if after is not None:
            rank, video_id = _key(after, (float, int), str)
            query += AFTER.format(column)
            params["after_value"], params["after_id"] = float(rank), video_id
        rows = await self._rows(query + order, {**params, "limit": size + 1})
        ranks = [row.pop("rank") for row in rows]
        items = [Card(**row) for row in rows[:size]]
        more = len(rows) > size
        return Page(items, (ranks[size - 1], items[-1].video_id) if more else None)

    async def _rows(self, query: LiteralString, params: Any) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()


def _time_key(after: Key | None) -> tuple[datetime, str] | None:
    if after is None:
        return None
    value, video_id = _key(after, (int,), str)
    return from_micros(int(value)), video_id


def _key(after: Key, first: tuple[type, ...], second: type) -> tuple[Any, Any]:
    # The token's signature was checked, so a wrong shape means a token from another
    # version of this service; the client restarts from the first page.
    if len(after) != 2 or not isinstance(after[0], first) or not isinstance(after[1], second):
        raise InvalidArgument(FIELD, "page token does not fit this query")
    return after[0], after[1]
