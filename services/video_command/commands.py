"""Commands (orders to the write side) and their results, free of protobuf.

Every command carries the client's request_id; a result is what a replay of that
request_id returns, so results are plain values that survive a trip through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CreateVideo:
    request_id: str
    actor_id: str
    title: str
    description: str
    duration_seconds: int
    tags: tuple[str, ...]
    media_url: str


@dataclass(frozen=True)
class UpdateVideo:
    """Fields left None keep their value."""

    request_id: str
    actor_id: str
    video_id: str
    expected_version: int
    title: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PublishVideo:
    """expected_version 0 skips the version check."""

    request_id: str
    actor_id: str
    video_id: str
    expected_version: int = 0


@dataclass(frozen=True)
class DeleteVideo:
    """expected_version 0 skips the version check."""

    request_id: str
    actor_id: str
    video_id: str
    expected_version: int = 0


@dataclass(frozen=True)
class LikeVideo:
    request_id: str
    actor_id: str
    video_id: str


@dataclass(frozen=True)
class UnlikeVideo:
    request_id: str
    actor_id: str
    video_id: str


@dataclass(frozen=True)
class RecordView:
    """actor_id is empty for an anonymous viewer."""

    request_id: str
    actor_id: str
    video_id: str


@dataclass(frozen=True)
class AddComment:
    request_id: str
    actor_id: str
    video_id: str
    body: str


Command = (CreateVideo | UpdateVideo | PublishVideo | DeleteVideo | LikeVideo | UnlikeVideo | RecordView
           | AddComment)


@dataclass(frozen=True)
class Created:
    video_id: str
    version: int


@dataclass(frozen=True)
class Versioned:
    """The video's version after an update, publish or delete."""

    version: int


@dataclass(frozen=True)
class Likes:
    version: int
    like_count: int


@dataclass(frozen=True)
class Views:
    version: int
    view_count: int


@dataclass(frozen=True)
class Commented:
    comment_id: str
    version: int
