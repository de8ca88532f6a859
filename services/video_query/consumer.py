"""The projector: an idempotent Kafka consumer that applies video.v1 and users.v1 events.

Every instance runs one in the same consumer group, so Kafka splits the partitions
between them; each event is applied in the consumer's inbox transaction, with the read
model bound to that transaction.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import consumer as mesh_consumer
from mesh.consumer import IdempotentConsumer
from services.video_query.adapters.read_model import PostgresReadModel
from services.video_query.config import QueryConfig
from services.video_query.handlers import HANDLERS, Handler

# consume(batch, timeout) returns early only when the batch is full, so on a quiet topic the
# poll timeout is the projection's lag: mesh's 0.5 s default would make every read-your-
# writes wait about half a second; 0.1 s costs ten idle polls a second.
POLL_TIMEOUT_S = 0.1


def projector(pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, config: QueryConfig, *,
              group: str | None = None, **consumer_overrides: Any) -> IdempotentConsumer:
    """The consumer that keeps `video_read` up to date (group: config.consumer_group unless given)."""
    handlers = {event_type: _on_connection(handler) for event_type, handler in HANDLERS.items()}
    return IdempotentConsumer(pool, bootstrap, group or config.consumer_group, config.topics, handlers,
                              poll_timeout=POLL_TIMEOUT_S, consumer_overrides=consumer_overrides)


def _on_connection(handler: Handler) -> mesh_consumer.Handler:
    async def handle(conn: AsyncConnection[Any], envelope: EventEnvelope, event: Any) -> None:
        await handler(PostgresReadModel(conn), envelope, event)

    return handle
