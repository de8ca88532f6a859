"""Domain events to `vidmesh.users.v1` payloads in envelopes, written to the outbox.

The domain events carry the same field names as their protobuf payloads, so the mapping is
a table. Every event is keyed by its aggregate: the user for UserRegistered, the channel
for follow events, which keeps one channel's audience changes in order on one partition.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from google.protobuf.message import Message
from psycopg import AsyncConnection
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1 import events_pb2

from mesh import events, log, outbox, topology
from services.users import domain

TOPIC = topology.USERS_EVENTS
SOURCE = "/vidmesh/users"
PAYLOADS: dict[type[domain.Event], type[Message]] = {
    domain.UserRegistered: events_pb2.UserRegistered,
    domain.UserFollowed: events_pb2.UserFollowed,
    domain.UserUnfollowed: events_pb2.UserUnfollowed,
}


def to_envelope(event: domain.Event) -> EventEnvelope:
    """The envelope of a domain event, in the trace of the request that caused it."""
    payload = PAYLOADS[type(event)](**dataclasses.asdict(event))
    return events.envelope(payload, source=SOURCE, subject=f"users/{event.aggregate_id}",
                           aggregate_id=event.aggregate_id, trace=log.current_traceparent())


async def add(conn: AsyncConnection[Any], event: domain.Event) -> None:
    """Write the event in the caller's transaction, keyed by its aggregate id."""
    await outbox.add(conn, to_envelope(event), TOPIC, key=event.aggregate_id)
