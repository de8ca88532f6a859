"""Domain events become valid users.v1 envelopes keyed by their aggregate."""

from __future__ import annotations

import uuid

import pytest
from vidmesh.users.v1 import events_pb2

from mesh import events
from services.users import domain
from services.users.adapters.outbox import SOURCE, to_envelope

ANN, BOB = str(uuid.uuid4()), str(uuid.uuid4())


@pytest.mark.parametrize(("event", "payload"), [
    (domain.UserRegistered(ANN, "ann@example.com", "Ann"),
     events_pb2.UserRegistered(user_id=ANN, email="ann@example.com", display_name="Ann")),
    (domain.UserFollowed(BOB, ANN, "Bob", 3),
     events_pb2.UserFollowed(follower_id=BOB, channel_id=ANN, follower_display_name="Bob", follower_count=3)),
    (domain.UserUnfollowed(BOB, ANN, 2),
     events_pb2.UserUnfollowed(follower_id=BOB, channel_id=ANN, follower_count=2)),
])
def test_each_event_is_wrapped_with_its_payload_and_aggregate(event: domain.Event, payload: object) -> None:
    envelope = to_envelope(event)
    assert events.payload(envelope) == payload
    assert envelope.aggregate_id == ANN  # the user registered, or the channel followed
    assert envelope.subject == f"users/{ANN}"
    assert envelope.source == SOURCE
    assert envelope.type == f"vidmesh.users.v1.{type(event).__name__}"
