"""The domain services as the BFFs see them: one port per service, one method per RPC used.

Pages and actions depend on these abstract classes; bff.common.clients implements them over
proxyless gRPC, and the unit tests subclass them with in-memory fakes. Requests and
responses are the domain services' own protobuf messages: a BFF has no model of its own to
translate into. Every method takes its call's timeout in seconds (bff.common.deadlines)
and raises failures.DownstreamError when the service answers with an error or not in time.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from vidmesh.notification.v1 import notification_service_pb2 as notification
from vidmesh.recommendations.v1 import recommendations_service_pb2 as recommendations
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_command_service_pb2 as command
from vidmesh.video.v1 import video_query_service_pb2 as query


class VideoQuery(abc.ABC):
    """video-query: the read side of videos."""

    @abc.abstractmethod
    async def get_video(self, request: query.GetVideoRequest, *, timeout: float) -> query.GetVideoResponse: ...

    @abc.abstractmethod
    async def list_videos(self, request: query.ListVideosRequest, *, timeout: float) -> query.ListVideosResponse: ...

    @abc.abstractmethod
    async def list_channel_videos(
        self, request: query.ListChannelVideosRequest, *, timeout: float
    ) -> query.ListChannelVideosResponse: ...

    @abc.abstractmethod
    async def trending(self, request: query.TrendingRequest, *, timeout: float) -> query.TrendingResponse: ...

    @abc.abstractmethod
    async def search_videos(
        self, request: query.SearchVideosRequest, *, timeout: float
    ) -> query.SearchVideosResponse: ...

    @abc.abstractmethod
    async def list_comments(
        self, request: query.ListCommentsRequest, *, timeout: float
    ) -> query.ListCommentsResponse: ...


class VideoCommand(abc.ABC):
    """video-command: the write side of videos."""

    @abc.abstractmethod
    async def create_video(
        self, request: command.CreateVideoRequest, *, timeout: float
    ) -> command.CreateVideoResponse: ...

    @abc.abstractmethod
    async def publish_video(
        self, request: command.PublishVideoRequest, *, timeout: float
    ) -> command.PublishVideoResponse: ...

    @abc.abstractmethod
    async def like_video(self, request: command.LikeVideoRequest, *, timeout: float) -> command.LikeVideoResponse: ...

    @abc.abstractmethod
    async def unlike_video(
        self, request: command.UnlikeVideoRequest, *, timeout: float
    ) -> command.UnlikeVideoResponse: ...

    @abc.abstractmethod
    async def record_view(
        self, request: command.RecordViewRequest, *, timeout: float
    ) -> command.RecordViewResponse: ...

    @abc.abstractmethod
    async def add_comment(
        self, request: command.AddCommentRequest, *, timeout: float
    ) -> command.AddCommentResponse: ...


class Users(abc.ABC):
    """users: profiles and the follow graph."""

    @abc.abstractmethod
    async def get_user(self, request: users.GetUserRequest, *, timeout: float) -> users.GetUserResponse: ...

    @abc.abstractmethod
    async def follow(self, request: users.FollowRequest, *, timeout: float) -> users.FollowResponse: ...

    @abc.abstractmethod
    async def unfollow(self, request: users.UnfollowRequest, *, timeout: float) -> users.UnfollowResponse: ...


class Notifications(abc.ABC):
    """notification: each user's inbox."""

    @abc.abstractmethod
    async def list_notifications(
        self, request: notification.ListNotificationsRequest, *, timeout: float
    ) -> notification.ListNotificationsResponse: ...

    @abc.abstractmethod
    async def unread_count(
        self, request: notification.UnreadCountRequest, *, timeout: float
    ) -> notification.UnreadCountResponse: ...

    @abc.abstractmethod
    async def mark_read(
        self, request: notification.MarkReadRequest, *, timeout: float
    ) -> notification.MarkReadResponse: ...


class Recommendations(abc.ABC):
    """recommendations (a Go service): co-liked videos and "for you"."""

    @abc.abstractmethod
    async def list_related_videos(
        self, request: recommendations.ListRelatedVideosRequest, *, timeout: float
    ) -> recommendations.ListRelatedVideosResponse: ...

    @abc.abstractmethod
    async def list_for_user(
        self, request: recommendations.ListForUserRequest, *, timeout: float
    ) -> recommendations.ListForUserResponse: ...


@dataclass(frozen=True)
class Downstreams:
    """The domain services one BFF process calls."""

    video_query: VideoQuery
    video_command: VideoCommand
    users: Users
    notifications: Notifications
    recommendations: Recommendations
