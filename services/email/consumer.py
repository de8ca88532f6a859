"""Where the service consumes events: users.v1 (addresses, welcomes) and notification.v1.

The runtime subscribes to the topics the topology says email consumes, in the group named
after the service. Each handler runs in the idempotent consumer's inbox transaction and only
queues emails, so the inbox row and the queued email commit together; dispatcher.py sends them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from psycopg import AsyncConnection
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.notification.v1.events_pb2 import NotificationCreated
from vidmesh.users.v1.events_pb2 import UserRegistered

from mesh.consumer import Handler
from services.email import handlers
from services.email.adapters.postgres import PostgresStore
from services.email.ports import Store

EventHandler = Callable[[Store, str, Any], Awaitable[None]]


def _bind(handler: EventHandler) -> Handler:
    async def apply(conn: AsyncConnection[Any], envelope: EventEnvelope, event: Any) -> None:
        await handler(PostgresStore(conn), envelope.id, event)
    return apply


HANDLERS: dict[type[Any], Handler] = {
    UserRegistered: _bind(handlers.on_user_registered),
    NotificationCreated: _bind(handlers.on_notification_created),
}
