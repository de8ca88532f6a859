"""The NotificationCreated event a new notification becomes: valid, and one id per notification."""

from __future__ import annotations

import uuid

import pytest
from vidmesh.notification.v1.events_pb2 import NotificationCreated

from mesh import events
from services.notification import domain
from services.notification.adapters import protos
from services.notification.domain import Kind

OWNER, FAN, VIDEO, EVENT = (str(uuid.uuid4()) for _ in range(4))


@pytest.mark.parametrize("notification", [
    *domain.video_published(EVENT, video_id=VIDEO, owner_id=OWNER, owner_name="Ada", title="Cats", followers=[FAN]),
    *domain.new_follower(EVENT, channel_id=OWNER, follower_id=FAN, follower_name=None),
], ids=["video_published", "new_follower"])
def test_created_event_passes_its_contract(notification: domain.NewNotification) -> None:
    envelope = events.envelope(protos.created(notification), "/vidmesh/notification", "s", notification.recipient_id)
    _, payload = events.unpack(envelope.SerializeToString())
    assert isinstance(payload, NotificationCreated)
    assert (payload.notification_id, payload.recipient_id, payload.text) == (
        notification.notification_id, notification.recipient_id, notification.text)


def test_every_kind_has_a_proto_value() -> None:
    assert set(protos.KINDS) == set(Kind)
    assert len(set(protos.KINDS.values())) == len(Kind)
