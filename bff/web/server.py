"""The gRPC servicer of web-bff: the viewer from `x-user-id`, then one page or action call.

Validation (protovalidate) and the mapping of mesh.errors to status codes happen in mesh's
interceptors; what a downstream failure becomes is decided in bff.common.failures.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from vidmesh.webbff.v1 import web_bff_service_pb2 as web
from vidmesh.webbff.v1 import web_bff_service_pb2_grpc as web_grpc

from bff.common import identity
from bff.common.deadlines import Deadlines
from bff.common.ports import Downstreams
from bff.web.actions import Actions
from bff.web.inbox import Inbox
from bff.web.pages import ListPages
from bff.web.video_page import VideoPage
from mesh.server import Service

Context = grpc.aio.ServicerContext[Any, Any]


def _viewer(context: Context) -> str | None:
    return identity.viewer(context.invocation_metadata())


def _user(context: Context) -> str:
    return identity.signed_in(context.invocation_metadata())


class WebBffServicer(web_grpc.WebBffServiceServicer):
    """vidmesh.webbff.v1.WebBffService over the domain services."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._pages, self._video_page = ListPages(downstreams, deadlines), VideoPage(downstreams, deadlines)
        self._actions, self._inbox = Actions(downstreams, deadlines), Inbox(downstreams.notifications, deadlines)

    async def GetHome(self, request: web.GetHomeRequest, context: Context) -> web.GetHomeResponse:
        return await self._pages.home(_viewer(context), request.page_size)

    async def GetVideoPage(self, request: web.GetVideoPageRequest, context: Context) -> web.GetVideoPageResponse:
        return await self._video_page.page(_viewer(context), request.video_id, request.min_version)

    async def ListComments(self, request: web.ListCommentsRequest, context: Context) -> web.ListCommentsResponse:
        _viewer(context)  # a malformed header is refused on every route
        return await self._video_page.comments(request.video_id, request.page_size, request.page_token)

    async def SearchVideos(self, request: web.SearchVideosRequest, context: Context) -> web.SearchVideosResponse:
        _viewer(context)  # a malformed header is refused on every route
        return await self._pages.search(request.q, request.page_size, request.page_token)

    async def GetChannel(self, request: web.GetChannelRequest, context: Context) -> web.GetChannelResponse:
        return await self._pages.channel(_viewer(context), request.user_id, request.page_size, request.page_token)

    async def CreateVideo(self, request: web.CreateVideoRequest, context: Context) -> web.CreateVideoResponse:
        return await self._actions.create_video(_user(context), request)

    async def PublishVideo(self, request: web.PublishVideoRequest, context: Context) -> web.PublishVideoResponse:
        return await self._actions.publish_video(_user(context), request)

    async def LikeVideo(self, request: web.LikeVideoRequest, context: Context) -> web.LikeVideoResponse:
        return await self._actions.like_video(_user(context), request)

    async def UnlikeVideo(self, request: web.UnlikeVideoRequest, context: Context) -> web.UnlikeVideoResponse:
        return await self._actions.unlike_video(_user(context), request)

    async def AddComment(self, request: web.AddCommentRequest, context: Context) -> web.AddCommentResponse:
        return await self._actions.add_comment(_user(context), request)

    async def RecordView(self, request: web.RecordViewRequest, context: Context) -> web.RecordViewResponse:
        return await self._actions.record_view(_viewer(context), request)

    async def FollowChannel(self, request: web.FollowChannelRequest, context: Context) -> web.FollowChannelResponse:
        return await self._actions.follow(_user(context), request)

    async def UnfollowChannel(
        self, request: web.UnfollowChannelRequest, context: Context
    ) -> web.UnfollowChannelResponse:
        return await self._actions.unfollow(_user(context), request)

    async def ListNotifications(
        self, request: web.ListNotificationsRequest, context: Context
    ) -> web.ListNotificationsResponse:
        return await self._inbox.list(_user(context), request)

    async def MarkNotificationsRead(
        self, request: web.MarkNotificationsReadRequest, context: Context
    ) -> web.MarkNotificationsReadResponse:
        return await self._inbox.mark_read(_user(context), request)


def service(downstreams: Downstreams, deadlines: Deadlines) -> Service:
    """The web BFF, ready for mesh.server."""
    return Service(web.DESCRIPTOR.services_by_name["WebBffService"], WebBffServicer(downstreams, deadlines),
                   web_grpc.add_WebBffServiceServicer_to_server)
