"""The projector's handlers: video.v1 and users.v1 events applied to the read model.

The runtime consumes them (bootstrap.py: `rt.consumer`, every instance in one consumer group,
so Kafka splits the partitions between them); the rebuild replays the topics through the same
handlers under a group of its own (rebuild.py). Each event is applied in the consumer's inbox
transaction, with the read model bound to that transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import consumer as mesh_consumer
from mesh.consumer import IdempotentConsumer
from services.video_query.adapters.read_model import PostgresReadModel
from services.video_query.handlers import HANDLERS, Handler


def handlers() -> dict[type[Any], mesh_consumer.Handler]:
    """The projection, as mesh.consumer handlers on the inbox transaction's connection."""
    return {event_type: _on_connection(handler) for event_type, handler in HANDLERS.items()}


def projector(pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str, group: str,
              topics: Sequence[str], **consumer_overrides: Any) -> IdempotentConsumer:
    """A consumer of the projection outside the runtime (the rebuild's replay)."""
    return IdempotentConsumer(pool, bootstrap, group, topics, handlers(), consumer_overrides=consumer_overrides)


def _on_connection(handler: Handler) -> mesh_consumer.Handler:
    async def handle(conn: AsyncConnection[Any], envelope: EventEnvelope, event: Any) -> None:
        await handler(PostgresReadModel(conn), envelope, event)

    return handle
