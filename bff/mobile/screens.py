"""The phone app's screens: each one call to one domain service, shaped small.

The feed's cursor is video-query's own page token, passed through: it is signed for the
query it belongs to, so a token from elsewhere is refused there (INVALID_ARGUMENT).
"""

from __future__ import annotations

from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.notification.v1 import notification_service_pb2 as notification
from vidmesh.video.v1 import video_command_service_pb2 as command
from vidmesh.video.v1 import video_query_service_pb2 as query

from bff.common.deadlines import Deadlines
from bff.common.failures import core
from bff.common.identity import request_id
from bff.common.ports import Downstreams
from bff.mobile import views


class Screens:
    """Feed, video, inbox and like over the domain services."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._query, self._command = downstreams.video_query, downstreams.video_command
        self._notifications, self._deadlines = downstreams.notifications, deadlines

    async def feed(self, page_size: int, page_token: str) -> mobile.GetFeedResponse:
        """A page of the newest published videos."""
        page = await core("the feed", self._query.list_videos(
            query.ListVideosRequest(page_size=page_size, page_token=page_token), timeout=self._deadlines.read()))
        return mobile.GetFeedResponse(videos=[views.compact_video(video) for video in page.videos],
                                      next_page_token=page.next_page_token)

    async def video(self, viewer: str | None, video_id: str, min_version: int) -> mobile.GetVideoResponse:
        """One video, compact, with the viewer's like."""
        found = await core("the video", self._query.get_video(
            query.GetVideoRequest(video_id=video_id, min_version=min_version, viewer_id=viewer or ""),
            timeout=self._deadlines.read()))
        return mobile.GetVideoResponse(video=views.compact_video(found.video), like_count=found.video.like_count,
                                       liked=found.viewer_liked)

    async def notifications(self, user_id: str, page_size: int, page_token: str) -> mobile.ListNotificationsResponse:
        """A page of `user_id`'s notifications, newest first."""
        page = await core("notifications", self._notifications.list_notifications(
            notification.ListNotificationsRequest(user_id=user_id, page_size=page_size, page_token=page_token),
            timeout=self._deadlines.read()))
        return mobile.ListNotificationsResponse(
            notifications=[views.compact_notification(entry) for entry in page.notifications],
            next_page_token=page.next_page_token)

    async def like(self, actor: str, request: mobile.LikeVideoRequest) -> mobile.LikeVideoResponse:
        """`actor` likes the video; the answer's version is GetVideo's min_version."""
        liked = await core("video writes", self._command.like_video(command.LikeVideoRequest(
            request_id=request_id(request.request_id), actor_id=actor, video_id=request.video_id),
            timeout=self._deadlines.write()))
        return mobile.LikeVideoResponse(version=liked.version, like_count=liked.like_count)
