"""What the projector and the queries need from storage, as abstract ports.

adapters/ implements them on Postgres; the unit tests subclass them in memory.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from services.video_query.domain import Comment, FollowEdge, LikeEdge, VideoRow

T = TypeVar("T")
# A keyset position: the sort values of the last item of a page (timestamps as epoch
# microseconds, so they survive JSON exactly).
Key = tuple[str | int | float, ...]


class ReadModel(abc.ABC):
    """The projector's view of the read tables, inside one event's transaction."""

    @abc.abstractmethod
    async def video(self, video_id: str, owner_id: str) -> VideoRow:
        """The video's row, locked until the transaction ends; a blank row if it is new."""

    @abc.abstractmethod
    async def save_video(self, row: VideoRow) -> None:
        """Store the row and tell waiting queries its new version."""

    @abc.abstractmethod
    async def like(self, video_id: str, user_id: str) -> LikeEdge:
        """Whether the user likes the video; a blank edge if never said."""

    @abc.abstractmethod
    async def save_like(self, edge: LikeEdge) -> None:
        """Store a like edge."""

    @abc.abstractmethod
    async def add_comment(self, comment: Comment) -> None:
        """Store a comment once; a comment already there is left as it is."""

    @abc.abstractmethod
    async def drop_likes_and_comments(self, video_id: str) -> None:
        """Forget a deleted video's likes and comments."""

    @abc.abstractmethod
    async def save_user(self, user_id: str, display_name: str) -> None:
        """Store (or overwrite) a user's display name."""

    @abc.abstractmethod
    async def follow(self, follower_id: str, channel_id: str) -> FollowEdge:
        """Whether the user follows the channel; a blank edge if never said."""

    @abc.abstractmethod
    async def save_follow(self, edge: FollowEdge) -> None:
        """Store a follow edge."""


@dataclass(frozen=True)
class Card:
    """A video as queries return it: the uploader's name and the counters joined in."""

    video_id: str
    version: int
    owner_id: str
    owner_display_name: str
    title: str
    description: str
    duration_seconds: int
    media_url: str
    tags: list[str]
    published: bool
    view_count: int
    like_count: int
    comment_count: int
    create_time: datetime
    publish_time: datetime | None


@dataclass(frozen=True)
class CommentCard:
    """A comment as queries return it, with its author's name."""

    comment_id: str
    video_id: str
    author_id: str
    author_display_name: str
    body: str
    create_time: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items of one page and the key to continue after them (None on the last page)."""

    items: list[T]
    next_key: Key | None


class Views(abc.ABC):
    """Read queries over the read tables. `after` is a key a previous page returned."""

    @abc.abstractmethod
    async def seen_version(self, video_id: str) -> int | None:
        """The video's projected version, or None if the projection has not seen it."""

    @abc.abstractmethod
    async def card(self, video_id: str) -> Card | None:
        """The video, drafts included; None if unknown or deleted."""

    @abc.abstractmethod
    async def seen_card(self, video_id: str) -> tuple[int | None, Card | None]:
        """`seen_version` and `card` in one read."""

    @abc.abstractmethod
    async def liked(self, video_id: str, user_id: str) -> bool:
        """Whether the user likes the video."""

    @abc.abstractmethod
    async def feed(self, followed_by: str, after: Key | None, size: int) -> Page[Card]:
        """Published videos, newest publication first; only followed channels if followed_by."""

    @abc.abstractmethod
    async def channel(self, channel_id: str, include_drafts: bool, after: Key | None, size: int) -> Page[Card]:
        """One channel's videos, newest first."""

    @abc.abstractmethod
    async def trending(self, after: Key | None, size: int) -> Page[Card]:
        """Published videos, highest trending score first."""

    @abc.abstractmethod
    async def search(self, query: str, after: Key | None, size: int) -> Page[Card]:
        """Published videos matching a full-text query, best match first."""

    @abc.abstractmethod
    async def comments(self, video_id: str, after: Key | None, size: int) -> Page[CommentCard] | None:
        """A video's comments, oldest first; None if the video is unknown, a draft never
        created or deleted (as `card` says), in the same read."""
