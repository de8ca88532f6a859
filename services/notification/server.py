"""The gRPC face of the service: protobuf requests → handlers → protobuf responses.

Errors are raised as mesh.errors domain errors; mesh's interceptor turns them into statuses.
Request validation (protovalidate) has already run when a method is called.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from vidmesh.notification.v1 import notification_service_pb2 as pb
from vidmesh.notification.v1 import notification_service_pb2_grpc as pb_grpc

from mesh.server import Service
from services.notification import handlers
from services.notification.adapters import protos
from services.notification.domain import MarkRead
from services.notification.ports import UnitOfWorkFactory

Context = grpc.aio.ServicerContext[Any, Any]


class NotificationServicer(pb_grpc.NotificationServiceServicer):
    """vidmesh.notification.v1.NotificationService."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self._uows = uows

    async def ListNotifications(self, request: pb.ListNotificationsRequest,
                                context: Context) -> pb.ListNotificationsResponse:
        page = await handlers.list_notifications(self._uows, handlers.ListQuery(
            request.user_id, request.page_size, request.page_token, request.unread_only))
        return pb.ListNotificationsResponse(notifications=[protos.notification(n) for n in page.notifications],
                                            next_page_token=page.next_page_token)

    async def UnreadCount(self, request: pb.UnreadCountRequest, context: Context) -> pb.UnreadCountResponse:
        return pb.UnreadCountResponse(unread_count=await handlers.unread_count(self._uows, request.user_id))

    async def MarkRead(self, request: pb.MarkReadRequest, context: Context) -> pb.MarkReadResponse:
        command = MarkRead(request.request_id, request.user_id, tuple(request.notification_ids), request.all)
        done = await handlers.mark_read(self._uows, command)
        return pb.MarkReadResponse(marked_count=done.marked_count, unread_count=done.unread_count)


def service(uows: UnitOfWorkFactory) -> Service:
    """The service, ready for mesh.server.Server."""
    return Service(pb.DESCRIPTOR.services_by_name["NotificationService"], NotificationServicer(uows),
                   pb_grpc.add_NotificationServiceServicer_to_server)
