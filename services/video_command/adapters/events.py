"""Domain events to the `vidmesh.video.v1` payloads and their envelope on video.v1.events.

Payloads carry the full state and counter totals after the change, so a projector can
"set if newer" instead of merging; the envelope's aggregate_version is the new version.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.video.v1 import events_pb2 as pb

from mesh import events, topology
from mesh import log as mesh_log
from services.video_command import domain as d

TOPIC = topology.VIDEO_EVENTS
SOURCE = "/vidmesh/video-command"


def envelope(event: d.VideoEvent) -> EventEnvelope:
    """The envelope for a domain event, carrying the current request's trace."""
    video = event.video
    return events.envelope(payload(event), source=SOURCE, subject=f"videos/{video.id}", aggregate_id=video.id,
                           version=video.version, trace=mesh_log.current_traceparent())


@singledispatch
def payload(event: d.VideoEvent) -> Message:
    """The protobuf payload of a domain event."""
    raise TypeError(f"no payload for {type(event).__name__}")


def _ts(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def _ids(video: d.Video) -> dict[str, Any]:
    return {"video_id": video.id, "owner_id": video.owner_id, "version": video.version}


@payload.register
def _created(event: d.VideoCreated) -> Message:
    v = event.video
    return pb.VideoCreated(**_ids(v), title=v.title, description=v.description, duration_seconds=v.duration_seconds,
                           tags=v.tags, media_url=v.media_url, create_time=_ts(v.create_time))


@payload.register
def _updated(event: d.VideoUpdated) -> Message:
    v = event.video
    return pb.VideoUpdated(**_ids(v), title=v.title, description=v.description, tags=v.tags)


@payload.register
def _published(event: d.VideoPublished) -> Message:
    v = event.video
    return pb.VideoPublished(**_ids(v), title=v.title, publish_time=_ts(v.publish_time))


@payload.register
def _deleted(event: d.VideoDeleted) -> Message:
    return pb.VideoDeleted(**_ids(event.video))


@payload.register
def _liked(event: d.VideoLiked) -> Message:
    v = event.video
    return pb.VideoLiked(**_ids(v), user_id=event.user_id, like_count=v.like_count, title=v.title)


@payload.register
def _unliked(event: d.VideoUnliked) -> Message:
    return pb.VideoUnliked(**_ids(event.video), user_id=event.user_id, like_count=event.video.like_count)


@payload.register
def _viewed(event: d.VideoViewed) -> Message:
    return pb.VideoViewed(**_ids(event.video), viewer_id=event.viewer_id, view_count=event.video.view_count)


@payload.register
def _commented(event: d.CommentAdded) -> Message:
    v, comment = event.video, event.comment
    return pb.CommentAdded(**_ids(v), comment_id=comment.id, author_id=comment.author_id, body=comment.body,
                           comment_count=v.comment_count, create_time=_ts(comment.create_time), title=v.title)
