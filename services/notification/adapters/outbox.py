"""The Publisher on the transactional outbox: NotificationCreated rows in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import AsyncConnection

from mesh import events, outbox, topology
from services.notification.adapters import protos
from services.notification.domain import NewNotification
from services.notification.ports import Cause, Publisher

SOURCE = "/vidmesh/notification"
TOPIC = topology.NOTIFICATION_EVENTS  # the relay puts VIDMESH_TOPIC_PREFIX in front
# Fixed forever: a notification's event id is derived from the notification's id.
EVENT_NAMESPACE = uuid.UUID("0e3f6a55-9c3b-4d0e-8f7a-2b6c1d4e5f70")


class OutboxPublisher(Publisher):
    """Writes events to the outbox on the connection whose transaction adds the notification."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def notification_created(self, notification: NewNotification, cause: Cause) -> None:
        n = notification
        envelope = events.envelope(
            protos.created(n), SOURCE, subject=f"users/{n.recipient_id}/notifications/{n.notification_id}",
            # The recipient is the aggregate: one user's notifications stay in order.
            aggregate_id=n.recipient_id, trace=cause.traceparent or None,
            # One notification, one event id, however often it would be published.
            event_id=str(uuid.uuid5(EVENT_NAMESPACE, n.notification_id)))
        await outbox.add(self._conn, envelope, TOPIC)
