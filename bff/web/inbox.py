"""The signed-in user's notifications on the web: a page of them with the unread count, and
marking them read."""

from __future__ import annotations

from vidmesh.notification.v1 import notification_service_pb2 as notification
from vidmesh.webbff.v1 import web_bff_service_pb2 as web

from bff.common.deadlines import Deadlines
from bff.common.failures import core
from bff.common.fanout import fan_out
from bff.common.identity import request_id
from bff.common.ports import Notifications
from bff.web import views

NOTIFICATIONS = "notifications"


class Inbox:
    """The web inbox over the notification service."""

    def __init__(self, notifications: Notifications, deadlines: Deadlines) -> None:
        self._notifications, self._deadlines = notifications, deadlines

    async def list(self, user_id: str, request: web.ListNotificationsRequest) -> web.ListNotificationsResponse:
        """A page of `user_id`'s notifications, newest first, and how many are unread."""
        async with fan_out() as tasks:
            listed = tasks.create_task(core(NOTIFICATIONS, self._notifications.list_notifications(
                notification.ListNotificationsRequest(user_id=user_id, page_size=request.page_size,
                                                      page_token=request.page_token, unread_only=request.unread_only),
                timeout=self._deadlines.read())))
            unread = tasks.create_task(core(NOTIFICATIONS, self._notifications.unread_count(
                notification.UnreadCountRequest(user_id=user_id), timeout=self._deadlines.read())))
        page = listed.result()
        return web.ListNotificationsResponse(
            notifications=[views.notification(entry) for entry in page.notifications],
            next_page_token=page.next_page_token,
            unread_count=unread.result().unread_count,
        )

    async def mark_read(self, user_id: str, request: web.MarkNotificationsReadRequest
                        ) -> web.MarkNotificationsReadResponse:
        """Mark the listed notifications (or all) of `user_id` read."""
        marked = await core(NOTIFICATIONS, self._notifications.mark_read(notification.MarkReadRequest(
            request_id=request_id(request.request_id), user_id=user_id,
            notification_ids=request.notification_ids, all=request.all), timeout=self._deadlines.write()))
        return web.MarkNotificationsReadResponse(marked_count=marked.marked_count, unread_count=marked.unread_count)
