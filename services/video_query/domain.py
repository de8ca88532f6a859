"""The projection rules of the video read model: pure Python, no protobuf, no SQL.

Video events carry the video's version and full values (counters as totals), so the read
model SETs what an event carries, and only when the event is newer than what set those
values last. Each group of values keeps its own version:

    details   title, description, tags        VideoCreated, VideoUpdated
    created   duration, media, create time    VideoCreated
    publish   published, publish time         VideoPublished
    views     view_count                      VideoViewed
    likes     like_count                      VideoLiked, VideoUnliked
    comments  comment_count                   CommentAdded

so a late event still sets the values nobody newer has set, and the outcome does not
depend on the order or the number of deliveries. A deletion is final: the row becomes a
tombstone and every later-arriving event of the video is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Trending is a "hot" score: log10 of the engagement plus the publication time in units of
# TRENDING_HALF_DAY, so a video published 12 hours later needs a tenth of the engagement to
# rank equally. It only changes when the video's counters change, so it can be stored and
# indexed, and ranking older videos lower needs no periodic recomputation.
TRENDING_HALF_DAY_S = 43_200.0
LIKE_WEIGHT, COMMENT_WEIGHT, VIEW_WEIGHT = 4, 2, 1


def trending_score(views: int, likes: int, comments: int, published_at: datetime | None) -> float:
    """Rank of a video among the trending ones: higher is hotter; 0 for an unpublished one."""
    if published_at is None:
        return 0.0
    engagement = VIEW_WEIGHT * views + LIKE_WEIGHT * likes + COMMENT_WEIGHT * comments
    return math.log10(max(engagement, 1)) + published_at.timestamp() / TRENDING_HALF_DAY_S


def visible_to(published: bool, owner_id: str, viewer_id: str) -> bool:
    """Whether a viewer ("" = anonymous) may see an existing video: drafts only to their owner."""
    return published or (bool(viewer_id) and viewer_id == owner_id)


@dataclass
class VideoRow:
    """One video as the read model holds it, with the version of each group of values."""

    video_id: str
    owner_id: str
    version: int = 0
    created: bool = False
    title: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    details_version: int = 0
    duration_seconds: int = 0
    media_url: str = ""
    create_time: datetime | None = None
    published: bool = False
    publish_time: datetime | None = None
    publish_version: int = 0
    view_count: int = 0
    view_version: int = 0
    like_count: int = 0
    like_version: int = 0
    comment_count: int = 0
    comment_version: int = 0
    deleted: bool = False
    trending_score: float = 0.0

    def create(self, version: int, duration_seconds: int, media_url: str, create_time: datetime) -> bool:
        """VideoCreated's own values (its title etc. go through `set_details`)."""
        if self.deleted or self.created:
            return False
        self.created, self.duration_seconds, self.media_url = True, duration_seconds, media_url
        self.create_time = create_time
        return self._seen(version)

    def set_details(self, version: int, title: str, description: str, tags: list[str]) -> bool:
        """Title, description and tags as of `version` (VideoCreated or VideoUpdated)."""
        if not self._newer(version, self.details_version):
            return False
        self.title, self.description, self.tags = title, description, list(tags)
        self.details_version = version
        return self._seen(version)

    def publish(self, version: int, publish_time: datetime) -> bool:
        """VideoPublished: visible to everyone from now on."""
        if not self._newer(version, self.publish_version):
            return False
        self.published, self.publish_time, self.publish_version = True, publish_time, version
        return self._seen(version)

    def set_views(self, version: int, view_count: int) -> bool:
        """The view total as of `version`."""
        if not self._newer(version, self.view_version):
            return False
        self.view_count, self.view_version = view_count, version
        return self._seen(version)

    def set_likes(self, version: int, like_count: int) -> bool:
        """The like total as of `version`."""
        if not self._newer(version, self.like_version):
            return False
        self.like_count, self.like_version = like_count, version
        return self._seen(version)

    def set_comments(self, version: int, comment_count: int) -> bool:
        """The comment total as of `version`."""
        if not self._newer(version, self.comment_version):
            return False
        self.comment_count, self.comment_version = comment_count, version
        return self._seen(version)

    def delete(self, version: int) -> bool:
        """VideoDeleted: the row becomes a tombstone holding only its id, owner and version."""
        if self.deleted:
            return False
        tombstone = VideoRow(self.video_id, self.owner_id, version=version, deleted=True)
        self.__dict__.update(tombstone.__dict__)
        return True

    def _newer(self, version: int, applied: int) -> bool:
        return not self.deleted and version > applied

    def _seen(self, version: int) -> bool:
        self.version = max(self.version, version)
        self.trending_score = trending_score(self.view_count, self.like_count, self.comment_count,
                                             self.publish_time)
        return True


@dataclass
class LikeEdge:
    """Whether one user likes one video, as of the video version that said so."""

    video_id: str
    user_id: str
    liked: bool = False
    version: int = 0

    def set(self, version: int, liked: bool) -> bool:
        """Apply a VideoLiked/VideoUnliked of this user if it is newer than the last one."""
        if version <= self.version:
            return False
        self.liked, self.version = liked, version
        return True


EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass
class FollowEdge:
    """Whether a user follows a channel, as of the event time that said so.

    Follow events carry no version (the users service does not version channels), so the
    newest envelope time wins; an equal time is taken as newer, since on one partition a
    redelivery or an in-order successor is what brings an equal time.
    """

    follower_id: str
    channel_id: str
    following: bool = False
    changed_at: datetime = EPOCH

    def set(self, following: bool, at: datetime) -> bool:
        """Apply a UserFollowed/UserUnfollowed made at `at` unless a newer one was applied."""
        if at < self.changed_at:
            return False
        self.following, self.changed_at = following, at
        return True


@dataclass(frozen=True)
class Comment:
    """A comment as the read model holds it (comments never change once added)."""

    comment_id: str
    video_id: str
    author_id: str
    body: str
    create_time: datetime
