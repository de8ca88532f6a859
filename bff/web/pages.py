"""The web client's list pages: home, search and channel.

Each page starts all its calls at once (fan_out) and waits for them together; the core
call fails the page (failures.core), the optional parts degrade it (failures.optional).
"""

from __future__ import annotations

from vidmesh.notification.v1 import notification_service_pb2 as notification
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.webbff.v1 import web_bff_service_pb2 as web

from bff.common.deadlines import Deadlines
from bff.common.failures import Degraded, core, optional
from bff.common.fanout import fan_out
from bff.common.ports import Downstreams
from bff.web import views
from bff.web.recommended import Recommended

# Part names, as the `degraded` fields of the responses name them.
FOLLOWING, NOTIFICATIONS, VIDEOS = "following", "notifications", "videos"
FOR_YOU_SIZE = 8  # one row of tiles: each is a video-query read


class ListPages:
    """Home, search and channel pages over the domain services."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._query, self._users = downstreams.video_query, downstreams.users
        self._notifications, self._deadlines = downstreams.notifications, deadlines
        self._recommended = Recommended(downstreams, deadlines)

    async def home(self, viewer: str | None, page_size: int) -> web.GetHomeResponse:
        """Trending videos; for a signed-in viewer also their followed channels' newest
        videos, their unread count and videos recommended for them."""
        degraded = Degraded()
        async with fan_out() as tasks:
            trending = tasks.create_task(core("trending videos", self._query.trending(
                query.TrendingRequest(page_size=page_size), timeout=self._deadlines.read())))
            following = tasks.create_task(self._following(viewer, page_size, degraded))
            unread = tasks.create_task(self._unread(viewer, degraded))
            for_you = tasks.create_task(self._for_you(viewer, degraded))
        return web.GetHomeResponse(
            trending=views.cards(trending.result().videos),
            following=views.cards(following.result()),
            unread_notification_count=unread.result(),
            signed_in=viewer is not None,
            degraded=degraded.names,
            for_you=views.cards(for_you.result()),
        )

    async def _for_you(self, viewer: str | None, degraded: Degraded) -> list[query.VideoCard]:
        return await self._recommended.for_user(viewer, FOR_YOU_SIZE, degraded) if viewer else []

    async def _following(self, viewer: str | None, page_size: int, degraded: Degraded) -> list[query.VideoCard]:
        if viewer is None:
            return []
        found = await optional(FOLLOWING, self._query.list_videos(
            query.ListVideosRequest(page_size=page_size, followed_by_user_id=viewer),
            timeout=self._deadlines.part()), degraded)
        return list(found.videos) if found else []

    async def _unread(self, viewer: str | None, degraded: Degraded) -> int:
        if viewer is None:
            return 0
        counted = await optional(NOTIFICATIONS, self._notifications.unread_count(
            notification.UnreadCountRequest(user_id=viewer), timeout=self._deadlines.part()), degraded)
        return counted.unread_count if counted else 0

    async def search(self, q: str, page_size: int, page_token: str) -> web.SearchVideosResponse:
        """Published videos matching `q`, best match first."""
        found = await core("search", self._query.search_videos(
            query.SearchVideosRequest(query=q, page_size=page_size, page_token=page_token),
            timeout=self._deadlines.read()))
        return web.SearchVideosResponse(videos=views.cards(found.videos), next_page_token=found.next_page_token)

    async def channel(self, viewer: str | None, user_id: str, page_size: int,
                      page_token: str) -> web.GetChannelResponse:
        """A channel's profile (the core) and videos; its owner also sees their drafts."""
        degraded, deadlines = Degraded(), self._deadlines
        async with fan_out() as tasks:
            profile = tasks.create_task(core("the channel", self._users.get_user(
                users.GetUserRequest(user_id=user_id, viewer_id=viewer or ""), timeout=deadlines.read())))
            videos = tasks.create_task(optional(VIDEOS, self._query.list_channel_videos(
                query.ListChannelVideosRequest(channel_id=user_id, page_size=page_size, page_token=page_token,
                                               include_drafts=viewer == user_id),
                timeout=deadlines.part()), degraded))
        owner, listed = profile.result(), videos.result()
        return web.GetChannelResponse(
            channel=views.channel(owner.user),
            videos=views.cards(listed.videos if listed else None),
            next_page_token=listed.next_page_token if listed else "",
            viewer_following=owner.viewer_follows,
            degraded=degraded.names,
        )
