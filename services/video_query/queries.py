"""The read use cases: who may see what, read-your-writes waits, and signed pages.

The servicer translates protobuf to these calls and back; the SQL lives behind the Views
port (adapters/views.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mesh.errors import NotFound
from services.video_query.domain import visible_to
from services.video_query.paging import PageTokens, page_size
from services.video_query.ports import Card, CommentCard, Page, Views
from services.video_query.waiting import MAX_WAIT_S, VersionWaiter, wait_budget

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page as the client gets it: items and the signed token of the next page."""

    items: list[T]
    next_page_token: str


@dataclass(frozen=True)
class VideoAnswer:
    """GetVideo's answer."""

    card: Card
    viewer_liked: bool
    stale: bool


@dataclass(frozen=True)
class CommentsAnswer:
    """ListComments' answer."""

    listing: Listing[CommentCard]
    stale: bool


class VideoQueries:
    """Everything VideoQueryService answers, independent of gRPC and of SQL."""

    def __init__(self, views: Views, tokens: PageTokens, waiter: VersionWaiter, *,
                 max_wait_s: float = MAX_WAIT_S, time_left: Callable[[], float | None] = lambda: None) -> None:
        self._views, self._tokens, self._waiter = views, tokens, waiter
        self._max_wait_s, self._time_left = max_wait_s, time_left

    async def get_video(self, video_id: str, min_version: int, viewer_id: str) -> VideoAnswer:
        """One video as the viewer may see it; see the proto for NOT_FOUND and UNAVAILABLE."""
        # Without min_version there is nothing to wait for: one query (the hottest read of the
        # mesh). With it, each look reads the card with its version, so the answer needs no
        # further query once the version is there (read-your-writes is on the lag's path).
        if min_version > 0:
            version, card = await self._seen_card(video_id, min_version)
        else:
            version, card = None, await self._views.card(video_id)
        if card is None or not visible_to(card.published, card.owner_id, viewer_id):
            raise self._missing(video_id, min_version, version)
        liked = bool(viewer_id) and await self._views.liked(video_id, viewer_id)
        return VideoAnswer(card, liked, stale=card.version < min_version)

    async def list_comments(self, video_id: str, min_version: int, size: int, token: str) -> CommentsAnswer:
        """A video's comments, oldest first, once the projection reached min_version (or the wait ended)."""
        scope = f"ListComments|{video_id}"
        after = self._tokens.read(token, scope)
        version = await self._reach(video_id, min_version)
        page = await self._views.comments(video_id, after, page_size(size))  # one read: shown, and its page
        if page is None:
            raise self._missing(video_id, min_version, version)
        return CommentsAnswer(self._listing(page, scope), stale=(version or 0) < min_version)

    async def list_videos(self, followed_by: str, size: int, token: str) -> Listing[Card]:
        """Published videos, newest first, optionally from followed channels only."""
        scope = f"ListVideos|{followed_by}"
        page = await self._views.feed(followed_by, self._tokens.read(token, scope), page_size(size))
        return self._listing(page, scope)

    async def list_channel_videos(self, channel_id: str, include_drafts: bool, size: int,
                                  token: str) -> Listing[Card]:
        """One channel's videos, newest first."""
        scope = f"ListChannelVideos|{channel_id}|{include_drafts}"
        after = self._tokens.read(token, scope)
        return self._listing(await self._views.channel(channel_id, include_drafts, after, page_size(size)), scope)

    async def trending(self, size: int, token: str) -> Listing[Card]:
        """Published videos, most trending first."""
        scope = "Trending"
        return self._listing(await self._views.trending(self._tokens.read(token, scope), page_size(size)), scope)

    async def search(self, query: str, size: int, token: str) -> Listing[Card]:
        """Published videos matching the words, best match first."""
        scope = f"SearchVideos|{query}"
        return self._listing(await self._views.search(query, self._tokens.read(token, scope), page_size(size)),
                             scope)

    async def _reach(self, video_id: str, min_version: int) -> int | None:
        """The projected version, after waiting (bounded) for min_version; None when none is
        asked, since nothing then depends on it (a page's comments: one query fewer)."""
        if min_version <= 0:
            return None
        budget = wait_budget(self._max_wait_s, self._time_left())
        return await self._waiter.wait(video_id, min_version, budget, lambda: self._views.seen_version(video_id))

    async def _seen_card(self, video_id: str, min_version: int) -> tuple[int | None, Card | None]:
        """The version and the card, after waiting (bounded) for min_version."""
        seen: tuple[int | None, Card | None] = (None, None)

        async def read() -> int | None:
            nonlocal seen
            seen = await self._views.seen_card(video_id)
            return seen[0]

        await self._waiter.wait(video_id, min_version, wait_budget(self._max_wait_s, self._time_left()), read)
        return seen

    @staticmethod
    def _missing(video_id: str, min_version: int, version: int | None) -> Exception:
        # NOT_FOUND also after waiting for min_version: the read side cannot tell a video whose
        # creation is still on its way from one that never was (a made-up id), and a made-up
        # id must not look like a server that is away (503). The message says which it may be.
        if min_version > 0 and version is None:
            return NotFound(f"video {video_id} not found: not in the read model after waiting for version "
                            f"{min_version} (it does not exist, or its creation is still on its way: retry)")
        return NotFound(f"video {video_id} not found")

    def _listing(self, page: Page[T], scope: str) -> Listing[T]:
        return Listing(page.items, self._tokens.issue(scope, page.next_key))
