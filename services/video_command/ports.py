"""What the handlers need from storage, as abstract ports.

The Postgres adapters implement them for the service; unit tests subclass them with
in-memory fakes. One UnitOfWork is one transaction: nothing is kept unless `commit()` is
called, and the events published through it are kept (in the outbox) with the state.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from mesh.idempotency import RequestLog
from services.video_command.domain import Comment, Video, VideoEvent


class Videos(abc.ABC):
    """The video aggregates and what hangs off them (likes, comments)."""

    @abc.abstractmethod
    async def add(self, video: Video) -> None:
        """Store a new video."""

    @abc.abstractmethod
    async def get(self, video_id: str, *, lock: bool = False) -> Video | None:
        """The video, or None; `lock` holds it against other writers until the transaction ends."""

    @abc.abstractmethod
    async def save(self, video: Video, expected_version: int) -> None:
        """Write the video's new state if its stored version is still `expected_version`;
        raise mesh.errors.Conflict otherwise (another command changed it meanwhile)."""

    @abc.abstractmethod
    async def is_liked(self, video_id: str, user_id: str) -> bool:
        """Whether the user likes the video."""

    @abc.abstractmethod
    async def set_liked(self, video_id: str, user_id: str, liked: bool) -> None:
        """Record or remove the user's like."""

    @abc.abstractmethod
    async def add_comment(self, video_id: str, comment: Comment) -> None:
        """Store a comment."""

    @abc.abstractmethod
    async def remove_likes_and_comments(self, video_id: str) -> None:
        """Drop what a deleted video takes with it."""

    @abc.abstractmethod
    async def count_view(self, video_id: str, request_id: str, fingerprint: str) -> Video | None:
        """The hot path in one step: if the video is published and `request_id` is new, count
        a view, bump the version, claim the request_id with its response (as
        mesh.idempotency's log does), and return the video after.
        None when nothing was counted (unknown, unpublished or deleted video, or a seen
        request_id); the caller then rolls back and finds out which."""


class UnitOfWork(abc.ABC):
    """One transaction over videos, requests and the outbox; rolls back unless committed."""

    videos: Videos
    requests: RequestLog

    @abc.abstractmethod
    async def publish(self, event: VideoEvent) -> None:
        """Queue the event to go out with this transaction (the outbox)."""

    @abc.abstractmethod
    async def commit(self) -> None:
        """Keep everything done in this unit of work."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Throw away everything done in this unit of work."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.rollback()
