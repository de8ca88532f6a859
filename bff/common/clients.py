"""The ports over gRPC: generated stubs on proxyless xDS channels.

`call()` is where every outgoing call gets its deadline, and where a gRPC error becomes a
DownstreamError that keeps the rich status (the BadRequest of an INVALID_ARGUMENT). The trace
goes on by itself: mesh's channels make each call a span of the page's trace and send its
`traceparent` (mesh/calls.py), so the calls of a fan-out are the page span's children. Calls
fail fast rather than waiting for a connection (no wait_for_ready): a service with no healthy
instance is a degraded part now, not a page that hangs.
"""

from __future__ import annotations

from typing import TypeVar

import grpc
import grpc.aio
from google.rpc import status_pb2
from vidmesh.notification.v1 import notification_service_pb2 as notification
from vidmesh.notification.v1 import notification_service_pb2_grpc as notification_grpc
from vidmesh.recommendations.v1 import recommendations_service_pb2 as recommendations
from vidmesh.recommendations.v1 import recommendations_service_pb2_grpc as recommendations_grpc
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.users.v1 import users_service_pb2_grpc as users_grpc
from vidmesh.video.v1 import video_command_service_pb2 as command
from vidmesh.video.v1 import video_command_service_pb2_grpc as command_grpc
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.video.v1 import video_query_service_pb2_grpc as query_grpc

from bff.common import ports
from bff.common.failures import DownstreamError

Req = TypeVar("Req")
Resp = TypeVar("Resp")
STATUS_DETAILS_KEY = "grpc-status-details-bin"


async def call(service: str, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req,
               timeout: float) -> Resp:
    """Call `method` with `timeout`; DownstreamError on any error status."""
    try:
        return await method(request, timeout=timeout)
    except grpc.aio.AioRpcError as error:
        raise downstream_error(service, error) from error


def downstream_error(service: str, error: grpc.aio.AioRpcError) -> DownstreamError:
    """The DownstreamError for a failed call, with the rich status from its trailers."""
    status = None
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
    return DownstreamError(service, error.code(), error.details() or "", status)


class GrpcVideoQuery(ports.VideoQuery):
    """video-query over gRPC."""

    def __init__(self, channel: grpc.aio.Channel, service: str = "video-query") -> None:
        self._stub, self._service = query_grpc.VideoQueryServiceStub(channel), service

    async def get_video(self, request: query.GetVideoRequest, *, timeout: float) -> query.GetVideoResponse:
        return await call(self._service, self._stub.GetVideo, request, timeout)

    async def list_videos(self, request: query.ListVideosRequest, *, timeout: float) -> query.ListVideosResponse:
        return await call(self._service, self._stub.ListVideos, request, timeout)

    async def list_channel_videos(
        self, request: query.ListChannelVideosRequest, *, timeout: float
    ) -> query.ListChannelVideosResponse:
        return await call(self._service, self._stub.ListChannelVideos, request, timeout)

    async def trending(self, request: query.TrendingRequest, *, timeout: float) -> query.TrendingResponse:
        return await call(self._service, self._stub.Trending, request, timeout)

    async def search_videos(
        self, request: query.SearchVideosRequest, *, timeout: float
    ) -> query.SearchVideosResponse:
        return await call(self._service, self._stub.SearchVideos, request, timeout)

    async def list_comments(
        self, request: query.ListCommentsRequest, *, timeout: float
    ) -> query.ListCommentsResponse:
        return await call(self._service, self._stub.ListComments, request, timeout)


class GrpcVideoCommand(ports.VideoCommand):
    """video-command over gRPC."""

    def __init__(self, channel: grpc.aio.Channel, service: str = "video-command") -> None:
        self._stub, self._service = command_grpc.VideoCommandServiceStub(channel), service

    async def create_video(
        self, request: command.CreateVideoRequest, *, timeout: float
    ) -> command.CreateVideoResponse:
        return await call(self._service, self._stub.CreateVideo, request, timeout)

    async def publish_video(
        self, request: command.PublishVideoRequest, *, timeout: float
    ) -> command.PublishVideoResponse:
        return await call(self._service, self._stub.PublishVideo, request, timeout)

    async def like_video(self, request: command.LikeVideoRequest, *, timeout: float) -> command.LikeVideoResponse:
        return await call(self._service, self._stub.LikeVideo, request, timeout)

    async def unlike_video(
        self, request: command.UnlikeVideoRequest, *, timeout: float
    ) -> command.UnlikeVideoResponse:
        return await call(self._service, self._stub.UnlikeVideo, request, timeout)

    async def record_view(
        self, request: command.RecordViewRequest, *, timeout: float
    ) -> command.RecordViewResponse:
        return await call(self._service, self._stub.RecordView, request, timeout)

    async def add_comment(
        self, request: command.AddCommentRequest, *, timeout: float
    ) -> command.AddCommentResponse:
        return await call(self._service, self._stub.AddComment, request, timeout)


class GrpcUsers(ports.Users):
    """users over gRPC."""

    def __init__(self, channel: grpc.aio.Channel, service: str = "users") -> None:
        self._stub, self._service = users_grpc.UserServiceStub(channel), service

    async def get_user(self, request: users.GetUserRequest, *, timeout: float) -> users.GetUserResponse:
        return await call(self._service, self._stub.GetUser, request, timeout)

    async def follow(self, request: users.FollowRequest, *, timeout: float) -> users.FollowResponse:
        return await call(self._service, self._stub.Follow, request, timeout)

    async def unfollow(self, request: users.UnfollowRequest, *, timeout: float) -> users.UnfollowResponse:
        return await call(self._service, self._stub.Unfollow, request, timeout)


class GrpcNotifications(ports.Notifications):
    """notification over gRPC."""

    def __init__(self, channel: grpc.aio.Channel, service: str = "notification") -> None:
        self._stub, self._service = notification_grpc.NotificationServiceStub(channel), service

    async def list_notifications(
        self, request: notification.ListNotificationsRequest, *, timeout: float
    ) -> notification.ListNotificationsResponse:
        return await call(self._service, self._stub.ListNotifications, request, timeout)

    async def unread_count(
        self, request: notification.UnreadCountRequest, *, timeout: float
    ) -> notification.UnreadCountResponse:
        return await call(self._service, self._stub.UnreadCount, request, timeout)

    async def mark_read(
        self, request: notification.MarkReadRequest, *, timeout: float
    ) -> notification.MarkReadResponse:
        return await call(self._service, self._stub.MarkRead, request, timeout)


class GrpcRecommendations(ports.Recommendations):
    """recommendations over gRPC (a Go server; nothing here knows or cares)."""

    def __init__(self, channel: grpc.aio.Channel, service: str = "recommendations") -> None:
        self._stub, self._service = recommendations_grpc.RecommendationServiceStub(channel), service

    async def list_related_videos(
        self, request: recommendations.ListRelatedVideosRequest, *, timeout: float
    ) -> recommendations.ListRelatedVideosResponse:
        return await call(self._service, self._stub.ListRelatedVideos, request, timeout)

    async def list_for_user(
        self, request: recommendations.ListForUserRequest, *, timeout: float
    ) -> recommendations.ListForUserResponse:
        return await call(self._service, self._stub.ListForUser, request, timeout)
