"""Where the service consumes events: users.v1 (addresses, welcomes) and notification.v1.

Each handler runs in the idempotent consumer's inbox transaction and only queues emails,
so the inbox row and the queued email commit together; dispatcher.py sends them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.notification.v1.events_pb2 import NotificationCreated
from vidmesh.users.v1.events_pb2 import UserRegistered

from mesh.consumer import Handler, IdempotentConsumer
from services.email import handlers
from services.email.adapters.postgres import PostgresStore
from services.email.ports import Store

GROUP = "email"
EventHandler = Callable[[Store, str, Any], Awaitable[None]]


@dataclass(frozen=True)
class Topics:
    """The topics the service reads (tests give them a unique prefix)."""

    users: str = "users.v1.events"
    notifications: str = "notification.v1.events"

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        """Every topic name with `prefix` in front, for an isolated test run."""
        base = cls()
        return cls(prefix + base.users, prefix + base.notifications)


DEFAULT_TOPICS = Topics()

HANDLERS: dict[type[Any], EventHandler] = {
    UserRegistered: handlers.on_user_registered,
    NotificationCreated: handlers.on_notification_created,
}


def _bind(handler: EventHandler) -> Handler:
    async def apply(conn: AsyncConnection[Any], envelope: EventEnvelope, event: Any) -> None:
        await handler(PostgresStore(conn), envelope.id, event)
    return apply


def build(pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, topics: Topics = DEFAULT_TOPICS,
          group: str = GROUP) -> IdempotentConsumer:
    """The consumer of users.v1 and notification.v1 events for `group`."""
    return IdempotentConsumer(pool, bootstrap, group, [topics.users, topics.notifications],
                              {event: _bind(handler) for event, handler in HANDLERS.items()})
