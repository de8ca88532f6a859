"""The notification rules: who is told about what, in which words. No transport, no storage.

Every rule takes the id of the event that caused it, and each notification's id is derived
from (event id, recipient): however often an event is applied, it names the same
notifications, so storing them is idempotent by construction.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mesh.errors import InvalidArgument

# Fixed forever: changing it would give a redelivered event new notification ids.
NAMESPACE = uuid.UUID("5b0c6f7e-3f0e-4b8e-9a51-6c1d2f0a9e47")
MAX_TEXT = 500  # NotificationCreated.text's limit
SOMEONE = "Someone"  # the actor's name when this service has not heard it yet


class Kind(enum.Enum):
    """What a notification is about (stored as the value)."""

    VIDEO_PUBLISHED = "video_published"
    VIDEO_LIKED = "video_liked"
    COMMENT_ADDED = "comment_added"
    NEW_FOLLOWER = "new_follower"


@dataclass(frozen=True)
class NewNotification:
    """A notification to add to an inbox, with the event that caused it."""

    notification_id: str
    source_event_id: str
    recipient_id: str
    kind: Kind
    actor_id: str
    text: str
    video_id: str = ""


@dataclass(frozen=True)
class Notification:
    """A notification as the inbox shows it."""

    notification_id: str
    recipient_id: str
    kind: Kind
    video_id: str
    actor_id: str
    text: str
    read: bool
    create_time: datetime


@dataclass(frozen=True, kw_only=True)
class Publication:
    """A video a channel published, kept so that a follow which reaches this service after
    the publication it preceded still tells the follower (the two travel on different topics)."""

    video_id: str
    owner_id: str
    title: str
    event_id: str  # the VideoPublished event: its notifications' ids derive from it
    published_at: datetime


@dataclass(frozen=True)
class MarkRead:
    """Mark some (`notification_ids`) or all (`all`) of a user's notifications read, once per request_id."""

    request_id: str
    user_id: str
    notification_ids: tuple[str, ...] = ()
    all: bool = False

    def __post_init__(self) -> None:
        if self.all == bool(self.notification_ids):
            raise InvalidArgument("notification_ids", "set exactly one of notification_ids or all")


def notification_id(event_id: str, recipient_id: str) -> str:
    """The id of the notification an event makes for a recipient: the same on every redelivery."""
    return str(uuid.uuid5(NAMESPACE, f"{event_id}/{recipient_id}"))


def video_published(event_id: str, *, video_id: str, owner_id: str, owner_name: str | None, title: str,
                    followers: Iterable[str]) -> list[NewNotification]:
    """One notification per follower of the uploader (never the uploader themself)."""
    text = f"{owner_name or SOMEONE} published a new video: {title}"
    recipients = dict.fromkeys(f for f in followers if f != owner_id)  # unique, in order
    return [_new(event_id, r, Kind.VIDEO_PUBLISHED, owner_id, text, video_id) for r in recipients]


def comment_added(event_id: str, *, video_id: str, owner_id: str, author_id: str, author_name: str | None,
                  title: str) -> list[NewNotification]:
    """The video's owner hears of a comment, unless they wrote it."""
    if author_id == owner_id:
        return []
    text = f"{author_name or SOMEONE} commented on your video: {title}"
    return [_new(event_id, owner_id, Kind.COMMENT_ADDED, author_id, text, video_id)]


def video_liked(event_id: str, *, video_id: str, owner_id: str, user_id: str, user_name: str | None,
                title: str) -> list[NewNotification]:
    """The video's owner hears of a like, unless they liked it themself."""
    if user_id == owner_id:
        return []
    text = f"{user_name or SOMEONE} liked your video: {title}"
    return [_new(event_id, owner_id, Kind.VIDEO_LIKED, user_id, text, video_id)]


def new_follower(event_id: str, *, channel_id: str, follower_id: str,
                 follower_name: str | None) -> list[NewNotification]:
    """The channel's owner hears of a new follower (a channel id is its owner's user id)."""
    if follower_id == channel_id:
        return []
    text = f"{follower_name or SOMEONE} started following your channel"
    return [_new(event_id, channel_id, Kind.NEW_FOLLOWER, follower_id, text)]


def _new(event_id: str, recipient_id: str, kind: Kind, actor_id: str, text: str,
         video_id: str = "") -> NewNotification:
    return NewNotification(notification_id(event_id, recipient_id), event_id, recipient_id, kind, actor_id,
                           _clip(text), video_id)


def _clip(text: str) -> str:
    text = " ".join(text.split())  # titles and names may carry newlines; a notification is one line
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
