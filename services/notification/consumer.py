"""Where the service consumes events: users.v1 (follows, names) and video.v1 (what to tell).

The runtime subscribes to the topics the topology says notification consumes, in the group
named after the service. Each handler runs in the idempotent consumer's inbox transaction,
with the store and the outbox publisher on that transaction's connection: the notification,
its NotificationCreated event and the inbox row commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from psycopg import AsyncConnection
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1.events_pb2 import UserFollowed, UserRegistered, UserUnfollowed
from vidmesh.video.v1.events_pb2 import CommentAdded, VideoLiked, VideoPublished

from mesh.consumer import Handler
from services.notification import handlers
from services.notification.adapters.outbox import OutboxPublisher
from services.notification.adapters.postgres import PostgresStore
from services.notification.ports import Cause, Publisher, Store

EventHandler = Callable[[Store, Publisher, Cause, Any], Awaitable[None]]


def _bind(handler: EventHandler) -> Handler:
    async def apply(conn: AsyncConnection[Any], envelope: EventEnvelope, event: Any) -> None:
        cause = Cause(envelope.id, envelope.traceparent, envelope.time.ToDatetime(tzinfo=UTC))
        await handler(PostgresStore(conn), OutboxPublisher(conn), cause, event)
    return apply


HANDLERS: dict[type[Any], Handler] = {
    UserRegistered: _bind(handlers.on_user_registered),
    UserFollowed: _bind(handlers.on_user_followed),
    UserUnfollowed: _bind(handlers.on_user_unfollowed),
    VideoPublished: _bind(handlers.on_video_published),
    CommentAdded: _bind(handlers.on_comment_added),
    VideoLiked: _bind(handlers.on_video_liked),
}
