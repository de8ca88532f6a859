"""The projector's event handlers: one event in, the read model's rows set by domain rules.

Each handler runs inside the consumer's inbox transaction (mesh.consumer), with the read
model bound to that transaction; it reads the rows it touches, lets the domain decide
whether the event is newer than what they hold, and writes back only what changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1 import events_pb2 as users_events
from vidmesh.video.v1 import events_pb2 as video_events

from services.video_query.domain import Comment, VideoRow
from services.video_query.ports import ReadModel

Handler = Callable[[ReadModel, EventEnvelope, Any], Awaitable[None]]


def _time(stamp: Timestamp, has: bool, envelope: EventEnvelope) -> datetime:
    """The payload's time, else when the producer committed the change."""
    return (stamp if has else envelope.time).ToDatetime(tzinfo=UTC)


async def _change(model: ReadModel, video_id: str, owner_id: str, change: Callable[[VideoRow], bool]) -> VideoRow:
    row = await model.video(video_id, owner_id)
    if change(row):
        await model.save_video(row)
    return row


async def video_created(model: ReadModel, envelope: EventEnvelope, event: video_events.VideoCreated) -> None:
    """A draft: its details, duration, media and creation time."""
    created_at = _time(event.create_time, event.HasField("create_time"), envelope)

    def change(row: VideoRow) -> bool:
        created = row.create(event.version, event.duration_seconds, event.media_url, created_at)
        detailed = row.set_details(event.version, event.title, event.description, list(event.tags))
        return created or detailed

    await _change(model, event.video_id, event.owner_id, change)


async def video_updated(model: ReadModel, _: EventEnvelope, event: video_events.VideoUpdated) -> None:
    """New title, description and tags (all of them, so they overwrite)."""
    await _change(model, event.video_id, event.owner_id,
                  lambda row: row.set_details(event.version, event.title, event.description, list(event.tags)))


async def video_published(model: ReadModel, envelope: EventEnvelope, event: video_events.VideoPublished) -> None:
    """Visible to everyone from now on."""
    published_at = _time(event.publish_time, event.HasField("publish_time"), envelope)
    await _change(model, event.video_id, event.owner_id, lambda row: row.publish(event.version, published_at))


async def video_deleted(model: ReadModel, _: EventEnvelope, event: video_events.VideoDeleted) -> None:
    """Gone from every query, with its likes and comments."""
    row = await model.video(event.video_id, event.owner_id)
    if row.delete(event.version):
        await model.save_video(row)
        await model.drop_likes_and_comments(event.video_id)


async def video_viewed(model: ReadModel, _: EventEnvelope, event: video_events.VideoViewed) -> None:
    """A new view total."""
    await _change(model, event.video_id, event.owner_id, lambda row: row.set_views(event.version, event.view_count))


async def video_liked(model: ReadModel, _: EventEnvelope, event: video_events.VideoLiked) -> None:
    """A new like total, and this user likes the video."""
    await _set_like(model, event.video_id, event.owner_id, event.version, event.user_id, event.like_count, True)


async def video_unliked(model: ReadModel, _: EventEnvelope, event: video_events.VideoUnliked) -> None:
    """A new like total, and this user no longer likes the video."""
    await _set_like(model, event.video_id, event.owner_id, event.version, event.user_id, event.like_count, False)


async def _set_like(model: ReadModel, video_id: str, owner_id: str, version: int, user_id: str,
                    like_count: int, liked: bool) -> None:
    row = await _change(model, video_id, owner_id, lambda row: row.set_likes(version, like_count))
    if row.deleted:
        return
    edge = await model.like(video_id, user_id)
    if edge.set(version, liked):
        await model.save_like(edge)


async def comment_added(model: ReadModel, envelope: EventEnvelope, event: video_events.CommentAdded) -> None:
    """A new comment total, and the comment itself."""
    row = await _change(model, event.video_id, event.owner_id,
                        lambda row: row.set_comments(event.version, event.comment_count))
    if row.deleted:
        return
    added_at = _time(event.create_time, event.HasField("create_time"), envelope)
    await model.add_comment(Comment(event.comment_id, event.video_id, event.author_id, event.body, added_at))


async def user_registered(model: ReadModel, _: EventEnvelope, event: users_events.UserRegistered) -> None:
    """The display name shown next to the user's videos and comments."""
    await model.save_user(event.user_id, event.display_name)


async def user_followed(model: ReadModel, envelope: EventEnvelope, event: users_events.UserFollowed) -> None:
    """The follower's feed now includes the channel."""
    await _set_follow(model, envelope, event.follower_id, event.channel_id, True)


async def user_unfollowed(model: ReadModel, envelope: EventEnvelope, event: users_events.UserUnfollowed) -> None:
    """The follower's feed no longer includes the channel."""
    await _set_follow(model, envelope, event.follower_id, event.channel_id, False)


async def _set_follow(model: ReadModel, envelope: EventEnvelope, follower_id: str, channel_id: str,
                      following: bool) -> None:
    edge = await model.follow(follower_id, channel_id)
    if edge.set(following, envelope.time.ToDatetime(tzinfo=UTC)):
        await model.save_follow(edge)


HANDLERS: dict[type[Any], Handler] = {
    video_events.VideoCreated: video_created,
    video_events.VideoUpdated: video_updated,
    video_events.VideoPublished: video_published,
    video_events.VideoDeleted: video_deleted,
    video_events.VideoViewed: video_viewed,
    video_events.VideoLiked: video_liked,
    video_events.VideoUnliked: video_unliked,
    video_events.CommentAdded: comment_added,
    users_events.UserRegistered: user_registered,
    users_events.UserFollowed: user_followed,
    users_events.UserUnfollowed: user_unfollowed,
}
