"""Domain messages to the web client's messages: what each web card and page part shows."""

from __future__ import annotations

from collections.abc import Iterable

from vidmesh.notification.v1 import notification_pb2
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.webbff.v1 import web_bff_service_pb2 as web


def card(video: query.VideoCard) -> web.VideoCard:
    """A video as a tile in a list."""
    tile = web.VideoCard(
        video_id=video.video_id,
        title=video.title,
        owner_id=video.owner_id,
        owner_display_name=video.owner_display_name,
        duration_seconds=video.duration_seconds,
        media_url=video.media_url,
        tags=video.tags,
        published=video.state == query.VIDEO_STATE_PUBLISHED,
        view_count=video.view_count,
        like_count=video.like_count,
        comment_count=video.comment_count,
    )
    if video.HasField("create_time"):
        tile.create_time.CopyFrom(video.create_time)
    if video.HasField("publish_time"):
        tile.publish_time.CopyFrom(video.publish_time)
    return tile


def cards(videos: Iterable[query.VideoCard] | None, *, excluding: str = "",
          limit: int | None = None) -> list[web.VideoCard]:
    """Tiles for a list of videos (none when the part was not fetched)."""
    kept = [video for video in videos or () if video.video_id != excluding]
    return [card(video) for video in kept[:limit]]


def unique(videos: Iterable[query.VideoCard]) -> list[query.VideoCard]:
    """The videos without repeats, each where it first appears."""
    first: dict[str, query.VideoCard] = {}
    for video in videos:
        first.setdefault(video.video_id, video)
    return list(first.values())


def detail(video: query.VideoCard) -> web.VideoDetail:
    """The video shown on its own page."""
    return web.VideoDetail(card=card(video), description=video.description, version=video.version)


def channel(user: users.User) -> web.Channel:
    """A user's public profile, seen as a channel."""
    return web.Channel(user_id=user.user_id, display_name=user.display_name, follower_count=user.follower_count)


def comment(entry: query.Comment) -> web.Comment:
    """One comment under a video."""
    shown = web.Comment(comment_id=entry.comment_id, author_id=entry.author_id,
                        author_display_name=entry.author_display_name, body=entry.body)
    if entry.HasField("create_time"):
        shown.create_time.CopyFrom(entry.create_time)
    return shown


def notification(entry: notification_pb2.Notification) -> web.Notification:
    """One entry of the viewer's inbox."""
    shown = web.Notification(notification_id=entry.notification_id, kind=entry.kind, text=entry.text,
                             video_id=entry.video_id, actor_id=entry.actor_id, read=entry.read)
    if entry.HasField("create_time"):
        shown.create_time.CopyFrom(entry.create_time)
    return shown
