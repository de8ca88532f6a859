"""The gRPC servicer of mobile-bff: the viewer from `x-user-id`, then one screen call.

Validation and status codes are mesh's interceptors' job; downstream failures are mapped
in bff.common.failures.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2_grpc as mobile_grpc

from bff.common import identity
from bff.common.deadlines import Deadlines
from bff.common.ports import Downstreams
from bff.mobile.screens import Screens
from mesh.server import Service

Context = grpc.aio.ServicerContext[Any, Any]


class MobileBffServicer(mobile_grpc.MobileBffServiceServicer):
    """vidmesh.mobilebff.v1.MobileBffService over the domain services."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._screens = Screens(downstreams, deadlines)

    async def GetFeed(self, request: mobile.GetFeedRequest, context: Context) -> mobile.GetFeedResponse:
        identity.viewer(context.invocation_metadata())  # a malformed header is refused on every route
        return await self._screens.feed(request.page_size, request.page_token)

    async def GetVideo(self, request: mobile.GetVideoRequest, context: Context) -> mobile.GetVideoResponse:
        viewer = identity.viewer(context.invocation_metadata())
        return await self._screens.video(viewer, request.video_id, request.min_version)

    async def ListNotifications(
        self, request: mobile.ListNotificationsRequest, context: Context
    ) -> mobile.ListNotificationsResponse:
        user = identity.signed_in(context.invocation_metadata())
        return await self._screens.notifications(user, request.page_size, request.page_token)

    async def LikeVideo(self, request: mobile.LikeVideoRequest, context: Context) -> mobile.LikeVideoResponse:
        return await self._screens.like(identity.signed_in(context.invocation_metadata()), request)


def service(downstreams: Downstreams, deadlines: Deadlines) -> Service:
    """The mobile BFF, ready for mesh.server."""
    return Service(mobile.DESCRIPTOR.services_by_name["MobileBffService"],
                   MobileBffServicer(downstreams, deadlines), mobile_grpc.add_MobileBffServiceServicer_to_server)
