"""Builders of video.v1 and users.v1 payloads for the integration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from vidmesh.users.v1 import events_pb2 as users_events
from vidmesh.video.v1 import events_pb2 as ev

BASE = datetime.now(UTC)


def stamp(moment: datetime | None = None, seconds: float = 0) -> Timestamp:
    result = Timestamp()
    result.FromDatetime((moment or BASE) + timedelta(seconds=seconds))
    return result


def created(video_id: str, owner_id: str, title: str = "A video", description: str = "about things",
            tags: tuple[str, ...] = ("misc",), at: float = 0) -> ev.VideoCreated:
    return ev.VideoCreated(video_id=video_id, owner_id=owner_id, version=1, title=title, description=description,
                           duration_seconds=90, tags=list(tags), media_url=f"https://media.example/{video_id}",
                           create_time=stamp(seconds=at))


def published(video_id: str, owner_id: str, version: int = 2, when: datetime | None = None,
              at: float = 0) -> ev.VideoPublished:
    return ev.VideoPublished(video_id=video_id, owner_id=owner_id, version=version, title="t",
                             publish_time=stamp(when, seconds=at))


def updated(video_id: str, owner_id: str, version: int, title: str) -> ev.VideoUpdated:
    return ev.VideoUpdated(video_id=video_id, owner_id=owner_id, version=version, title=title,
                           description="updated", tags=["updated"])


def liked(video_id: str, owner_id: str, version: int, user_id: str, count: int) -> ev.VideoLiked:
    return ev.VideoLiked(video_id=video_id, owner_id=owner_id, version=version, user_id=user_id, like_count=count)


def unliked(video_id: str, owner_id: str, version: int, user_id: str, count: int) -> ev.VideoUnliked:
    return ev.VideoUnliked(video_id=video_id, owner_id=owner_id, version=version, user_id=user_id, like_count=count)


def viewed(video_id: str, owner_id: str, version: int, count: int) -> ev.VideoViewed:
    return ev.VideoViewed(video_id=video_id, owner_id=owner_id, version=version, view_count=count)


def commented(video_id: str, owner_id: str, version: int, comment_id: str, author_id: str, body: str,
              count: int, at: float = 0) -> ev.CommentAdded:
    return ev.CommentAdded(video_id=video_id, owner_id=owner_id, version=version, comment_id=comment_id,
                           author_id=author_id, body=body, comment_count=count, create_time=stamp(seconds=at))


def deleted(video_id: str, owner_id: str, version: int) -> ev.VideoDeleted:
    return ev.VideoDeleted(video_id=video_id, owner_id=owner_id, version=version)


def followed(follower_id: str, channel_id: str, count: int = 1) -> users_events.UserFollowed:
    return users_events.UserFollowed(follower_id=follower_id, channel_id=channel_id, follower_display_name="F",
                                     follower_count=count)


def unfollowed(follower_id: str, channel_id: str, count: int = 0) -> users_events.UserUnfollowed:
    return users_events.UserUnfollowed(follower_id=follower_id, channel_id=channel_id, follower_count=count)
