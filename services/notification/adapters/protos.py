"""Domain values ↔ protobuf messages, in one place for the servicer and the events."""

from __future__ import annotations

from vidmesh.notification.v1 import notification_pb2
from vidmesh.notification.v1.events_pb2 import NotificationCreated

from services.notification.domain import Kind, NewNotification, Notification

KINDS: dict[Kind, notification_pb2.NotificationKind.ValueType] = {
    Kind.VIDEO_PUBLISHED: notification_pb2.NOTIFICATION_KIND_VIDEO_PUBLISHED,
    Kind.VIDEO_LIKED: notification_pb2.NOTIFICATION_KIND_VIDEO_LIKED,
    Kind.COMMENT_ADDED: notification_pb2.NOTIFICATION_KIND_COMMENT_ADDED,
    Kind.NEW_FOLLOWER: notification_pb2.NOTIFICATION_KIND_NEW_FOLLOWER,
}


def notification(n: Notification) -> notification_pb2.Notification:
    """A stored notification as the API returns it."""
    message = notification_pb2.Notification(
        notification_id=n.notification_id, recipient_id=n.recipient_id, kind=KINDS[n.kind], video_id=n.video_id,
        actor_id=n.actor_id, text=n.text, read=n.read)
    message.create_time.FromDatetime(n.create_time)
    return message


def created(n: NewNotification) -> NotificationCreated:
    """The NotificationCreated event of a new notification."""
    return NotificationCreated(notification_id=n.notification_id, recipient_id=n.recipient_id, kind=KINDS[n.kind],
                               video_id=n.video_id, actor_id=n.actor_id, text=n.text)
