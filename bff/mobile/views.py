"""Domain messages to the phone's compact messages: only what a row on a small screen shows."""

from __future__ import annotations

from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.notification.v1 import notification_pb2
from vidmesh.video.v1 import video_query_service_pb2 as query


def compact_video(video: query.VideoCard) -> mobile.CompactVideo:
    """A video as one row of a list."""
    return mobile.CompactVideo(
        video_id=video.video_id,
        title=video.title,
        media_url=video.media_url,
        uploader_name=video.owner_display_name,
        view_count=video.view_count,
        duration_seconds=video.duration_seconds,
    )


def compact_notification(entry: notification_pb2.Notification) -> mobile.CompactNotification:
    """A notification as one row of the inbox."""
    row = mobile.CompactNotification(notification_id=entry.notification_id, text=entry.text,
                                     video_id=entry.video_id, read=entry.read)
    if entry.HasField("create_time"):
        row.create_time.CopyFrom(entry.create_time)
    return row
