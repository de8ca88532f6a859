"""The video aggregate and its rules: plain Python, no protobuf, no SQL.

A Video is immutable: every command method checks its rules and returns the event that
records the change, whose `video` is the aggregate after it (version bumped by one), or
None when the command changes nothing (a second like, publishing a published video).
Owner commands check, in order: the video is live, the actor owns it, the version the
client read is current. Publish and delete are idempotent as the contract says: when their
effect is in place already (published, deleted) they change nothing, whatever version the
client read; an update always insists on the version, since the client edits what it read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from mesh.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied


class State(StrEnum):
    """Where a video is in its life: drafts are private, deleted ones are gone."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DELETED = "deleted"


@dataclass(frozen=True)
class Comment:
    """One comment on a video."""

    id: str
    author_id: str
    body: str
    create_time: datetime


@dataclass(frozen=True)
class Video:
    """The video aggregate: editable fields, lifecycle state, counters and version."""

    id: str
    owner_id: str
    title: str
    description: str
    duration_seconds: int
    tags: tuple[str, ...]
    media_url: str
    state: State
    version: int
    create_time: datetime
    publish_time: datetime | None = None
    view_count: int = 0
    like_count: int = 0
    comment_count: int = 0

    @classmethod
    def create(cls, video_id: str, owner_id: str, title: str, description: str, duration_seconds: int,
               tags: tuple[str, ...], media_url: str, now: datetime) -> VideoCreated:
        """A new draft owned by `owner_id`, at version 1."""
        video = cls(video_id, owner_id, title, description, duration_seconds, tags, media_url,
                    State.DRAFT, version=1, create_time=now)
        return VideoCreated(video)

    def update(self, actor_id: str, expected_version: int, title: str | None = None,
               description: str | None = None, tags: tuple[str, ...] | None = None) -> VideoUpdated | None:
        """Change the fields that are set; None if they already hold those values."""
        if title is None and description is None and tags is None:
            raise InvalidArgument("", "set at least one of title, description or tags")
        self._check_live()
        self._check_owner(actor_id)
        self._check_version(expected_version)
        changed = replace(self, title=self.title if title is None else title,
                          description=self.description if description is None else description,
                          tags=self.tags if tags is None else tags)
        return None if changed == self else VideoUpdated(changed._bumped())

    def publish(self, actor_id: str, expected_version: int, now: datetime) -> VideoPublished | None:
        """Make a draft visible to everyone; None if it is published already."""
        self._check_live()
        self._check_owner(actor_id)
        if self.state is State.PUBLISHED:
            return None
        self._check_version(expected_version)
        return VideoPublished(replace(self, state=State.PUBLISHED, publish_time=now)._bumped())

    def delete(self, actor_id: str, expected_version: int) -> VideoDeleted | None:
        """Delete the video with its likes and comments; None if it is deleted already."""
        self._check_owner(actor_id)
        if self.state is State.DELETED:
            return None
        self._check_version(expected_version)
        return VideoDeleted(replace(self, state=State.DELETED, like_count=0, comment_count=0)._bumped())

    def like(self, user_id: str, already_liked: bool) -> VideoLiked | None:
        """Add the user's like to a published video; None if they like it already."""
        self._check_published()
        if already_liked:
            return None
        return VideoLiked(replace(self, like_count=self.like_count + 1)._bumped(), user_id)

    def unlike(self, user_id: str, liked: bool) -> VideoUnliked | None:
        """Remove the user's like; None if they did not like it."""
        self._check_live()
        if not liked:
            return None
        return VideoUnliked(replace(self, like_count=max(0, self.like_count - 1))._bumped(), user_id)

    def view(self, viewer_id: str) -> VideoViewed:
        """Count one view of a published video (anonymous when `viewer_id` is empty)."""
        self._check_published()
        return VideoViewed(replace(self, view_count=self.view_count + 1)._bumped(), viewer_id)

    def add_comment(self, comment: Comment) -> CommentAdded:
        """Add a comment to a published video."""
        self._check_published()
        return CommentAdded(replace(self, comment_count=self.comment_count + 1)._bumped(), comment)

    def _bumped(self) -> Video:
        return replace(self, version=self.version + 1)

    def _check_live(self) -> None:
        if self.state is State.DELETED:
            raise NotFound(f"video {self.id} not found")

    def _check_published(self) -> None:
        self._check_live()
        if self.state is not State.PUBLISHED:
            raise FailedPrecondition(f"video {self.id} is not published")

    def _check_owner(self, actor_id: str) -> None:
        if actor_id != self.owner_id:
            raise PermissionDenied(f"only the owner may change video {self.id}")

    def _check_version(self, expected_version: int) -> None:
        """0 means the client did not pin a version."""
        if expected_version and expected_version != self.version:
            raise Conflict(f"video {self.id} is at version {self.version}, not {expected_version}")


def live(video: Video | None, video_id: str) -> Video:
    """The video, or NotFound if it does not exist (a deleted one is checked by each rule)."""
    if video is None:
        raise NotFound(f"video {video_id} not found")
    return video


@dataclass(frozen=True)
class VideoEvent:
    """Something that happened to a video; `video` is its whole state right after."""

    video: Video


@dataclass(frozen=True)
class VideoCreated(VideoEvent):
    """A draft was created."""


@dataclass(frozen=True)
class VideoUpdated(VideoEvent):
    """Title, description or tags changed."""


@dataclass(frozen=True)
class VideoPublished(VideoEvent):
    """A draft became visible to everyone."""


@dataclass(frozen=True)
class VideoDeleted(VideoEvent):
    """The video was deleted with its likes and comments."""


@dataclass(frozen=True)
class VideoLiked(VideoEvent):
    """A user started liking the video."""

    user_id: str


@dataclass(frozen=True)
class VideoUnliked(VideoEvent):
    """A user stopped liking the video."""

    user_id: str


@dataclass(frozen=True)
class VideoViewed(VideoEvent):
    """The video was watched once more."""

    viewer_id: str


@dataclass(frozen=True)
class CommentAdded(VideoEvent):
    """A comment was added."""

    comment: Comment
