"""Where the service consumes events: users.v1 (follows, names) and video.v1 (what to tell).

Each handler runs in the idempotent consumer's inbox transaction, with the store and the
outbox publisher on that transaction's connection: the notification, its NotificationCreated
event and the inbox row commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1.events_pb2 import UserFollowed, UserRegistered, UserUnfollowed
from vidmesh.video.v1.events_pb2 import CommentAdded, VideoLiked, VideoPublished

from mesh.consumer import Handler, IdempotentConsumer
from services.notification import handlers
from services.notification.adapters.outbox import OutboxPublisher
from services.notification.adapters.postgres import PostgresStore
from services.notification.ports import Cause, Publisher, Store

GROUP = "notification"
EventHandler = Callable[[Store, Publisher, Cause, Any], Awaitable[None]]


@dataclass(frozen=True)
class Topics:
    """The topics the service reads and writes (tests give them a unique prefix)."""

    users: str = "users.v1.events"
    video: str = "video.v1.events"
    notifications: str = "notification.v1.events"

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        """Every topic name with `prefix` in front, for an isolated test run."""
        base = cls()
        return cls(prefix + base.users, prefix + base.video, prefix + base.notifications)


DEFAULT_TOPICS = Topics()

HANDLERS: dict[type[Any], EventHandler] = {
    UserRegistered: handlers.on_user_registered,
    UserFollowed: handlers.on_user_followed,
    UserUnfollowed: handlers.on_user_unfollowed,
    VideoPublished: handlers.on_video_published,
    CommentAdded: handlers.on_comment_added,
    VideoLiked: handlers.on_video_liked,
}


def _bind(handler: EventHandler, topic: str) -> Handler:
    async def apply(conn: AsyncConnection[Any], envelope: EventEnvelope, event: Any) -> None:
        await handler(PostgresStore(conn), OutboxPublisher(conn, topic), Cause(envelope.id, envelope.traceparent),
                      event)
    return apply


def build(pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topics: Topics = DEFAULT_TOPICS,
          group: str = GROUP) -> IdempotentConsumer:
    """The consumer of users.v1 and video.v1 events for `group`."""
    return IdempotentConsumer(pool, bootstrap, group, [topics.users, topics.video],
                              {event: _bind(handler, topics.notifications) for event, handler in HANDLERS.items()})
