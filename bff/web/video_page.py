"""The web video page: the video (the core), its uploader, the first comments, related
videos and the viewer's relation to them.

The comments and the co-liked videos (the recommendations service) need only the video id,
so they start with the video; the uploader and the same channel's videos need the video's
owner, so they start as soon as the video arrives. The page therefore takes about one video
read plus the slower of the rest. Related lists the co-liked videos first, then the
channel's, without repeats.
"""

from __future__ import annotations

from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.webbff.v1 import web_bff_service_pb2 as web

from bff.common.deadlines import Deadlines
from bff.common.failures import Degraded, core, optional
from bff.common.fanout import fan_out
from bff.common.ports import Downstreams
from bff.web import views
from bff.web.recommended import Recommended

# Part names, as GetVideoPageResponse.degraded names them.
UPLOADER, COMMENTS, RELATED, VIEWER = "uploader", "comments", "related", "viewer"
COMMENTS_PAGE_SIZE = 20
RELATED_SIZE = 8


class VideoPage:
    """Assembles GetVideoPageResponse from video-query and users."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._query, self._users, self._deadlines = downstreams.video_query, downstreams.users, deadlines
        self._recommended = Recommended(downstreams, deadlines)

    async def page(self, viewer: str | None, video_id: str, min_version: int) -> web.GetVideoPageResponse:
        """The page for `viewer` (None: anonymous), showing at least `min_version` if the
        read model reaches it in time (else `stale`)."""
        degraded = Degraded()
        async with fan_out() as tasks:
            comments = tasks.create_task(self._comments(video_id, min_version, degraded))
            co_liked = tasks.create_task(self._recommended.related(video_id, RELATED_SIZE, degraded))
            found = await core("the video", self._query.get_video(
                query.GetVideoRequest(video_id=video_id, min_version=min_version, viewer_id=viewer or ""),
                timeout=self._deadlines.read()))
            owner_id = found.video.owner_id
            uploader = tasks.create_task(self._uploader(owner_id, viewer, degraded))
            related = tasks.create_task(self._related(owner_id, video_id, degraded))
        channel = related.result()
        related_videos = [*co_liked.result(), *(channel.videos if channel else ())]
        return self._assemble(viewer, found, uploader.result(), comments.result(), related_videos, degraded)

    async def comments(self, video_id: str, page_size: int, page_token: str) -> web.ListCommentsResponse:
        """A further page of the video's comments (the page itself shows the first)."""
        listed = await core("the comments", self._query.list_comments(
            query.ListCommentsRequest(video_id=video_id, page_size=page_size or COMMENTS_PAGE_SIZE,
                                      page_token=page_token),
            timeout=self._deadlines.read()))
        return web.ListCommentsResponse(comments=[views.comment(entry) for entry in listed.comments],
                                        next_page_token=listed.next_page_token)

    def _assemble(self, viewer: str | None, found: query.GetVideoResponse, uploader: users.GetUserResponse | None,
                  comments: query.ListCommentsResponse | None, related: list[query.VideoCard],
                  degraded: Degraded) -> web.GetVideoPageResponse:
        if uploader is None and viewer is not None:
            degraded.add(VIEWER)  # whether the viewer follows the uploader is unknown
        page = web.GetVideoPageResponse(
            video=views.detail(found.video),
            comments=[views.comment(entry) for entry in (comments.comments if comments else ())],
            comments_next_page_token=comments.next_page_token if comments else "",
            related=views.cards(views.unique(related), excluding=found.video.video_id, limit=RELATED_SIZE),
            viewer=web.ViewerState(
                signed_in=viewer is not None,
                liked=found.viewer_liked,
                following=bool(uploader and uploader.viewer_follows),
                owner=viewer is not None and viewer == found.video.owner_id,
            ),
            stale=found.stale,
            degraded=degraded.names,
            video_query_version=found.served_by_version,
        )
        if uploader is not None:
            page.uploader.CopyFrom(views.channel(uploader.user))
        return page

    async def _comments(self, video_id: str, min_version: int, degraded: Degraded) -> query.ListCommentsResponse | None:
        # With min_version the read model may wait for the viewer's own comment: give it
        # the time of a core read.
        timeout = self._deadlines.read() if min_version else self._deadlines.part()
        return await optional(COMMENTS, self._query.list_comments(
            query.ListCommentsRequest(video_id=video_id, min_version=min_version, page_size=COMMENTS_PAGE_SIZE),
            timeout=timeout), degraded)

    async def _uploader(self, owner_id: str, viewer: str | None, degraded: Degraded) -> users.GetUserResponse | None:
        return await optional(UPLOADER, self._users.get_user(
            users.GetUserRequest(user_id=owner_id, viewer_id=viewer or ""), timeout=self._deadlines.part()), degraded)

    async def _related(self, owner_id: str, video_id: str,
                       degraded: Degraded) -> query.ListChannelVideosResponse | None:
        # One more than shown, since the video itself is usually among its channel's videos.
        return await optional(RELATED, self._query.list_channel_videos(
            query.ListChannelVideosRequest(channel_id=owner_id, page_size=RELATED_SIZE + 1),
            timeout=self._deadlines.part()), degraded)
