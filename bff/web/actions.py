"""The web client's writes: each one domain command, acting as the signed-in user.

The actor always comes from `x-user-id` (the servicer passes it in), never from the
request. A write without a client request_id gets a fresh one, so it is applied once per
call. Writes to a video return its new version, which the client passes back as
min_version to read its own write.
"""

from __future__ import annotations

from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_command_service_pb2 as command
from vidmesh.webbff.v1 import web_bff_service_pb2 as web

from bff.common.deadlines import Deadlines
from bff.common.failures import core
from bff.common.identity import request_id
from bff.common.ports import Downstreams

# Part names for the UNAVAILABLE message.
VIDEO, CHANNEL = "video writes", "follows"


class Actions:
    """Web writes over video-command and users."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._videos, self._users, self._deadlines = downstreams.video_command, downstreams.users, deadlines

    async def create_video(self, actor: str, request: web.CreateVideoRequest) -> web.CreateVideoResponse:
        """A new draft owned by `actor`."""
        created = await core(VIDEO, self._videos.create_video(command.CreateVideoRequest(
            request_id=request_id(request.request_id), actor_id=actor, title=request.title,
            description=request.description, duration_seconds=request.duration_seconds, tags=request.tags,
            media_url=request.media_url), timeout=self._deadlines.write()))
        return web.CreateVideoResponse(video_id=created.video_id, version=created.version)

    async def publish_video(self, actor: str, request: web.PublishVideoRequest) -> web.PublishVideoResponse:
        """Make `actor`'s draft visible to everyone."""
        published = await core(VIDEO, self._videos.publish_video(command.PublishVideoRequest(
            request_id=request_id(request.request_id), actor_id=actor, video_id=request.video_id,
            expected_version=request.expected_version), timeout=self._deadlines.write()))
        return web.PublishVideoResponse(version=published.version)

    async def like_video(self, actor: str, request: web.LikeVideoRequest) -> web.LikeVideoResponse:
        """`actor` likes the video."""
        liked = await core(VIDEO, self._videos.like_video(command.LikeVideoRequest(
            request_id=request_id(request.request_id), actor_id=actor, video_id=request.video_id),
            timeout=self._deadlines.write()))
        return web.LikeVideoResponse(version=liked.version, like_count=liked.like_count)

    async def unlike_video(self, actor: str, request: web.UnlikeVideoRequest) -> web.UnlikeVideoResponse:
        """`actor` no longer likes the video."""
        unliked = await core(VIDEO, self._videos.unlike_video(command.UnlikeVideoRequest(
            request_id=request_id(request.request_id), actor_id=actor, video_id=request.video_id),
            timeout=self._deadlines.write()))
        return web.UnlikeVideoResponse(version=unliked.version, like_count=unliked.like_count)

    async def add_comment(self, actor: str, request: web.AddCommentRequest) -> web.AddCommentResponse:
        """`actor` comments on the video."""
        added = await core(VIDEO, self._videos.add_comment(command.AddCommentRequest(
            request_id=request_id(request.request_id), actor_id=actor, video_id=request.video_id,
            body=request.body), timeout=self._deadlines.write()))
        return web.AddCommentResponse(comment_id=added.comment_id, version=added.version)

    async def record_view(self, viewer: str | None, request: web.RecordViewRequest) -> web.RecordViewResponse:
        """One view of the video; anonymous viewers count too."""
        viewed = await core(VIDEO, self._videos.record_view(command.RecordViewRequest(
            request_id=request_id(request.request_id), actor_id=viewer or "", video_id=request.video_id),
            timeout=self._deadlines.write()))
        return web.RecordViewResponse(version=viewed.version, view_count=viewed.view_count)

    async def follow(self, actor: str, request: web.FollowChannelRequest) -> web.FollowChannelResponse:
        """`actor` follows the channel."""
        followed = await core(CHANNEL, self._users.follow(users.FollowRequest(
            request_id=request_id(request.request_id), follower_id=actor, channel_id=request.user_id),
            timeout=self._deadlines.write()))
        return web.FollowChannelResponse(follower_count=followed.follower_count)

    async def unfollow(self, actor: str, request: web.UnfollowChannelRequest) -> web.UnfollowChannelResponse:
        """`actor` stops following the channel."""
        unfollowed = await core(CHANNEL, self._users.unfollow(users.UnfollowRequest(
            request_id=request_id(request.request_id), follower_id=actor, channel_id=request.user_id),
            timeout=self._deadlines.write()))
        return web.UnfollowChannelResponse(follower_count=unfollowed.follower_count)
